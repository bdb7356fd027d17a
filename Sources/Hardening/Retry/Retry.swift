import Tracing

/// Runs an operation with retries: exponential backoff with a cap and jitter, limits by attempts,
/// elapsed time and deadline, retry decided on the error and on the result, server hints
/// honoured, a shared ``RetryBudget``, and cancellation that stops at once.
///
/// The Swift form of the guide's `@retry_with_backoff(RetryConfig(...))`. Every failed attempt
/// that will be retried emits `retry.attempt_failed`; a success after at least one retry emits
/// `retry.succeeded`; giving up emits `retry.exhausted` with the reason, and throws a
/// ``RetryError`` that carries the last error, the reason and the attempt count.
///
/// The first attempt runs inline in the caller (``run(_:deadline:retryOnResult:_:)`` is
/// `@inlinable`): a call that succeeds at once costs, with a budget, one atomic load, and with
/// an elapsed limit (``RetryPolicy/maxElapsed``) one clock read, its start. Everything after a
/// failure is out of line.
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
    ///   - body: the call; it runs again after each retryable failure.
    @inlinable @inline(__always)
    public func run<T: Sendable>(
        _ operation: String,
        deadline: C.Instant? = nil,
        retryOnResult: (@Sendable (T) -> Bool)? = nil,
        _ body: @Sendable () async throws -> T
    ) async throws(RetryError) -> T {
        if let bus, bus.opensSpans {
            return try await runTraced(bus, operation, deadline: deadline, retryOnResult: retryOnResult, body)
        }
        // Without an elapsed limit the first attempt reads no clock (see `RetryPolicy.maxElapsed`).
        guard policy.maxElapsed != nil else {
            switch await firstAttempt(retryOnResult, body) {
            case .success(let value): return value
            case .failure(let failure):
                return try await retryAfterFirstFailure(operation, failure, start: nil, deadline: deadline,
                                                        retryOnResult: retryOnResult, body)
            }
        }
        let start = clock.now
        switch await firstAttempt(retryOnResult, body) {
        case .success(let value): return value
        case .failure(let failure):
            return try await retryAfterFirstFailure(operation, failure, start: start, deadline: deadline,
                                                    retryOnResult: retryOnResult, body)
        }
    }

    /// ``run(_:deadline:retryOnResult:_:)`` with a tracer: a span `retry <operation>` around
    /// the call, a child span `attempt <operation>` per attempt (its number, the wait before it,
    /// its error), and the retry's decisions as span events.
    @usableFromInline
    func runTraced<T: Sendable>(
        _ bus: EventBus, _ operation: String, deadline: C.Instant?,
        retryOnResult: (@Sendable (T) -> Bool)?, _ body: @Sendable () async throws -> T
    ) async throws(RetryError) -> T {
        let spans = HardeningSpans(bus)!
        let attempts = RetryAttemptSpans(spans: spans, operation: operation)
        let attributes: SpanAttributes = [
            "hardening.operation": .string(operation), "hardening.retry.max_attempts": .int64(Int64(policy.maxAttempts)),
        ]
        return try await spans.run("retry \(operation)", attributes: attributes) { _ throws(RetryError) -> T in
            let start = policy.maxElapsed != nil ? clock.now : nil
            switch await firstAttempt(retryOnResult, { try await attempts.run(1, after: .zero, body) }) {
            case .success(let value): return value
            case .failure(let failure):
                return try await retryAfterFirstFailure(operation, failure, start: start, deadline: deadline,
                                                        retryOnResult: retryOnResult, attemptSpans: attempts, body)
            }
        }
    }

    /// The first attempt, inline: its value (a success is paid into the budget), or its failure.
    @inlinable @inline(__always)
    func firstAttempt<T: Sendable>(_ retryOnResult: (@Sendable (T) -> Bool)?, _ body: @Sendable () async throws -> T)
        async -> Result<T, any Error>
    {
        do {
            let value = try await body()
            if let retryOnResult, retryOnResult(value) { return .failure(RejectedResult(result: String(describing: value))) }
            budget?.recordSuccess()
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    /// Runs synchronous `body` until it succeeds or retrying stops; waits block the thread
    /// (through `sleep`), so keep this off the concurrency pool's threads for long waits.
    ///
    /// The same decisions, limits and events as ``run(_:deadline:retryOnResult:_:)``; a task
    /// that is cancelled stops retrying at the next decision.
    @inlinable @inline(__always)
    public func runBlocking<T>(
        _ operation: String,
        deadline: C.Instant? = nil,
        retryOnResult: ((T) -> Bool)? = nil,
        sleep: (Duration) -> Void = blockingSleep,
        _ body: () throws -> T
    ) throws(RetryError) -> T {
        guard policy.maxElapsed != nil else {
            switch firstBlockingAttempt(retryOnResult, body) {
            case .success(let value): return value
            case .failure(let failure):
                return try retryBlockingAfterFirstFailure(operation, failure, start: nil, deadline: deadline,
                                                          retryOnResult: retryOnResult, sleep: sleep, body)
            }
        }
        let start = clock.now
        switch firstBlockingAttempt(retryOnResult, body) {
        case .success(let value): return value
        case .failure(let failure):
            return try retryBlockingAfterFirstFailure(operation, failure, start: start, deadline: deadline,
                                                      retryOnResult: retryOnResult, sleep: sleep, body)
        }
    }

    /// The first blocking attempt, inline: its value (a success is paid into the budget), or its failure.
    @inlinable @inline(__always)
    func firstBlockingAttempt<T>(_ retryOnResult: ((T) -> Bool)?, _ body: () throws -> T) -> Result<T, any Error> {
        do {
            let value = try body()
            if let retryOnResult, retryOnResult(value) { return .failure(RejectedResult(result: String(describing: value))) }
            budget?.recordSuccess()
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    /// Everything after a failed first blocking attempt: decide, wait, try again.
    @usableFromInline
    func retryBlockingAfterFirstFailure<T>(
        _ operation: String, _ firstFailure: any Error, start: C.Instant?, deadline: C.Instant?,
        retryOnResult: ((T) -> Bool)?, sleep: (Duration) -> Void, _ body: () throws -> T
    ) throws(RetryError) -> T {
        var attempts = RetryAttempts(self, operation, start: start, deadline: deadline)
        var last = firstFailure
        while true {
            let delay = try attempts.delayBeforeRetrying(after: last)
            if delay > .zero { sleep(delay) }
            if Task.isCancelled { throw attempts.stop(CancellationError(), .cancelled) }
            attempts.attempt += 1
            do {
                let value = try body()
                if let retryOnResult, retryOnResult(value) {
                    last = RejectedResult(result: String(describing: value))
                    continue
                }
                attempts.succeeded()
                return value
            } catch {
                last = error
            }
        }
    }

    /// Everything after a failed first attempt: decide, wait, try again.
    @usableFromInline
    func retryAfterFirstFailure<T: Sendable>(
        _ operation: String, _ firstFailure: any Error, start: C.Instant?, deadline: C.Instant?,
        retryOnResult: (@Sendable (T) -> Bool)?, attemptSpans: RetryAttemptSpans? = nil,
        _ body: @Sendable () async throws -> T
    ) async throws(RetryError) -> T {
        var attempts = RetryAttempts(self, operation, start: start, deadline: deadline)
        var last = firstFailure
        while true {
            let delay = try attempts.delayBeforeRetrying(after: last)
            // A zero wait is no wait: the next attempt runs at once, without giving up the thread
            // (on a busy pool a needless suspension can cost more than the policy's deadline).
            if delay > .zero {
                do {
                    try await clock.sleep(for: delay)
                } catch {
                    throw attempts.stop(error, .cancelled)
                }
            }
            if Task.isCancelled { throw attempts.stop(CancellationError(), .cancelled) }
            attempts.attempt += 1
            do {
                let value: T
                if let attemptSpans {
                    value = try await attemptSpans.run(attempts.attempt, after: delay, body)
                } else {
                    value = try await body()
                }
                if let retryOnResult, retryOnResult(value) {
                    last = RejectedResult(result: String(describing: value))
                    continue
                }
                attempts.succeeded()
                return value
            } catch {
                last = error
            }
        }
    }
}

/// The bookkeeping of one retried call after its first failure, shared by the async and the
/// blocking loop: what to do after a failure, and the events that say so.
@usableFromInline
struct RetryAttempts<C: Clock>: Sendable where C.Duration == Duration {
    let retry: Retry<C>
    let operation: String
    let start: C.Instant
    let limit: C.Instant?
    @usableFromInline var attempt = 1
    var previousDelay: Duration?
    var random: JitterRandom

    /// `start` is when the first attempt began, if it was read (only an elapsed limit needs it);
    /// otherwise elapsed time counts from now, the first failure.
    @usableFromInline
    init(_ retry: Retry<C>, _ operation: String, start: C.Instant?, deadline: C.Instant?) {
        self.retry = retry
        self.operation = operation
        let start = start ?? retry.clock.now
        self.start = start
        var limit = deadline
        if let maxElapsed = retry.policy.maxElapsed {
            let byElapsed = start.advanced(by: maxElapsed)
            limit = limit.map { min($0, byElapsed) } ?? byElapsed
        }
        self.limit = limit
        self.random = JitterRandom(seed: retry.jitterSeed)
    }

    /// After `failure`: the wait before the next attempt (and `retry.attempt_failed`), or the
    /// error that ends retrying (and `retry.exhausted`).
    @usableFromInline
    mutating func delayBeforeRetrying(after failure: any Error) throws(RetryError) -> Duration {
        let policy = retry.policy
        if failure is CancellationError || Task.isCancelled { throw stop(failure, .cancelled) }
        if failure is CircuitOpenError { throw stop(failure, .breakerOpen) }
        guard policy.isRetryable(failure) || failure is RejectedResult else { throw stop(failure, .notRetryable) }
        guard attempt < policy.maxAttempts else { throw stop(failure, .exhausted) }
        var delay = policy.delay(afterAttempt: attempt, previous: previousDelay, using: &random)
        if let hint = (failure as? any RetryAfterProviding)?.retryAfter, hint > delay {
            delay = hint
        }
        // Never sleep past the limit, and never start an attempt that the limit would cut off.
        if let limit, retry.clock.now.advanced(by: delay) >= limit { throw stop(failure, .deadline) }
        if let budget = retry.budget, !budget.withdrawForRetry() { throw stop(failure, .budget) }
        retry.bus?.emit(RetryAttemptFailed(operation: operation, attempt: Int64(attempt), delayMs: delay.milliseconds,
                                           errorType: typeName(failure), error: String(describing: failure)))
        previousDelay = delay
        return delay
    }

    /// A later attempt succeeded.
    @usableFromInline
    func succeeded() {
        retry.budget?.recordSuccess()
        retry.bus?.emit(RetrySucceeded(operation: operation, attempts: Int64(attempt), elapsedMs: elapsed.milliseconds))
    }

    /// Ends retrying: emits `retry.exhausted` and returns the error to throw.
    @usableFromInline
    func stop(_ error: any Error, _ reason: RetryError.Reason) -> RetryError {
        let elapsed = elapsed
        // A refusal at the first attempt is the breaker's event alone: no retry happened.
        if reason == .breakerOpen, attempt == 1 {
            return RetryError(operation: operation, lastError: error, reason: reason, attempts: attempt, elapsed: elapsed)
        }
        retry.bus?.emit(RetryExhausted(operation: operation, attempts: Int64(attempt), elapsedMs: elapsed.milliseconds,
                                       reason: reason.rawValue, errorType: typeName(error), error: String(describing: error)))
        return RetryError(operation: operation, lastError: error, reason: reason, attempts: attempt, elapsed: elapsed)
    }

    private var elapsed: Duration { start.duration(to: retry.clock.now) }

    private func typeName(_ error: any Error) -> String { String(describing: type(of: error)) }
}

extension Retry where C == ContinuousClock {
    /// A retrier on the continuous clock.
    public init(policy: RetryPolicy = RetryPolicy(), budget: RetryBudget? = nil, bus: EventBus? = nil) {
        self.init(policy: policy, budget: budget, clock: ContinuousClock(), bus: bus)
    }
}

/// The guide's `retry_with_backoff`: runs `body` with `policy` on the continuous clock.
@inlinable
public func retryWithBackoff<T: Sendable>(
    _ operation: String, policy: RetryPolicy = RetryPolicy(), bus: EventBus? = nil,
    _ body: @Sendable () async throws -> T
) async throws(RetryError) -> T {
    try await Retry(policy: policy, bus: bus).run(operation, body)
}

/// The jitter's random source: seeded for reproducible tests, or the system's generator.
struct JitterRandom: RandomNumberGenerator {
    var seeded: SplitMix64?
    var system = SystemRandomNumberGenerator()

    init(seed: UInt64?) { seeded = seed.map(SplitMix64.init(seed:)) }

    mutating func next() -> UInt64 {
        if seeded != nil { return seeded!.next() }
        return system.next()
    }
}

/// The child span of each attempt of a traced retry.
@usableFromInline
struct RetryAttemptSpans: Sendable {
    let spans: HardeningSpans
    let operation: String

    @usableFromInline
    init(spans: HardeningSpans, operation: String) {
        self.spans = spans
        self.operation = operation
    }

    /// Runs attempt number `attempt`, which waited `delay` after the previous one, in its span.
    func run<T>(_ attempt: Int, after delay: Duration, _ body: () async throws -> T) async throws -> T {
        let attributes: SpanAttributes = [
            "hardening.operation": .string(operation), "hardening.retry.attempt": .int64(Int64(attempt)),
            "hardening.retry.delay_ms": .double(delay.milliseconds),
        ]
        return try await spans.run("attempt \(operation)", attributes: attributes) { _ in try await body() }
    }
}
