import Tracing

/// One way to stack the primitives around a call, in one documented order, so that nobody
/// hand-nests closures or retries at two layers by accident.
///
/// From the outside in:
///
/// 1. **fallback** — answers for any failure below it, rejections included;
/// 2. **bulkhead** — bounds the calls in flight before anything waits or retries;
/// 3. **total timeout** — one limit for everything below, the retries' waits included;
/// 4. **retry** (with its budget) — the only layer that repeats the call;
/// 5. **rate limiter** — every attempt takes a permit, because every attempt reaches the
///    dependency; its refusal carries a retry-after that retry honours;
/// 6. **circuit breaker** — counts each attempt, and an attempt that timed out as a failure;
/// 7. **attempt timeout** — bounds one try, and is retried like any failure.
///
/// Each layer is optional, and the order does not depend on the order in which the builder
/// methods are called. Errors keep their types: a failure that ended retrying is a
/// ``RetryError`` whose `lastError` is the attempt's error (``TimeoutError``,
/// ``CircuitOpenError``, ``RateLimitedError`` or the call's own); fallback rules match either.
public struct ResiliencePipeline<C: Clock>: Sendable where C.Duration == Duration {
    /// The clock of every layer's waits and limits.
    public let clock: C
    /// Where every layer's events go.
    public let bus: EventBus?
    /// Layer 2.
    public private(set) var bulkhead: Bulkhead<C>?
    /// Layer 3.
    public private(set) var totalTimeout: Duration?
    /// Layer 4: the policy.
    public private(set) var retryPolicy: RetryPolicy?
    /// Layer 4: the budget shared with other pipelines of the same client.
    public private(set) var retryBudget: RetryBudget?
    /// Layer 5.
    public private(set) var rateLimiter: RateLimiter<C>?
    /// Layer 6.
    public private(set) var breaker: CircuitBreaker<C>?
    /// Layer 7.
    public private(set) var attemptTimeout: Duration?
    /// Seeds retry jitter (tests).
    public private(set) var jitterSeed: UInt64?

    /// An empty pipeline: the call as it is.
    public init(clock: C, bus: EventBus? = nil) {
        self.clock = clock
        self.bus = bus
    }

    /// Adds a bulkhead (layer 2).
    public func bulkhead(_ bulkhead: Bulkhead<C>) -> Self { with { $0.bulkhead = bulkhead } }
    /// Adds a limit on the whole call (layer 3).
    public func totalTimeout(_ timeout: Duration) -> Self { with { $0.totalTimeout = timeout } }
    /// Adds retries (layer 4), optionally paid from a shared budget.
    public func retry(_ policy: RetryPolicy = RetryPolicy(), budget: RetryBudget? = nil, jitterSeed: UInt64? = nil) -> Self {
        with {
            $0.retryPolicy = policy
            $0.retryBudget = budget
            $0.jitterSeed = jitterSeed
        }
    }
    /// Adds a rate limiter (layer 5).
    public func rateLimiter(_ limiter: RateLimiter<C>) -> Self { with { $0.rateLimiter = limiter } }
    /// Adds a circuit breaker (layer 6).
    public func breaker(_ breaker: CircuitBreaker<C>) -> Self { with { $0.breaker = breaker } }
    /// Adds a limit on each attempt (layer 7).
    public func attemptTimeout(_ timeout: Duration) -> Self { with { $0.attemptTimeout = timeout } }

    private func with(_ change: (inout Self) -> Void) -> Self {
        var copy = self
        change(&copy)
        return copy
    }

    /// Runs `body` through every layer; `fallback` (layer 1) answers for failures it matches.
    ///
    /// With a tracer on the bus the call is a span `pipeline <operation>` (its retry, attempts
    /// and breaker calls are child spans; a fallback is a span event on it).
    public func run<T: Sendable>(_ operation: String, fallback: Fallback<T>? = nil,
                                 _ body: @Sendable () async throws -> T) async throws -> T {
        guard let spans = HardeningSpans(bus) else { return try await layered(operation, fallback: fallback, body) }
        return try await spans.run(
            "pipeline \(operation)", attributes: ["hardening.operation": .string(operation)]
        ) { _ in try await layered(operation, fallback: fallback, body) }
    }

    /// Layers 1 to 7.
    private func layered<T: Sendable>(_ operation: String, fallback: Fallback<T>?,
                                      _ body: @Sendable () async throws -> T) async throws -> T {
        guard let fallback else { return try await guarded(operation, body) }
        return try await fallback.run(operation, bus: bus) { try await guarded(operation, body) }
    }

    /// Layers 2 to 7.
    private func guarded<T: Sendable>(_ operation: String, _ body: @Sendable () async throws -> T) async throws -> T {
        let timeouts = Timeout(clock: clock, bus: bus)

        @Sendable func attempt() async throws -> T {
            if let rateLimiter { try await rateLimiter.acquire() }
            @Sendable func bounded() async throws -> T {
                guard let attemptTimeout else { return try await body() }
                return try await timeouts.run(operation, timeout: attemptTimeout, scope: .attempt, body)
            }
            guard let breaker else { return try await bounded() }
            return try await breaker.call(bounded)
        }
        @Sendable func retried() async throws -> T {
            guard let retryPolicy else { return try await attempt() }
            let retry = Retry(policy: retryPolicy, budget: retryBudget, clock: clock, bus: bus, jitterSeed: jitterSeed)
            return try await retry.run(operation, attempt)
        }
        @Sendable func limited() async throws -> T {
            guard let totalTimeout else { return try await retried() }
            return try await timeouts.run(operation, timeout: totalTimeout, scope: .total, retried)
        }
        guard let bulkhead else { return try await limited() }
        return try await bulkhead.run(limited)
    }
}

extension ResiliencePipeline where C == ContinuousClock {
    /// An empty pipeline on the continuous clock.
    public init(bus: EventBus? = nil) {
        self.init(clock: ContinuousClock(), bus: bus)
    }
}
