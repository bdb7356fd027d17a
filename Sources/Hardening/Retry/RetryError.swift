/// Retrying ended without success.
public struct RetryError: Error, CustomStringConvertible, @unchecked Sendable {
    /// Why retrying stopped.
    public enum Reason: String, Sendable, Hashable {
        /// All attempts failed.
        case exhausted
        /// The next wait would end past the deadline or the policy's `maxElapsed`.
        case deadline
        /// The shared ``RetryBudget`` could not pay for another retry.
        case budget
        /// The error was not retryable.
        case notRetryable = "not_retryable"
        /// The task was cancelled.
        case cancelled
        /// A circuit breaker refused the call (`CircuitOpenError`): never retried. The breaker's
        /// `breaker.rejected` says so; `retry.exhausted` only follows when earlier attempts were
        /// made, so the retry counters never count a refusal as a retried call.
        case breakerOpen = "breaker_open"
    }

    /// The operation's name.
    public var operation: String
    /// The last error (for ``Reason/cancelled`` while waiting: a `CancellationError`).
    public var lastError: any Error
    /// Why retrying stopped.
    public var reason: Reason
    /// Attempts made.
    public var attempts: Int
    /// Time from the first attempt until retrying stopped.
    public var elapsed: Duration

    /// Creates the error.
    public init(operation: String, lastError: any Error, reason: Reason, attempts: Int, elapsed: Duration) {
        self.operation = operation
        self.lastError = lastError
        self.reason = reason
        self.attempts = attempts
        self.elapsed = elapsed
    }

    public var description: String {
        "\(operation) failed after \(attempts) attempt(s) (\(reason.rawValue)): \(lastError)"
    }
}

/// An error that carries a server's hint of when to try again (HTTP `Retry-After`, a 429 body).
/// ``Retry`` waits at least that long before the next attempt.
public protocol RetryAfterProviding: Error {
    /// How long the server asked to wait, if it said.
    var retryAfter: Duration? { get }
}

/// Thrown into the retry loop when `retryOnResult` rejects a result.
public struct RejectedResult: Error, CustomStringConvertible, Sendable {
    /// What was rejected, described.
    public var result: String

    /// Creates the error.
    public init(result: String) { self.result = result }

    public var description: String { "result rejected: \(result)" }
}
