import Synchronization
import Tracing

/// Stops calling a failing dependency for a while, then tries it again carefully: the guide's
/// `CircuitBreaker(failure_threshold, recovery_timeout)` and `breaker.call(...)`.
///
/// Consecutive-failure or failure-rate tripping (count or time window, minimum calls), slow calls
/// counted as failures, a limited number of half-open trials (others rejected), a maximum
/// half-open time, late results of calls from an earlier state dropped (generations), open time
/// fixed or growing, cancellation counted as neither success nor failure, manual isolate / force
/// open / disable / reset, and a snapshot. The state machine is a value behind a lock; events
/// (`breaker.state_changed`, `breaker.rejected`) are emitted after the lock is released.
///
/// The common case, a closed breaker in consecutive-failure mode with no failure pending, takes
/// no lock: one atomic word holds "admit freely", the generation and a success count, so a call
/// costs an atomic load and a compare-and-swap. Whoever takes the lock first empties that word
/// into the state machine, so every count stays exact.
public final class CircuitBreaker<C: Clock>: Sendable where C.Duration == Duration {
    /// What the breaker looks like now.
    public struct Snapshot: Sendable, Hashable {
        /// The state.
        public var state: CircuitBreakerState
        /// Failures in a row (consecutive mode) since the last transition.
        public var consecutiveFailures: Int
        /// Failures since the last transition.
        public var failures: Int
        /// Successes since the last transition.
        public var successes: Int
        /// Calls and failures in the failure-rate window.
        public var windowCalls: Int
        /// Failures in the failure-rate window.
        public var windowFailures: Int
        /// Transitions so far.
        public var generation: UInt64
        /// Time until an open breaker admits trials.
        public var retryAfter: Duration?
    }

    /// The breaker's name in events and errors.
    public let name: String
    /// The clock (inject a manual clock in tests).
    public let clock: C
    /// Where events go.
    public let bus: EventBus?
    /// The lock-free admission word (see ``BreakerFastPath``).
    @usableFromInline let fastPath: Atomic<UInt64>
    /// Whether calls must be timed (a slow-call threshold is set): those take the counted path.
    @usableFromInline let timesCalls: Bool
    private let machine: Locked<BreakerStateMachine>
    private let origin: C.Instant
    private let configuration: CircuitBreakerConfiguration
    private let successNeedsTime: Bool

    /// Creates a closed breaker.
    public init(name: String, configuration: CircuitBreakerConfiguration = CircuitBreakerConfiguration(), clock: C,
                bus: EventBus? = nil) {
        self.name = name
        self.clock = clock
        self.bus = bus
        let machine = BreakerStateMachine(configuration: configuration)
        self.successNeedsTime = machine.successNeedsTime
        self.fastPath = Atomic(BreakerFastPath.word(for: machine))
        self.timesCalls = configuration.slowCallThreshold != nil
        self.machine = Locked(machine)
        self.configuration = configuration
        self.origin = clock.now
    }

    /// Runs `body` if the breaker admits it; throws ``CircuitOpenError`` otherwise. The body's
    /// own error is rethrown after it is counted.
    ///
    /// With a tracer on the bus the call is a span `breaker <name>`: a rejection fails it with
    /// a `breaker.rejected` span event, a transition the call causes is a `breaker.state_changed`
    /// span event, and `hardening.breaker.state` is the state after the call.
    @inlinable
    public func call<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if let bus, bus.opensSpans { return try await callTraced(bus, body) }
        let word = fastPath.load(ordering: .acquiring)
        guard BreakerFastPath.admits(word), !timesCalls else { return try await callCounted(body) }
        let value: T
        do {
            value = try await body()
        } catch {
            recordAfterFreeAdmission(error, word: word)
            throw error
        }
        if !countSuccessWithoutLock(admittedWith: word) { recordAfterFreeAdmission(nil, word: word) }
        return value
    }

    /// Adds one success to the fast word if it still admits freely in the call's generation.
    @inlinable
    func countSuccessWithoutLock(admittedWith word: UInt64) -> Bool {
        var current = fastPath.load(ordering: .relaxed)
        while BreakerFastPath.canCount(current, admittedWith: word) {
            let (exchanged, original) = fastPath.weakCompareExchange(
                expected: current, desired: current &+ 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// The outcome of a freely admitted call that the fast word could not take: a failure, a
    /// cancellation, or a success after the state moved on.
    @usableFromInline
    func recordAfterFreeAdmission(_ error: (any Error)?, word: UInt64) {
        let outcome = error.map(outcome(of:)) ?? .success
        let now = outcome == .success && !successNeedsTime ? Duration.zero : elapsed()
        report(mutate { $0.record(outcome, generation: BreakerFastPath.generation(of: word), now: now) })
    }

    /// ``call(_:)`` in a span.
    @usableFromInline
    func callTraced<T: Sendable>(_ bus: EventBus, _ body: @Sendable () async throws -> T) async throws -> T {
        try await HardeningSpans(bus)!.run("breaker \(name)", attributes: ["hardening.breaker.name": .string(name)]) { span in
            defer { span.attributes["hardening.breaker.state"] = snapshot.state.rawValue }
            return try await callCounted(body)
        }
    }

    /// The path that takes the lock: every state but "closed, nothing pending", and timed calls.
    @usableFromInline
    func callCounted<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        let admission = try admit()
        let result: Result<T, any Error>
        do {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        complete(admission, result.failureError)
        return try result.get()
    }

    /// Runs synchronous `body` if the breaker admits it; throws ``CircuitOpenError`` otherwise:
    /// the same decisions and events as ``call(_:)`` (the guide's `breaker.call(fn)` for a plain
    /// function; named like `Retry.runBlocking`, so that an async caller's `call` never changes).
    public func callBlocking<T>(_ body: () throws -> T) throws -> T {
        let admission = try admit()
        let result: Result<T, any Error>
        do {
            result = .success(try body())
        } catch {
            result = .failure(error)
        }
        complete(admission, result.failureError)
        return try result.get()
    }

    /// A call the lock admitted: its generation, and what timing its outcome needs.
    @usableFromInline
    struct Admission: Sendable {
        let generation: UInt64
        let admittedAt: Duration?
        let start: C.Instant?
    }

    /// Admits a call through the lock, or rejects it (`breaker.rejected`).
    @usableFromInline
    func admit() throws(CircuitOpenError) -> Admission {
        // Closed or disabled: admitted without reading the clock (the common case stays cheap).
        var admission = mutate { $0.acquireWithoutTime() }
        var admittedAt: Duration?
        if admission == nil {
            let now = elapsed()
            admittedAt = now
            let (decided, transition) = mutate { $0.acquire(now: now) }
            report(transition)
            admission = decided
        }
        switch admission! {
        case .rejected(let state, let retryAfter):
            bus?.emit(BreakerRejected(breaker: name, state: state.rawValue, retryAfterMs: retryAfter?.milliseconds ?? 0))
            throw CircuitOpenError(breaker: name, state: state, retryAfter: retryAfter)
        case .admitted(let generation):
            return Admission(generation: generation, admittedAt: admittedAt, start: timesCalls ? clock.now : nil)
        }
    }

    /// Records the outcome of an admitted call (`nil`: it returned).
    @usableFromInline
    func complete(_ admission: Admission, _ error: (any Error)?) {
        let outcome: BreakerStateMachine.Outcome
        if let error {
            outcome = self.outcome(of: error)
        } else if let start = admission.start, let threshold = configuration.slowCallThreshold, start.duration(to: clock.now) > threshold {
            outcome = .failure
        } else {
            outcome = .success
        }
        // A plain success changes no time-based state: skip the clock for it.
        let end = outcome == .success && !successNeedsTime ? (admission.admittedAt ?? .zero) : elapsed()
        report(mutate { $0.record(outcome, generation: admission.generation, now: end) })
    }

    private func outcome(of error: any Error) -> BreakerStateMachine.Outcome {
        if error is CancellationError || Task.isCancelled { return .ignored }
        return configuration.isFailure(error) ? .failure : .success
    }

    /// Opens the breaker now, for the normal open time.
    public func forceOpen() { force(.open) }
    /// Rejects every call until ``reset()``.
    public func isolate() { force(.isolated) }
    /// Lets every call through without counting, until ``reset()``.
    public func disable() { force(.disabled) }
    /// Closes the breaker and clears its counts.
    public func reset() { force(.closed) }

    /// Time since the breaker was made: the state machine's clock.
    private func elapsed() -> Duration { origin.duration(to: clock.now) }

    private func force(_ state: CircuitBreakerState) {
        let now = elapsed()
        report(mutate { $0.force(state, now: now) })
    }

    /// Runs `body` on the state machine under the lock, after emptying the fast word into it,
    /// and publishes the new fast word.
    private func mutate<R>(_ body: (inout BreakerStateMachine) -> R) -> R {
        machine.withLock { machine in
            let word = fastPath.exchange(0, ordering: .acquiringAndReleasing)
            if BreakerFastPath.admits(word) {
                machine.absorbSuccesses(BreakerFastPath.successes(in: word), generation: BreakerFastPath.generation(of: word))
            }
            let result = body(&machine)
            fastPath.store(BreakerFastPath.word(for: machine), ordering: .releasing)
            return result
        }
    }

    /// The current state and counts (an open breaker whose time is up shows as open until the
    /// next call moves it to half-open).
    public var snapshot: Snapshot {
        let now = elapsed()
        return mutate { machine in
            Snapshot(state: machine.state, consecutiveFailures: machine.consecutiveFailures, failures: machine.failures,
                     successes: machine.successes, windowCalls: machine.windowCalls, windowFailures: machine.windowFailures,
                     generation: machine.generation, retryAfter: machine.reopensAt.map { max(.zero, $0 - now) })
        }
    }

    private func report(_ transition: BreakerStateMachine.Transition?) {
        guard let transition, let bus else { return }
        bus.emit(BreakerStateChanged(breaker: name, from: transition.from.rawValue, to: transition.to.rawValue,
                                     reason: transition.reason, failures: Int64(transition.failures),
                                     successes: Int64(transition.successes)))
    }
}

/// The layout of a breaker's lock-free word: bit 63 "admit freely", bits 32–62 the generation
/// (masked), bits 0–31 successes counted since the lock last emptied it.
@usableFromInline
enum BreakerFastPath {
    @usableFromInline static let admitFlag: UInt64 = 1 << 63
    @usableFromInline static let countMask: UInt64 = 0xFFFF_FFFF
    @usableFromInline static let stateMask: UInt64 = ~countMask

    @inlinable
    static func admits(_ word: UInt64) -> Bool { word & admitFlag != 0 }

    /// Whether `current` still admits freely in the generation `word` was admitted in, with room
    /// in the count.
    @inlinable
    static func canCount(_ current: UInt64, admittedWith word: UInt64) -> Bool {
        current & stateMask == word & stateMask && current & countMask != countMask && admits(current)
    }

    static func generation(of word: UInt64) -> UInt64 { (word & ~admitFlag) >> 32 }

    static func successes(in word: UInt64) -> Int { Int(word & countMask) }

    static func word(for machine: BreakerStateMachine) -> UInt64 {
        guard machine.admitsWithoutLock else { return 0 }
        return admitFlag | (machine.generation & BreakerStateMachine.generationMask) << 32
    }
}

extension CircuitBreaker where C == ContinuousClock {
    /// A breaker on the continuous clock, as in the guide:
    /// `CircuitBreaker(name: "notion", failureThreshold: 5, recoveryTimeout: .seconds(60))`.
    public convenience init(name: String, failureThreshold: Int = 5, recoveryTimeout: Duration = .seconds(60), bus: EventBus? = nil) {
        self.init(name: name, configuration: CircuitBreakerConfiguration(trip: .consecutiveFailures(failureThreshold),
                                                                         recoveryTimeout: recoveryTimeout),
                  clock: ContinuousClock(), bus: bus)
    }
}

extension Result {
    /// The error of a failure, `nil` for a success.
    var failureError: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
