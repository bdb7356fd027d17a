/// How ``Retry`` retries: the Swift form of the guide's
/// `RetryConfig(max_attempts, initial_delay, max_delay, exponential_base, retryable_exceptions)`,
/// with safe defaults (a few attempts, a cap, full jitter, an overall limit).
public struct RetryPolicy: Sendable {
    /// How a computed backoff is randomised, so that many clients do not retry in lockstep.
    public enum Jitter: Sendable, Hashable {
        /// The exact exponential delay.
        case none
        /// Uniform in `0 ... delay` (AWS "full jitter"; the default).
        case full
        /// `delay / 2` plus uniform in `0 ... delay / 2`.
        case equal
        /// Uniform in `initialDelay ... previous * 3`, capped (AWS "decorrelated jitter").
        case decorrelated
    }

    /// Attempts in all, the first included (the guide's `max_attempts`).
    public var maxAttempts: Int
    /// The delay before the second attempt (the guide's `initial_delay`).
    public var initialDelay: Duration
    /// No delay is longer (the guide's `max_delay`).
    public var maxDelay: Duration
    /// Each delay is the previous times this (the guide's `exponential_base`).
    public var multiplier: Double
    /// How delays are randomised.
    public var jitter: Jitter
    /// Retrying stops once this much time has passed since the first attempt, sleeps included;
    /// no sleep ends past it. `nil`: no limit.
    ///
    /// The limit costs one clock read per call, even when the first attempt succeeds (about
    /// 20 ns on a Linux VM). Without it the success path reads no clock, and the elapsed time
    /// that events and ``RetryError`` report counts from the end of the first attempt.
    public var maxElapsed: Duration?
    /// Whether an error is worth another attempt (the guide's `retryable_exceptions`). Task
    /// cancellation is never retried, whatever this says.
    public var isRetryable: @Sendable (any Error) -> Bool

    /// Creates a policy.
    public init(
        maxAttempts: Int = 3,
        initialDelay: Duration = .milliseconds(100),
        maxDelay: Duration = .seconds(10),
        multiplier: Double = 2,
        jitter: Jitter = .full,
        maxElapsed: Duration? = .seconds(30),
        isRetryable: @escaping @Sendable (any Error) -> Bool = { _ in true }
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialDelay = max(.zero, initialDelay)
        self.maxDelay = max(.zero, maxDelay)
        self.multiplier = multiplier.isFinite ? max(1, multiplier) : 2
        self.jitter = jitter
        self.maxElapsed = maxElapsed
        self.isRetryable = isRetryable
    }

    /// Retries only errors of the given types (the guide's `retryable_exceptions=(A, B)`).
    public static func retrying(
        _ types: [any Error.Type], maxAttempts: Int = 3, initialDelay: Duration = .milliseconds(100),
        maxDelay: Duration = .seconds(10), multiplier: Double = 2, jitter: Jitter = .full, maxElapsed: Duration? = .seconds(30)
    ) -> RetryPolicy {
        let names = types.map { ObjectIdentifier($0) }
        return RetryPolicy(maxAttempts: maxAttempts, initialDelay: initialDelay, maxDelay: maxDelay, multiplier: multiplier,
                           jitter: jitter, maxElapsed: maxElapsed,
                           isRetryable: { error in names.contains(ObjectIdentifier(type(of: error))) })
    }

    /// The un-jittered delay after `attempt` (1-based) failed: `initialDelay * multiplier^(attempt-1)`,
    /// capped at `maxDelay`, computed without overflow.
    public func baseDelay(afterAttempt attempt: Int) -> Duration {
        let initial = initialDelay.seconds
        let factor = wholePower(multiplier, Double(max(0, attempt - 1)))
        let seconds = initial * factor
        let cap = maxDelay.seconds
        guard seconds.isFinite, seconds < cap else { return maxDelay }
        return .seconds(seconds)
    }

    /// The delay after `attempt` failed, jittered with `random` (`previous` is the last delay,
    /// for decorrelated jitter).
    public func delay(afterAttempt attempt: Int, previous: Duration?, using random: inout some RandomNumberGenerator) -> Duration {
        let base = baseDelay(afterAttempt: attempt)
        switch jitter {
        case .none:
            return base
        case .full:
            return .seconds(Double.random(in: 0...max(0, base.seconds), using: &random))
        case .equal:
            let half = base.seconds / 2
            return .seconds(half + Double.random(in: 0...max(0, half), using: &random))
        case .decorrelated:
            let low = initialDelay.seconds
            let high = max(low, (previous ?? initialDelay).seconds * 3)
            return min(maxDelay, .seconds(Double.random(in: low...high, using: &random)))
        }
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    public var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }

    /// The duration in milliseconds, as a `Double` (what `_ms` attrs carry).
    public var milliseconds: Double { seconds * 1000 }

    /// A duration of `seconds` seconds, saturating at ±Int64.max seconds.
    static func seconds(_ value: Double) -> Duration {
        guard value.isFinite else { return value > 0 ? .seconds(Int64.max) : .zero }
        if value >= Double(Int64.max) { return .seconds(Int64.max) }
        if value <= -Double(Int64.max) { return .seconds(-Int64.max) }
        let whole = value.rounded(.towardZero)
        return .seconds(Int64(whole)) + .nanoseconds(Int64(((value - whole) * 1e9).rounded()))
    }
}

/// `base` to a whole `exponent` by repeated squaring (no Foundation `pow`).
@usableFromInline
func wholePower(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    var factor = base
    var remaining = Int(exponent)
    while remaining > 0 {
        if remaining & 1 == 1 { result *= factor }
        factor *= factor
        remaining >>= 1
        if result.isInfinite { return result }
    }
    return result
}
