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
        guard event.kind != .fileOpened else { return recordOpening(event) }
        guard event.kind != .fileClosed else { return recordClosing(event) }
        recordRun(event)
        foldContent(event)
    }

    /// Counts `event` in its run's coverage only (its `seq`, its time span), not in the rest:
    /// replay does this for events its filters leave out, so that holes in `seq` still mean
    /// lost events.
    package mutating func recordRun(_ event: Event) {
        guard event.kind != .fileOpened else { return recordOpening(event) }
        guard event.kind != .fileClosed else { return recordClosing(event) }
        recordRun(run: event.run, service: event.service, host: event.host, timestamp: event.timestamp, seq: event.seq)
    }

    /// A `file.closed` record: the highest `seq` the run's file sink was given, so that events
    /// lost after the last one written count as lost (``Run/lostTail``).
    mutating func recordClosing(_ event: Event) {
        guard !event.run.isEmpty, let closed = try? event.payload(as: FileClosed.self), closed.lastSeqReceived > 0 else { return }
        addPlaceholderRun(for: event)
        runs[event.run]!.announcedHighest = max(runs[event.run]!.announcedHighest, UInt64(closed.lastSeqReceived))
    }

    /// A file's header (`file.opened`): where the run's files read begin (``Run/beforeFirstFile``)
    /// and a minimum level, which makes the run's holes in `seq` events below it, not lost ones
    /// (``Run/belowMinimumLevel``).
    mutating func recordOpening(_ event: Event) {
        guard !event.run.isEmpty, let opened = try? event.payload(as: FileOpened.self), opened.firstSeq > 0 else { return }
        addPlaceholderRun(for: event)
        // The run's earliest file read: what came before it was written to files not read
        // (deleted by retention, or not named), not lost.
        let firstSeq = UInt64(opened.firstSeq)
        runs[event.run]!.firstFileSeq = min(runs[event.run]!.firstFileSeq ?? firstSeq, firstSeq)
        if let level = opened.minLevel.flatMap({ EventLevel(name: $0) }), level > .trace {
            runs[event.run]!.filesMinimumLevel = max(runs[event.run]!.filesMinimumLevel ?? level, level)
        }
    }

    /// A placeholder until the run's events are merged in: times that every real event replaces,
    /// so a file's own record never moves the run's first or last time.
    private mutating func addPlaceholderRun(for event: Event) {
        guard runs[event.run] == nil else { return }
        var placeholder = Run(service: event.service, host: event.host, timestamp: event.timestamp, seq: 0)
        placeholder.first = Timestamp(microsecondsSinceEpoch: .max)
        placeholder.last = Timestamp(microsecondsSinceEpoch: 0)
        runs[event.run] = placeholder
    }

    /// ``recordRun(_:)`` from the envelope's fields (replay's byte scanner calls this).
    package mutating func recordRun(run: String, service: String, host: String, timestamp: Timestamp, seq: UInt64) {
        guard !run.isEmpty else { return }
        if runs[run] == nil {
            runs[run] = Run(service: service, host: host, timestamp: timestamp, seq: seq)
        } else {
            runs[run]!.record(service: service, host: host, timestamp: timestamp, seq: seq)
        }
    }

    /// Adds a stretch of one run gathered elsewhere (replay's byte scanner gathers a run's
    /// events before handing them over): the same as recording each of its events.
    package mutating func recordRun(_ run: String, stretch: Run) {
        guard !run.isEmpty else { return }
        if runs[run] == nil { runs[run] = stretch } else { runs[run]!.merge(stretch) }
    }

    /// Counts an event by kind and level (the first step of ``foldContent(_:)``).
    package mutating func count(kind: EventKind, level: EventLevel, times: Int64 = 1) {
        events.saturatingAdd(times)
        byKind.add(kind.rawValue, times)
        byLevel.add(level.rawValue, times)
    }

    /// Folds `event` into everything but its run's coverage (see ``recordRun(_:)``): its
    /// counts, then its payload through the kind's ``EventPayload/fold(into:at:)`` (attrs that
    /// do not read as the payload count in ``malformed``).
    package mutating func foldContent(_ event: Event) {
        guard event.kind != .fileOpened else { return }
        count(kind: event.kind, level: event.level)
        guard let type = event.kind.payloadType, !type.isCountedOnly else { return }
        do {
            try foldPayload(type, event.attrs, at: StreamPosition(event))
        } catch {
            malformed.add(event.kind.rawValue)
        }
    }

    private mutating func foldPayload<P: EventPayload>(_ type: P.Type, _ attrs: Attributes, at position: StreamPosition)
        throws(PayloadDecodingError)
    {
        try P(attributes: attrs).fold(into: &self, at: position)
    }

    /// Adds another summary: of other runs, hosts or files.
    public mutating func merge(_ other: Summary) {
        events.saturatingAdd(other.events)
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

    /// The time `breaker` spent open, in microseconds: its open periods that ended, and one still
    /// open at the end measured to the last event of its run (a breaker open when the logs end
    /// has been open all that while, not for no time).
    public func openMicroseconds(of breaker: String) -> Int64 {
        guard let history = breakers[breaker] else { return 0 }
        var total = history.openMicroseconds
        for (run, instance) in history.instances where instance.state == "open" {
            guard let last = runs[run]?.last else { continue }
            let open = last.microsecondsSinceEpoch &- instance.since.timestamp.microsecondsSinceEpoch
            if open > 0 { total.saturatingAdd(open) }
        }
        return total
    }

    /// Events that never arrived, over every run (holes in `seq`).
    public var missingEvents: UInt64 { runs.values.reduce(0) { $0.saturatingPlus($1.missing) } }
    /// Events lost after the last one written, as the runs' `file.closed` records tell.
    public var lostTailEvents: UInt64 { runs.values.reduce(0) { $0.saturatingPlus($1.lostTail) } }

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
        case TimingRecorded.Outcome.error: errors += 1
        case TimingRecorded.Outcome.cancelled: cancelled += 1
        case TimingRecorded.Outcome.fallback: fallbacks += 1
        default: break
        }
        if timing.slow { slow += 1 }
        latency.record(milliseconds: timing.durationMs)
    }

    /// A window of calls: the same as recording each of them.
    mutating func record(_ window: TimingWindow) {
        count.saturatingAdd(window.latency.count)
        errors.saturatingAdd(window.outcomes[TimingRecorded.Outcome.error, default: 0])
        cancelled.saturatingAdd(window.outcomes[TimingRecorded.Outcome.cancelled, default: 0])
        fallbacks.saturatingAdd(window.outcomes[TimingRecorded.Outcome.fallback, default: 0])
        slow.saturatingAdd(window.slow)
        latency.merge(window.latency)
    }
}

extension LatencyStats {
    /// Adds a window's durations: its totals and buckets, or a later part's buckets alone.
    package mutating func merge(_ window: LatencyWindow) {
        if window.count > 0 {
            merge(LatencyStats(window))
        } else {
            addBuckets(window.buckets)
        }
    }
}

extension Summary.Health {
    mutating func record(_ probe: HealthProbed, at position: StreamPosition) {
        probes += 1
        byStatus.add(probe.status)
        latency.record(milliseconds: probe.latencyMs)
        if last.map({ $0.at < position }) ?? true { last = (probe.status, position) }
    }

    /// A window of probes: the same as recording each of them.
    mutating func record(_ window: HealthWindow, at position: StreamPosition) {
        probes.saturatingAdd(window.latency.count)
        byStatus.merge(window.byStatus)
        latency.merge(window.latency)
        guard window.latency.count > 0 else { return }
        let lastProbe = StreamPosition(timestamp: window.lastAt, run: position.run, seq: position.seq)
        if last.map({ $0.at < lastProbe }) ?? true { last = (window.lastStatus, lastProbe) }
    }
}


