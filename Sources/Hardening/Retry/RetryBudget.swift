
/// A token bucket shared by the callers of one client, so that an outage cannot turn into a
/// retry storm (the AWS SDKs' retry quota, gRPC's retry throttling).
///
/// Every retry withdraws ``retryCost`` tokens; every success deposits ``successDeposit`` (up to
/// ``capacity``). When the bucket cannot pay for a retry, retrying stops with
/// ``RetryError/Reason/budget``: first attempts are never refused, only retries.
public final class RetryBudget: Sendable {
    /// The most tokens the bucket holds (and holds at the start).
    public let capacity: Int
    /// Tokens a retry costs.
    public let retryCost: Int
    /// Tokens a success gives back.
    public let successDeposit: Int
    private let tokens: Locked<Int>

    /// Creates a full bucket.
    public init(capacity: Int = 500, retryCost: Int = 5, successDeposit: Int = 1) {
        self.capacity = max(0, capacity)
        self.retryCost = max(0, retryCost)
        self.successDeposit = max(0, successDeposit)
        self.tokens = Locked(self.capacity)
    }

    /// Tokens left.
    public var available: Int { tokens.withLock { $0 } }

    /// Takes the cost of one retry; `false` if the bucket cannot pay.
    public func withdrawForRetry() -> Bool {
        tokens.withLock { tokens in
            guard tokens >= retryCost else { return false }
            tokens -= retryCost
            return true
        }
    }

    /// Records a success.
    public func recordSuccess() {
        tokens.withLock { $0 = min(capacity, $0 + successDeposit) }
    }
}
