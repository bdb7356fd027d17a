/// Everything the events say, folded: per-operation latency and errors, retries, breakers,
/// fallbacks, timeouts, bulkheads, rate limiters, errors, health, configuration, alerts, runs
/// and loss. DESIGN.md invariant 1: the live process and `hardening replay` fold the same
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
    /// the stream, and is skipped.
    public mutating func fold(_ event: Event) {
        guard event.kind != .fileOpened else { return }
        recordRun(event)
        foldContent(event)
    }

    /// Counts `event` in its run's coverage only (its `seq`, its time span), not in the rest:
    /// replay does this for events its filters leave out, so that holes in `seq` still mean
    /// lost events.
    public mutating func recordRun(_ event: Event) {
        guard event.kind != .fileOpened, !event.run.isEmpty else { return }
        runs[event.run, default: Run(service: event.service, host: event.host, first: event.timestamp, last: event.timestamp)]
            .record(event)
    }

    /// Folds `event` into everything but its run's coverage (see ``recordRun(_:)``).
    public mutating func foldContent(_ event: Event) {
        guard event.kind != .fileOpened else { return }
        events += 1
        byKind.add(event.kind.rawValue)
        byLevel.add(event.level.rawValue)
        do {
            try foldPayload(event)
        } catch {
            malformed.add(event.kind.rawValue)
        }
    }

    private mutating func foldPayload(_ event: Event) throws(PayloadDecodingError) {
        switch event.kind {
        case .timingRecorded:
            let timing = try event.payload(as: TimingRecorded.self)
            operations[timing.operation, default: Operation()].record(timing)
        case .retryAttemptFailed:
            let failed = try event.payload(as: RetryAttemptFailed.self)
            retries[failed.operation, default: Retries()].retriedAttempts += 1
            retries[failed.operation, default: Retries()].waitedMicroseconds &+= Self.micros(failed.delayMs)
        case .retrySucceeded:
            retries[try event.payload(as: RetrySucceeded.self).operation, default: Retries()].succeededAfterRetry += 1
        case .retryExhausted:
            let exhausted = try event.payload(as: RetryExhausted.self)
            retries[exhausted.operation, default: Retries()].exhausted.add(exhausted.reason)
        case .breakerStateChanged:
            let change = try event.payload(as: BreakerStateChanged.self)
            breakers[change.breaker, default: Breaker()].record(change, at: StreamPosition(event))
        case .breakerRejected:
            breakers[try event.payload(as: BreakerRejected.self).breaker, default: Breaker()].rejected += 1
        case .fallbackUsed:
            let used = try event.payload(as: FallbackUsed.self)
            fallbacks[used.operation, default: [:]].add(used.fallback)
        case .timeoutFired:
            let fired = try event.payload(as: TimeoutFired.self)
            timeouts[fired.operation, default: [:]].add(fired.scope)
        case .bulkheadRejected:
            let rejected = try event.payload(as: BulkheadRejected.self)
            bulkheads[rejected.bulkhead, default: [:]].add(rejected.reason)
        case .rateLimiterRejected:
            rateLimiters.add(try event.payload(as: RateLimiterRejected.self).limiter)
        case .errorRecorded:
            let recorded = try event.payload(as: ErrorRecorded.self)
            errors.total += 1
            errors.byOperation.add(recorded.operation)
            errors.byType.add(recorded.errorType)
            errors.keep(RecentError(position: StreamPosition(event), operation: recorded.operation, errorType: recorded.errorType,
                                    message: recorded.error), limit: Self.recentErrorLimit)
        case .healthProbed:
            let probe = try event.payload(as: HealthProbed.self)
            health[probe.check, default: Health()].record(probe, at: StreamPosition(event))
        case .healthChanged:
            health[try event.payload(as: HealthChanged.self).check, default: Health()].changes += 1
        case .configChecked:
            let checked = try event.payload(as: ConfigChecked.self)
            config[checked.key] = checked.status
        case .alertFired:
            let fired = try event.payload(as: AlertFired.self)
            alertsFired.add("\(fired.rule)/\(fired.check)")
        case .alertResolved:
            let resolved = try event.payload(as: AlertResolved.self)
            alertsResolved.add("\(resolved.rule)/\(resolved.check)")
        case .busDropped:
            loss.droppedByBus += try event.payload(as: BusDropped.self).count
        case .sinkFailed:
            _ = try event.payload(as: SinkFailed.self)
            loss.sinkFailures += 1
        case .sinkRecovered:
            loss.lostBySinks += try event.payload(as: SinkRecovered.self).lostEvents
        default:
            break
        }
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
        runs.merge(other.runs) { mine, theirs in with(mine) { $0.merge(theirs) } }
        loss.merge(other.loss)
        malformed.merge(other.malformed)
    }

    /// Events that never arrived, over every run (holes in `seq`).
    public var missingEvents: UInt64 { runs.values.reduce(0) { $0 + $1.missing } }

    static func micros(_ milliseconds: Double) -> Int64 {
        milliseconds.isFinite ? Int64(min(max(0, (milliseconds * 1000).rounded()), 9e18)) : 0
    }
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

extension Summary.Run {
    mutating func record(_ event: Event) {
        first = min(first, event.timestamp)
        last = max(last, event.timestamp)
        seen.insert(event.seq)
    }
}
