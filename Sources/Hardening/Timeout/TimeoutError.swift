/// An operation ran out of time. Thrown only when the time limit fired: when the caller's own
/// task is cancelled, the operation ends with `CancellationError` instead, so the two are never
/// confused.
public struct TimeoutError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Which limit fired.
    public enum Scope: String, Sendable, Hashable {
        /// One attempt's limit.
        case attempt
        /// The whole call's limit, retries and waits included.
        case total
    }

    /// The operation's name.
    public var operation: String
    /// The limit that was reached.
    public var timeout: Duration
    /// Which limit fired.
    public var scope: Scope

    /// Creates the error.
    public init(operation: String, timeout: Duration, scope: Scope) {
        self.operation = operation
        self.timeout = timeout
        self.scope = scope
    }

    public var description: String { "\(operation) timed out after \(timeout.milliseconds) ms (\(scope.rawValue))" }
}
