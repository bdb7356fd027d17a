import Tracing

/// Times operations and reports each as a `timing.recorded` event: the guide's
/// `@timed(operation_name, log_threshold)` and `with timer(name):`.
///
/// A call slower than its threshold is marked `slow` and raised to `warning`; others are `debug`.
/// The outcome is `success`, `fallback` (a ``Fallback`` inside the call answered), `error`, or
/// `cancelled`.
public struct Timing<C: Clock>: Sendable where C.Duration == Duration {
    /// The clock that measures (inject a manual clock in tests).
    public var clock: C
    /// Where events go; `nil` measures without reporting.
    public var bus: EventBus?
    /// The threshold used when a call gives none; `nil`: nothing is slow.
    public var defaultSlowThreshold: Duration?

    /// Creates a timer source.
    public init(clock: C, bus: EventBus?, defaultSlowThreshold: Duration? = nil) {
        self.clock = clock
        self.bus = bus
        self.defaultSlowThreshold = defaultSlowThreshold
    }

    /// Runs and times an async operation; it is recorded on every exit: `success`, `fallback`
    /// (a ``Fallback`` inside answered), `error` or `cancelled`. With a tracer on the bus the
    /// operation is also a span of its name (`hardening.slow` set on a slow call).
    public func timed<T>(_ operation: String, slowThreshold: Duration? = nil,
                         _ body: () async throws -> T) async rethrows -> T {
        guard let spans = HardeningSpans(bus) else { return try await measured(operation, slowThreshold: slowThreshold, body) }
        return try await spans.run(operation, attributes: ["hardening.operation": .string(operation)]) { span in
            try await measured(operation, slowThreshold: slowThreshold, span: span, body)
        }
    }

    private func measured<T>(_ operation: String, slowThreshold: Duration?, span: (any Span)? = nil,
                             _ body: () async throws -> T) async rethrows -> T {
        let call = TimedCall()
        let start = clock.now
        do {
            let value = try await TimedCall.$current.withValue(call) { try await body() }
            record(operation, start.duration(to: clock.now), outcome: call.outcomeOfReturn, slowThreshold: slowThreshold, span: span)
            return value
        } catch {
            let outcome = error is CancellationError ? TimingRecorded.Outcome.cancelled : TimingRecorded.Outcome.error
            record(operation, start.duration(to: clock.now), outcome: outcome, slowThreshold: slowThreshold, span: span)
            throw error
        }
    }

    /// Runs and times a synchronous operation, recorded on every exit like the async one.
    public func timed<T>(_ operation: String, slowThreshold: Duration? = nil, _ body: () throws -> T) rethrows -> T {
        let call = TimedCall()
        let start = clock.now
        do {
            let value = try TimedCall.$current.withValue(call) { try body() }
            record(operation, start.duration(to: clock.now), outcome: call.outcomeOfReturn, slowThreshold: slowThreshold)
            return value
        } catch {
            let outcome = error is CancellationError ? TimingRecorded.Outcome.cancelled : TimingRecorded.Outcome.error
            record(operation, start.duration(to: clock.now), outcome: outcome, slowThreshold: slowThreshold)
            throw error
        }
    }

    /// Starts a timer for code that is not one closure (the guide's `with timer(name):`); call
    /// ``RunningTimer/stop(outcome:)`` when it ends.
    public func start(_ operation: String, slowThreshold: Duration? = nil) -> RunningTimer {
        RunningTimer(timing: self, operation: operation, start: clock.now, slowThreshold: slowThreshold)
    }

    /// A started timer.
    public struct RunningTimer: Sendable {
        let timing: Timing
        let operation: String
        let start: C.Instant
        let slowThreshold: Duration?

        /// Stops the timer, reports it, and returns the duration.
        @discardableResult
        public func stop(outcome: String = "success") -> Duration {
            let duration = start.duration(to: timing.clock.now)
            timing.record(operation, duration, outcome: outcome, slowThreshold: slowThreshold)
            return duration
        }
    }

    func record(_ operation: String, _ duration: Duration, outcome: String, slowThreshold: Duration?, span: (any Span)? = nil) {
        guard let bus else { return }
        let threshold = slowThreshold ?? defaultSlowThreshold
        let slow = threshold.map { duration > $0 } ?? false
        if let span {
            span.attributes["hardening.outcome"] = outcome
            if slow { span.attributes["hardening.slow"] = true }
        }
        bus.emit(TimingRecorded(operation: operation, durationMs: duration.milliseconds, outcome: outcome, slow: slow))
    }
}

extension Timing where C == ContinuousClock {
    /// Timing on the continuous clock.
    public init(bus: EventBus?, defaultSlowThreshold: Duration? = nil) {
        self.init(clock: ContinuousClock(), bus: bus, defaultSlowThreshold: defaultSlowThreshold)
    }
}
