/// A ``Bulkhead`` refused a call: every slot was busy and the queue was full, or the call waited
/// in the queue longer than allowed.
public struct BulkheadRejectedError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Why the call was refused.
    public enum Reason: String, Sendable, Hashable {
        /// No free slot and no room in the queue.
        case full
        /// The call waited in the queue for the whole of `maxWait`.
        case queueTimeout = "queue_timeout"
    }

    /// The bulkhead's name.
    public var bulkhead: String
    /// Why.
    public var reason: Reason
    /// Calls running when it was refused.
    public var inFlight: Int
    /// Calls waiting when it was refused.
    public var queued: Int

    /// Creates the error.
    public init(bulkhead: String, reason: Reason, inFlight: Int, queued: Int) {
        self.bulkhead = bulkhead
        self.reason = reason
        self.inFlight = inFlight
        self.queued = queued
    }

    public var description: String {
        "bulkhead \(bulkhead) rejected a call (\(reason.rawValue)): \(inFlight) running, \(queued) waiting"
    }
}
