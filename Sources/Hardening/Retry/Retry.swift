/// Runs an async operation with retries: exponential backoff with a cap and jitter, limits by
/// attempts, elapsed time and deadline, retry decided on the error and on the result, server
/// hints honoured, a shared ``RetryBudget``, and cancellation that stops at once.
///
/// The Swift form of the guide's `@retry_with_backoff(RetryConfig(...))`. Every failed attempt
/// that will be retried emits `retry.attempt_failed`; a success after at least one retry emits
/// `retry.succeeded`; giving up emits `retry.exhausted` with the reason, and throws a
/// ``RetryError`` that carries the last error, the reason and the attempt count.
public struct Retry<C: Clock>: Sendable where C.Duration == Duration {
    /// How to retry.
    public var policy: RetryPolicy
    /// The budget shared with other callers of the same client, if any.
    public var budget: RetryBudget?
    /// The clock for waits and elapsed time (inject a manual clock in tests).
    public var clock: C
    /// Where events go; `nil` emits nothing.
    public var bus: EventBus?
    /// Seeds the jitter for reproducible delays; `nil` uses the system's generator.
    public var jitterSeed: UInt64?

    /// Creates a retrier.
    public init(policy: RetryPolicy = RetryPolicy(), budget: RetryBudget? = nil, clock: C, bus: EventBus? = nil,
                jitterSeed: UInt64? = nil) {
        self.policy = policy
        self.budget = budget
        self.clock = clock
        self.bus = bus
        self.jitterSeed = jitterSeed
    }

    /// Runs `body` until it succeeds or retrying stops.
    ///
    /// - Parameters:
    ///   - operation: the name used in events and errors.
    ///   - deadline: an absolute limit for this call, besides the policy's `maxElapsed`.
    ///   - retryOnResult: a result for which this returns `true` is treated as a failure.
    @inlinable
    public func run<T: Sendable>(
        _ operation: String,
        deadline: C.Instant? = nil,
        retryOnResult: (@Sendable (T) -> Bool)? = nil,
        _ body: @Sendable () async throws -> T
    ) async throws(RetryError) -> T {
        var random = JitterRandom(seed: jitterSeed)
        let start = clock.now
        var limit = deadline
        if let maxElapsed = policy.maxElapsed {
            let byElapsed = start.advanced(by: maxElapsed)
            limit = limit.map { min($0, byElapsed) } ?? byElapsed
        }
        var attempt = 0
        var previousDelay: Duration?
        while true {
            attempt += 1
            let failure: any Error
            do {
                if Task.isCancelled { throw CancellationError() }
                let value = try await body()
                if let retryOnResult, retryOnResult(value) {
                    throw RejectedResult(result: String(describing: value))
                }
                budget?.recordSuccess()
                if attempt > 1 {
                    bus?.emit(RetrySucceeded(operation: operation, attempts: Int64(attempt),
                                             elapsedMs: start.duration(to: clock.now).milliseconds))
                }
                return value
            } catch {
                failure = error
            }
            let elapsed = start.duration(to: clock.now)
            if failure is CancellationError || Task.isCancelled {
                throw stop(operation, failure, .cancelled, attempt, elapsed)
            }
            guard policy.isRetryable(failure) || failure is RejectedResult else {
                throw stop(operation, failure, .notRetryable, attempt, elapsed)
            }
            guard attempt < policy.maxAttempts else {
                throw stop(operation, failure, .exhausted, attempt, elapsed)
            }
            var delay = policy.delay(afterAttempt: attempt, previous: previousDelay, using: &random)
            if let hint = (failure as? any RetryAfterProviding)?.retryAfter, hint > delay {
                delay = hint
            }
            if let limit, clock.now.advanced(by: delay) >= limit {
                throw stop(operation, failure, .deadline, attempt, elapsed)
            }
            if let budget, !budget.withdrawForRetry() {
                throw stop(operation, failure, .budget, attempt, elapsed)
            }
            bus?.emit(RetryAttemptFailed(operation: operation, attempt: Int64(attempt), delayMs: delay.milliseconds,
                                         errorType: Retry.typeName(failure), error: String(describing: failure)))
            do {
                try await clock.sleep(for: delay)
            } catch {
                throw stop(operation, error, .cancelled, attempt, start.duration(to: clock.now))
            }
            previousDelay = delay
        }
    }

    @usableFromInline
    func stop(_ operation: String, _ error: any Error, _ reason: RetryError.Reason, _ attempts: Int,
                      _ elapsed: Duration) -> RetryError {
        bus?.emit(RetryExhausted(operation: operation, attempts: Int64(attempts), elapsedMs: elapsed.milliseconds,
                                 reason: reason.rawValue, errorType: Retry.typeName(error), error: String(describing: error)))
        return RetryError(operation: operation, lastError: error, reason: reason, attempts: attempts, elapsed: elapsed)
    }

    @usableFromInline
    static func typeName(_ error: any Error) -> String { String(describing: type(of: error)) }
}

extension Retry where C == ContinuousClock {
    /// A retrier on the continuous clock.
    public init(policy: RetryPolicy = RetryPolicy(), budget: RetryBudget? = nil, bus: EventBus? = nil) {
        self.init(policy: policy, budget: budget, clock: ContinuousClock(), bus: bus)
    }
}

/// The guide's `retry_with_backoff`: runs `body` with `policy` on the continuous clock.
public func retryWithBackoff<T: Sendable>(
    _ operation: String, policy: RetryPolicy = RetryPolicy(), bus: EventBus? = nil,
    _ body: @Sendable () async throws -> T
) async throws(RetryError) -> T {
    try await Retry(policy: policy, bus: bus).run(operation, body)
}

/// The jitter's random source: seeded for reproducible tests, or the system's generator.
@usableFromInline
struct JitterRandom: RandomNumberGenerator {
    @usableFromInline var seeded: SplitMix64?
    @usableFromInline var system = SystemRandomNumberGenerator()

    @inlinable
    init(seed: UInt64?) { seeded = seed.map(SplitMix64.init(seed:)) }

    @inlinable
    mutating func next() -> UInt64 {
        if seeded != nil { return seeded!.next() }
        return system.next()
    }
}
