import Synchronization

/// A token bucket shared by the callers of one client, so that an outage cannot turn into a
/// retry storm (the AWS SDKs' retry quota, gRPC's retry throttling).
///
/// Every retry withdraws ``retryCost`` tokens; every success deposits ``successDeposit`` (up to
/// ``capacity``). When the bucket cannot pay for a retry, retrying stops with
/// ``RetryError/Reason/budget``: first attempts are never refused, only retries.
///
/// The tokens are one atomic integer: a success on a full bucket is a single load, and
/// concurrent callers never wait for each other.
public final class RetryBudget: Sendable {
    /// The most tokens the bucket holds (and holds at the start).
    public let capacity: Int
    /// Tokens a retry costs.
    public let retryCost: Int
    /// Tokens a success gives back.
    public let successDeposit: Int
    private let tokens: Atomic<Int>

    /// Creates a full bucket.
    public init(capacity: Int = 500, retryCost: Int = 5, successDeposit: Int = 1) {
        self.capacity = max(0, capacity)
        self.retryCost = max(0, retryCost)
        self.successDeposit = max(0, successDeposit)
        self.tokens = Atomic(self.capacity)
    }

    /// Tokens left.
    public var available: Int { tokens.load(ordering: .relaxed) }

    /// Takes the cost of one retry; `false` if the bucket cannot pay.
    public func withdrawForRetry() -> Bool {
        var current = tokens.load(ordering: .relaxed)
        while true {
            guard current >= retryCost else { return false }
            let (exchanged, original) = tokens.weakCompareExchange(
                expected: current, desired: current - retryCost, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    /// Records a success.
    public func recordSuccess() {
        var current = tokens.load(ordering: .relaxed)
        while current < capacity {
            let (exchanged, original) = tokens.weakCompareExchange(
                expected: current, desired: min(capacity, current + successDeposit), ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }
}
