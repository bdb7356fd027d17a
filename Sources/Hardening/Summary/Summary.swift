/// Everything the events say, folded: per-operation latency and errors, retries, breakers,
/// fallbacks, timeouts, bulkheads, rate limiters, errors, health, configuration, alerts, runs
/// and loss. docs/design.md invariant 1: the live process and `hardening replay` fold the same
/// delivered events with this same code, so their summaries (compared as JSON) are equal.
///
/// The fold depends on the order of events only within a run (breaker timelines), and summaries
/// of different runs or hosts ``merge(_:)`` into the summary of them all.
public struct Summary: Sendable {
    /// How many recent errors are kept.
    public static let recentErrorLimit = 20

    /// Events folded, in all.
    public var events: Int64 = 0
    /// Events by kind.
    public var byKind: Tally = [:]
    /// Events by level.
    public var byLevel: Tally = [:]
    /// Timed operations (`timing.recorded`).
    public var operations: [String: Operation] = [:]
    /// Retrying per operation.
    public var retries: [String: Retries] = [:]
    /// Breakers by name.
    public var breakers: [String: Breaker] = [:]
    /// Fallbacks used per operation, by fallback name.
    public var fallbacks: [String: Tally] = [:]
    /// Timeouts per operation, by scope.
    public var timeouts: [String: Tally] = [:]
    /// Bulkhead rejections per bulkhead, by reason.
    public var bulkheads: [String: Tally] = [:]
    /// Rate-limiter rejections per limiter.
    public var rateLimiters: Tally = [:]
    /// Recorded errors.
    public var errors = Errors()
    /// Health checks by name.
    public var health: [String: Health] = [:]
    /// The latest status of each configuration key.
    public var config: [String: String] = [:]
    /// Alerts fired and resolved, per `rule/check`.
    public var alertsFired: Tally = [:]
    /// Alerts resolved, per `rule/check`.
    public var alertsResolved: Tally = [:]
    /// swift-metrics counters by series (`name{key=value}`): their totals.
    public var counters: Tally = [:]
    /// swift-metrics recorders and gauges by series.
    public var recorders: [String: Recorded] = [:]
    /// Runs by id.
    public var runs: [String: Run] = [:]
    /// What was dropped or lost on the way.
    public var loss = Loss()
    /// Events of known kinds whose attrs could not be read, by kind (counted, otherwise skipped).
    public var malformed: Tally = [:]

    /// An empty summary.
    public init() {}

    /// The summary of `events`.
    public init(folding events: some Sequence<Event>) {
        for event in events { fold(event) }
    }

    /// Adds one delivered event. A file's header (`file.opened`) belongs to the file, not to
    /// the stream, and is skipped; its closing record (`file.closed`) only tells the run's coverage
    /// how far the run went.
    public mutating func fold(_ event: Event) {
        guard event.kind != .fileOpened else { return }
        guard event.kind != .fileClosed else { return recordClosing(event) }
        recordRun(event)
        foldContent(event)
    }

    /// Counts `event` in its run's coverage only (its `seq`, its time span), not in the rest:
    /// replay does this for events its filters leave out, so that holes in `seq` still mean
    /// lost events.
    public mutating func recordRun(_ event: Event) {
        guard event.kind != .fileOpened else { return }
        guard event.kind != .fileClosed else { return recordClosing(event) }
        recordRun(run: event.run, service: event.service, host: event.host, timestamp: event.timestamp, seq: event.seq)
    }

    /// A `file.closed` record: the highest `seq` the run's file sink was given, so that events
    /// lost after the last one written count as lost (``Run/lostTail``).
    mutating func recordClosing(_ event: Event) {
        guard !event.run.isEmpty, let closed = try? event.payload(as: FileClosed.self), closed.lastSeqReceived > 0 else { return }
        if runs[event.run] == nil {
            // A placeholder until the run's events are merged in: times that every real event
            // replaces, so the record never moves the run's first or last time.
            var placeholder = Run(service: event.service, host: event.host, timestamp: event.timestamp, seq: 0)
            placeholder.first = Timestamp(microsecondsSinceEpoch: .max)
            placeholder.last = Timestamp(microsecondsSinceEpoch: 0)
            runs[event.run] = placeholder
        }
        runs[event.run]!.announcedHighest = max(runs[event.run]!.announcedHighest, UInt64(closed.lastSeqReceived))
    }

    /// ``recordRun(_:)`` from the envelope's fields (replay's byte scanner calls this).
    public mutating func recordRun(run: String, service: String, host: String, timestamp: Timestamp, seq: UInt64) {
        guard !run.isEmpty else { return }
        if runs[run] == nil {
            runs[run] = Run(service: service, host: host, timestamp: timestamp, seq: seq)
        } else {
            runs[run]!.record(service: service, host: host, timestamp: timestamp, seq: seq)
        }
    }

    /// Adds a stretch of one run gathered elsewhere (replay's byte scanner gathers a run's
    /// events before handing them over): the same as recording each of its events.
    public mutating func recordRun(_ run: String, stretch: Run) {
        guard !run.isEmpty else { return }
        if runs[run] == nil { runs[run] = stretch } else { runs[run]!.merge(stretch) }
    }

    /// Counts an event by kind and level (the first step of ``foldContent(_:)``).
    public mutating func count(kind: EventKind, level: EventLevel, times: Int64 = 1) {
        events += times
        byKind.add(kind.rawValue, times)
        byLevel.add(level.rawValue, times)
    }

    /// Folds `event` into everything but its run's coverage (see ``recordRun(_:)``).
    public mutating func foldContent(_ event: Event) {
        guard event.kind != .fileOpened else { return }
        count(kind: event.kind, level: event.level)
        do {
            try foldPayload(event)
        } catch {
            malformed.add(event.kind.rawValue)
        }
    }

    private mutating func foldPayload(_ event: Event) throws(PayloadDecodingError) {
        if event.kind == .busDropped || event.kind == .sinkDropped || event.kind == .sinkFailed || event.kind == .sinkRecovered,
            event.attrs["synthetic"] == .bool(true)
        {
            // `hardening generate`'s made-up drops and outages: shown apart, never real loss.
            loss.syntheticEvents += 1
            return
        }
        switch event.kind {
        case .timingRecorded:
            apply(try event.payload(as: TimingRecorded.self))
        case .retryAttemptFailed:
            apply(try event.payload(as: RetryAttemptFailed.self))
        case .retrySucceeded:
            apply(try event.payload(as: RetrySucceeded.self))
        case .retryExhausted:
            apply(try event.payload(as: RetryExhausted.self))
        case .breakerStateChanged:
            apply(try event.payload(as: BreakerStateChanged.self), at: StreamPosition(event))
        case .breakerRejected:
            apply(try event.payload(as: BreakerRejected.self))
        case .fallbackUsed:
            apply(try event.payload(as: FallbackUsed.self))
        case .timeoutFired:
            let fired = try event.payload(as: TimeoutFired.self)
            timeouts[fired.operation, default: [:]].add(fired.scope)
        case .bulkheadRejected:
            let rejected = try event.payload(as: BulkheadRejected.self)
            bulkheads[rejected.bulkhead, default: [:]].add(rejected.reason)
        case .rateLimiterRejected:
            rateLimiters.add(try event.payload(as: RateLimiterRejected.self).limiter)
        case .errorRecorded:
            apply(try event.payload(as: ErrorRecorded.self), at: StreamPosition(event))
        case .healthProbed:
            apply(try event.payload(as: HealthProbed.self), at: StreamPosition(event))
        case .healthChanged:
            apply(try event.payload(as: HealthChanged.self))
        case .configChecked:
            apply(try event.payload(as: ConfigChecked.self))
        case .alertFired:
            apply(try event.payload(as: AlertFired.self))
        case .alertResolved:
            apply(try event.payload(as: AlertResolved.self))
        case .metricCounted:
            apply(try event.payload(as: MetricCounted.self))
        case .metricRecorded:
            apply(try event.payload(as: MetricRecorded.self), at: StreamPosition(event))
        case .busDropped:
            loss.droppedByBus.saturatingAdd(try event.payload(as: BusDropped.self).count)
        case .sinkDropped:
            let dropped = try event.payload(as: SinkDropped.self)
            loss.droppedBySinkQueues.add(dropped.sink, dropped.count)
        case .sinkFailed:
            _ = try event.payload(as: SinkFailed.self)
            loss.sinkFailures += 1
        case .sinkRecovered:
            loss.lostBySinks.saturatingAdd(try event.payload(as: SinkRecovered.self).lostEvents)
        default:
            break
        }
    }

    // MARK: - One payload each (the decoded path and replay's byte scanner both end here)

    /// Folds a `timing.recorded`.
    public mutating func apply(_ timing: TimingRecorded) {
        operations[timing.operation, default: Operation()].record(timing)
    }

    /// Folds a `retry.attempt_failed`.
    public mutating func apply(_ failed: RetryAttemptFailed) {
        retries[failed.operation, default: Retries()].record(failed)
    }

    /// Folds a `retry.succeeded`.
    public mutating func apply(_ succeeded: RetrySucceeded) {
        retries[succeeded.operation, default: Retries()].succeededAfterRetry += 1
    }

    /// Folds a `retry.exhausted`.
    public mutating func apply(_ exhausted: RetryExhausted) {
        retries[exhausted.operation, default: Retries()].exhausted.add(exhausted.reason)
    }

    /// Folds a `breaker.state_changed` at its place in the stream.
    public mutating func apply(_ change: BreakerStateChanged, at position: StreamPosition) {
        breakers[change.breaker, default: Breaker()].record(change, at: position)
    }

    /// Folds a `breaker.rejected`.
    public mutating func apply(_ rejected: BreakerRejected) {
        breakers[rejected.breaker, default: Breaker()].rejected += 1
    }

    /// Folds a `fallback.used`.
    public mutating func apply(_ used: FallbackUsed) {
        fallbacks[used.operation, default: [:]].add(used.fallback)
    }

    /// Folds an `error.recorded` at its place in the stream (its context is not summarised).
    public mutating func apply(_ recorded: ErrorRecorded, at position: StreamPosition) {
        errors.total += 1
        errors.byOperation.add(recorded.operation)
        errors.byType.add(recorded.errorType)
        errors.keep(RecentError(position: position, operation: recorded.operation, errorType: recorded.errorType,
                                message: recorded.error), limit: Self.recentErrorLimit)
    }

    /// Folds a `health.probed` at its place in the stream (its observed values are not summarised).
    public mutating func apply(_ probe: HealthProbed, at position: StreamPosition) {
        health[probe.check, default: Health()].record(probe, at: position)
    }

    /// Folds a `health.changed`.
    public mutating func apply(_ change: HealthChanged) {
        health[change.check, default: Health()].changes += 1
    }

    /// Folds a `config.checked`.
    public mutating func apply(_ checked: ConfigChecked) {
        config[checked.key] = checked.status
    }

    /// Folds an `alert.fired`.
    public mutating func apply(_ fired: AlertFired) {
        alertsFired.add("\(fired.rule)/\(fired.check)")
    }

    /// Folds an `alert.resolved`.
    public mutating func apply(_ resolved: AlertResolved) {
        alertsResolved.add("\(resolved.rule)/\(resolved.check)")
    }

    /// Folds a `metric.counted`.
    public mutating func apply(_ counted: MetricCounted) {
        counters.add(Attributes.series(counted.name, counted.dimensions), counted.delta)
    }

    /// Folds a `metric.recorded` at its place in the stream.
    public mutating func apply(_ recorded: MetricRecorded, at position: StreamPosition) {
        recorders[Attributes.series(recorded.name, recorded.dimensions), default: Recorded()].record(recorded.value, at: position)
    }

    /// Adds another summary: of other runs, hosts or files.
    public mutating func merge(_ other: Summary) {
        events += other.events
        byKind.merge(other.byKind)
        byLevel.merge(other.byLevel)
        operations.merge(other.operations) { mine, theirs in with(mine) { $0.merge(theirs) } }
        retries.merge(other.retries) { mine, theirs in with(mine) { $0.merge(theirs) } }
        breakers.merge(other.breakers) { mine, theirs in with(mine) { $0.merge(theirs) } }
        fallbacks.merge(other.fallbacks) { mine, theirs in with(mine) { $0.merge(theirs) } }
        timeouts.merge(other.timeouts) { mine, theirs in with(mine) { $0.merge(theirs) } }
        bulkheads.merge(other.bulkheads) { mine, theirs in with(mine) { $0.merge(theirs) } }
        rateLimiters.merge(other.rateLimiters)
        errors.merge(other.errors, limit: Self.recentErrorLimit)
        health.merge(other.health) { mine, theirs in with(mine) { $0.merge(theirs) } }
        config.merge(other.config) { _, theirs in theirs }
        alertsFired.merge(other.alertsFired)
        alertsResolved.merge(other.alertsResolved)
        counters.merge(other.counters)
        recorders.merge(other.recorders) { mine, theirs in with(mine) { $0.merge(theirs) } }
        runs.merge(other.runs) { mine, theirs in with(mine) { $0.merge(theirs) } }
        loss.merge(other.loss)
        malformed.merge(other.malformed)
    }

    /// Events that never arrived, over every run (holes in `seq`).
    public var missingEvents: UInt64 { runs.values.reduce(0) { $0 + $1.missing } }
    /// Events lost after the last one written, as the runs' `file.closed` records tell.
    public var lostTailEvents: UInt64 { runs.values.reduce(0) { $0 + $1.lostTail } }

}

private func with<T>(_ value: T, _ change: (inout T) -> Void) -> T {
    var copy = value
    change(&copy)
    return copy
}

extension Summary.Operation {
    mutating func record(_ timing: TimingRecorded) {
        count += 1
        switch timing.outcome {
        case "error": errors += 1
        case "cancelled": cancelled += 1
        default: break
        }
        if timing.slow { slow += 1 }
        latency.record(milliseconds: timing.durationMs)
    }
}

extension Summary.Health {
    mutating func record(_ probe: HealthProbed, at position: StreamPosition) {
        probes += 1
        byStatus.add(probe.status)
        latency.record(milliseconds: probe.latencyMs)
        if last.map({ $0.at < position }) ?? true { last = (probe.status, position) }
    }
}


