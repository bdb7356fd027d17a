
/// Stops calling a failing dependency for a while, then tries it again carefully: the guide's
/// `CircuitBreaker(failure_threshold, recovery_timeout)` and `breaker.call(...)`.
///
/// Consecutive-failure or failure-rate tripping (count or time window, minimum calls), slow calls
/// counted as failures, a limited number of half-open trials (others rejected), a maximum
/// half-open time, late results of calls from an earlier state dropped (generations), open time
/// fixed or growing, cancellation counted as neither success nor failure, manual isolate / force
/// open / disable / reset, and a snapshot. The state machine is a value behind a lock; events
/// (`breaker.state_changed`, `breaker.rejected`) are emitted after the lock is released.
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
        self.machine = Locked(machine)
        self.configuration = configuration
        self.origin = clock.now
    }

    /// Runs `body` if the breaker admits it; throws ``CircuitOpenError`` otherwise. The body's
    /// own error is rethrown after it is counted.
    public func call<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        // Closed or disabled: admitted without reading the clock (the common case stays cheap).
        var admission = machine.withLock { $0.acquireWithoutTime() }
        var admittedAt: Duration?
        if admission == nil {
            let now = elapsed()
            admittedAt = now
            let (decided, transition) = machine.withLock { $0.acquire(now: now) }
            report(transition)
            admission = decided
        }
        switch admission! {
        case .rejected(let state, let retryAfter):
            bus?.emit(BreakerRejected(breaker: name, state: state.rawValue, retryAfterMs: retryAfter?.milliseconds ?? 0))
            throw CircuitOpenError(breaker: name, state: state, retryAfter: retryAfter)
        case .admitted(let generation):
            let start = configuration.slowCallThreshold == nil ? nil : clock.now
            let outcome: BreakerStateMachine.Outcome
            let result: Result<T, any Error>
            do {
                let value = try await body()
                result = .success(value)
                if let start, let threshold = configuration.slowCallThreshold, start.duration(to: clock.now) > threshold {
                    outcome = .failure
                } else {
                    outcome = .success
                }
            } catch {
                result = .failure(error)
                if error is CancellationError || Task.isCancelled {
                    outcome = .ignored
                } else {
                    outcome = configuration.isFailure(error) ? .failure : .success
                }
            }
            // A plain success changes no time-based state: skip the clock for it.
            let end = outcome == .success && !successNeedsTime ? (admittedAt ?? .zero) : elapsed()
            report(machine.withLock { $0.record(outcome, generation: generation, now: end) })
            return try result.get()
        }
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
        report(machine.withLock { $0.force(state, now: now) })
    }

    /// The current state and counts (an open breaker whose time is up shows as open until the
    /// next call moves it to half-open).
    public var snapshot: Snapshot {
        let now = elapsed()
        return machine.withLock { machine in
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

extension CircuitBreaker where C == ContinuousClock {
    /// A breaker on the continuous clock, as in the guide:
    /// `CircuitBreaker(name: "notion", failureThreshold: 5, recoveryTimeout: .seconds(60))`.
    public convenience init(name: String, failureThreshold: Int = 5, recoveryTimeout: Duration = .seconds(60), bus: EventBus? = nil) {
        self.init(name: name, configuration: CircuitBreakerConfiguration(trip: .consecutiveFailures(failureThreshold),
                                                                         recoveryTimeout: recoveryTimeout),
                  clock: ContinuousClock(), bus: bus)
    }
}
