/// A ``RateLimiter`` refused a call: no permit would be free within the time the caller was
/// willing to wait. ``Retry`` honours ``retryAfter``.
public struct RateLimitedError: Error, Hashable, Sendable, CustomStringConvertible, RetryAfterProviding {
    /// The limiter's name.
    public var limiter: String
    /// When a permit will be free.
    public var retryAfter: Duration?

    /// Creates the error.
    public init(limiter: String, retryAfter: Duration) {
        self.limiter = limiter
        self.retryAfter = retryAfter
    }

    public var description: String {
        "rate limiter \(limiter) has no permit; one is free in \((retryAfter ?? .zero).milliseconds) ms"
    }
}
