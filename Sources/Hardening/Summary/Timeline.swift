/// What happened over time, in buckets, for charts: per-operation latency and errors, errors
/// recorded, health probes, and every breaker state change (up to a limit per breaker).
///
/// Buckets start one millisecond wide and double in width whenever there would be more than
/// ``maxBuckets``, so memory stays bounded whatever the span of the logs.
public struct Timeline: Sendable {
    /// One bucket of one operation.
    public struct OperationPoint: Sendable, Hashable {
        /// Calls in the bucket.
        public var count: Int64 = 0
        /// Their total duration, in microseconds.
        public var totalMicroseconds: Int64 = 0
        /// The longest, in microseconds.
        public var maxMicroseconds: Int64 = 0
        /// Calls that failed.
        public var errors: Int64 = 0

        mutating func add(micros: Int64, failed: Bool) {
            count += 1
            totalMicroseconds.saturatingAdd(micros)
            maxMicroseconds = max(maxMicroseconds, micros)
            if failed { errors += 1 }
        }
    }

    /// One bucket of one health check.
    public struct ProbePoint: Sendable, Hashable {
        /// Probes that found it healthy.
        public var healthy: Int64 = 0
        /// Probes that found it degraded (working, with a problem: drawn apart from failing).
        public var degraded: Int64 = 0
        /// Probes that found it unhealthy (or any other status).
        public var failing: Int64 = 0

        mutating func add(_ other: ProbePoint) {
            healthy += other.healthy
            degraded += other.degraded
            failing += other.failing
        }

        mutating func add(status: String, _ count: Int64 = 1) {
            switch status {
            case "healthy": healthy += count
            case "degraded": degraded += count
            default: failing += count
            }
        }
    }

    /// One bucket.
    public struct Bucket: Sendable, Hashable {
        /// Per operation.
        public var operations: [String: OperationPoint] = [:]
        /// `error.recorded` events.
        public var errors: Int64 = 0
        /// Events in all.
        public var events: Int64 = 0
        /// Health probes per check.
        public var probes: [String: ProbePoint] = [:]

        mutating func merge(_ other: Bucket) {
            for (name, point) in other.operations {
                var mine = operations[name, default: OperationPoint()]
                mine.count += point.count
                mine.totalMicroseconds.saturatingAdd(point.totalMicroseconds)
                mine.maxMicroseconds = max(mine.maxMicroseconds, point.maxMicroseconds)
                mine.errors += point.errors
                operations[name] = mine
            }
            errors += other.errors
            events += other.events
            for (check, point) in other.probes { probes[check, default: ProbePoint()].add(point) }
        }
    }

    /// A breaker's state change.
    public struct StateChange: Sendable, Hashable {
        /// When.
        public var timestamp: Timestamp
        /// The run of the breaker's process.
        public var run: String
        /// The state entered.
        public var state: String

        /// Creates a state change.
        public init(timestamp: Timestamp, run: String, state: String) {
            self.timestamp = timestamp
            self.run = run
            self.state = state
        }
    }

    /// A health check's latest probe.
    public struct LastProbe: Sendable, Hashable {
        /// When.
        public var timestamp: Timestamp
        /// `healthy`, `degraded` or `unhealthy`.
        public var status: String
        /// What the probe said (empty when it said nothing).
        public var detail: String
    }

    /// An alert that fired or resolved.
    public struct AlertChange: Sendable, Hashable {
        /// When.
        public var timestamp: Timestamp
        /// The rule.
        public var rule: String
        /// The check it watches.
        public var check: String
        /// Whether it fired (or resolved).
        public var fired: Bool
        /// Why it fired (empty for a resolution).
        public var reason: String
    }

    /// The most buckets kept.
    public static let maxBuckets = 1_024
    /// The most recent alert changes kept.
    public static let maxAlertChanges = 50
    /// The most state changes kept per breaker (later ones are counted only).
    public static let maxStateChanges = 5_000

    /// Bucket width, in microseconds.
    public private(set) var width: Int64 = 1_000
    /// Buckets by index (timestamp / width).
    public private(set) var buckets: [Int64: Bucket] = [:]
    /// State changes per breaker, in the order read.
    public private(set) var stateChanges: [String: [StateChange]] = [:]
    /// State changes not kept, per breaker.
    public private(set) var stateChangesNotKept: [String: Int64] = [:]
    /// The latest probe of each health check.
    public private(set) var lastProbes: [String: LastProbe] = [:]
    /// The latest alert changes (at most ``maxAlertChanges``), oldest first.
    public private(set) var alertChanges: [AlertChange] = []

    /// An empty timeline.
    public init() {}

    /// Records `event` through its kind's ``EventPayload/record(into:at:)`` (one event in its
    /// bucket for a kind that is counted only, unknown, or whose attrs do not read).
    public mutating func record(_ event: Event) {
        guard let type = event.kind.payloadType, !type.isCountedOnly, record(type, event) else {
            return recordEvent(at: event.timestamp)
        }
    }

    private mutating func record<P: EventPayload>(_ type: P.Type, _ event: Event) -> Bool {
        guard let payload = try? P(attributes: event.attrs) else { return false }
        payload.record(into: &self, at: StreamPosition(event))
        return true
    }

    /// Counts an event with nothing else to chart.
    package mutating func recordEvent(at timestamp: Timestamp) {
        withBucket(at: timestamp) { $0.events += 1 }
    }

    /// Adds a timed call.
    package mutating func recordTiming(at timestamp: Timestamp, operation: String, durationMs: Double, failed: Bool) {
        withBucket(at: timestamp) { bucket in
            bucket.events += 1
            bucket.operations[operation, default: OperationPoint()].add(micros: LatencyStats.microseconds(milliseconds: durationMs), failed: failed)
        }
    }

    /// How many equal slices of its span a window event is spread over in the charts: its
    /// calls are counted where they happened (within a tenth of the window), not all at its end.
    static let windowSlices: Int64 = 10

    /// Adds a `timing.window`: its line at its end, its calls spread over its span.
    package mutating func recordWindow(from start: Timestamp, to end: Timestamp, operation: String, latency: LatencyWindow, failed: Int64) {
        recordEvent(at: end)
        spread(latency.count, from: start, to: end) { bucket, share, index, slices in
            var point = bucket.operations[operation, default: OperationPoint()]
            point.count += share
            point.totalMicroseconds.saturatingAdd(Self.share(of: latency.totalMicroseconds, index, slices))
            point.maxMicroseconds = max(point.maxMicroseconds, latency.maxMicroseconds)
            point.errors += Self.share(of: failed, index, slices)
            bucket.operations[operation] = point
        }
    }

    /// Adds a `health.window`: its line at its end, its probes spread over its span, and its last probe.
    package mutating func recordWindow(from start: Timestamp, to end: Timestamp, check: String, byStatus: Tally, last: LastProbe?) {
        recordEvent(at: end)
        var total = ProbePoint()
        for (status, count) in byStatus { total.add(status: status, count) }
        spread(total.healthy &+ total.degraded &+ total.failing, from: start, to: end) { bucket, _, index, slices in
            var share = ProbePoint()
            share.healthy = Self.share(of: total.healthy, index, slices)
            share.degraded = Self.share(of: total.degraded, index, slices)
            share.failing = Self.share(of: total.failing, index, slices)
            bucket.probes[check, default: ProbePoint()].add(share)
        }
        if let last, lastProbes[check].map({ $0.timestamp <= last.timestamp }) ?? true { lastProbes[check] = last }
    }

    /// Calls `change` for each slice of `start...end` that gets part of `count`, with the slice's bucket.
    private mutating func spread(_ count: Int64, from start: Timestamp, to end: Timestamp,
                                 _ change: (inout Bucket, _ share: Int64, _ index: Int64, _ slices: Int64) -> Void) {
        guard count > 0 else { return }
        let span = max(0, end.microsecondsSinceEpoch &- start.microsecondsSinceEpoch)
        let slices = span == 0 ? 1 : min(Self.windowSlices, count)
        for index in 0..<slices {
            let share = Self.share(of: count, index, slices)
            guard share > 0 else { continue }
            let middle = start.microsecondsSinceEpoch &+ span / (2 * slices) &* (2 * index + 1)
            withBucket(at: Timestamp(microsecondsSinceEpoch: span == 0 ? end.microsecondsSinceEpoch : middle)) { change(&$0, share, index, slices) }
        }
    }

    /// The `index`-th of `slices` nearly equal shares of `total` (the first ones get the remainder).
    private static func share(of total: Int64, _ index: Int64, _ slices: Int64) -> Int64 {
        total / slices + (index < total % slices ? 1 : 0)
    }

    /// Adds an `error.recorded`.
    package mutating func recordError(at timestamp: Timestamp) {
        withBucket(at: timestamp) { bucket in
            bucket.events += 1
            bucket.errors += 1
        }
    }

    /// Adds a health probe.
    package mutating func recordProbe(at timestamp: Timestamp, check: String, status: String, detail: String) {
        withBucket(at: timestamp) { bucket in
            bucket.events += 1
            bucket.probes[check, default: ProbePoint()].add(status: status)
        }
        let probe = LastProbe(timestamp: timestamp, status: status, detail: detail)
        if let last = lastProbes[check], last.timestamp > timestamp { return }
        lastProbes[check] = probe
    }

    /// Adds an alert's firing or resolution.
    package mutating func recordAlert(at timestamp: Timestamp, rule: String, check: String, fired: Bool, reason: String) {
        recordEvent(at: timestamp)
        keepAlertChanges([AlertChange(timestamp: timestamp, rule: rule, check: check, fired: fired, reason: reason)])
    }

    private mutating func keepAlertChanges(_ changes: [AlertChange]) {
        alertChanges.append(contentsOf: changes)
        alertChanges.sort { ($0.timestamp, $0.rule, $0.check) < ($1.timestamp, $1.rule, $1.check) }
        if alertChanges.count > Self.maxAlertChanges { alertChanges.removeFirst(alertChanges.count - Self.maxAlertChanges) }
    }

    /// Adds a breaker's state change.
    package mutating func recordStateChange(at timestamp: Timestamp, run: String, breaker: String, to state: String) {
        recordEvent(at: timestamp)
        if stateChanges[breaker, default: []].count < Self.maxStateChanges {
            stateChanges[breaker, default: []].append(StateChange(timestamp: timestamp, run: run, state: state))
        } else {
            stateChangesNotKept[breaker, default: 0] += 1
        }
    }

    private mutating func withBucket(at timestamp: Timestamp, _ change: (inout Bucket) -> Void) {
        let index = timestamp.microsecondsSinceEpoch / width
        change(&buckets[index, default: Bucket()])
        if buckets.count > Self.maxBuckets { coarsen(to: width * 2) }
    }

    /// Adds another timeline.
    public mutating func merge(_ other: Timeline) {
        let target = max(width, other.width)
        if target > width { coarsen(to: target) }
        for (index, bucket) in other.buckets {
            let mine = index * other.width / width
            buckets[mine, default: Bucket()].merge(bucket)
        }
        for (breaker, changes) in other.stateChanges {
            let room = Self.maxStateChanges - stateChanges[breaker, default: []].count
            stateChanges[breaker, default: []].append(contentsOf: changes.prefix(max(0, room)))
            stateChangesNotKept[breaker, default: 0] += Int64(max(0, changes.count - max(0, room)))
        }
        for (breaker, count) in other.stateChangesNotKept { stateChangesNotKept[breaker, default: 0] += count }
        for (check, probe) in other.lastProbes where lastProbes[check].map({ $0.timestamp <= probe.timestamp }) ?? true {
            lastProbes[check] = probe
        }
        keepAlertChanges(other.alertChanges)
        while buckets.count > Self.maxBuckets { coarsen(to: width * 2) }
    }

    /// Forgets what happened before `cutoff` (a live view's window): the buckets that end
    /// before it, and each breaker's state changes before it but the last (the state it was in
    /// when the window starts). Latest probes and alert changes are kept.
    public mutating func forget(before cutoff: Timestamp) {
        let firstKept = cutoff.microsecondsSinceEpoch / width
        buckets = buckets.filter { $0.key >= firstKept }
        for (breaker, changes) in stateChanges {
            let before = changes.filter { $0.timestamp < cutoff }
            guard before.count > 1 else { continue }
            let latestBefore = before.max { ($0.timestamp, $0.run) < ($1.timestamp, $1.run) }!
            stateChanges[breaker] = [latestBefore] + changes.filter { $0.timestamp >= cutoff }
        }
    }

    /// This timeline with buckets wide enough that its span has at most `count` of them (for
    /// charts, which want a few hundred points, not a thousand).
    public func coarsened(toAtMost count: Int) -> Timeline {
        guard let first = buckets.keys.min(), let last = buckets.keys.max() else { return self }
        var copy = self
        while (last * width / copy.width) - (first * width / copy.width) + 1 > Int64(max(1, count)) {
            copy.coarsen(to: copy.width * 2)
        }
        return copy
    }

    private mutating func coarsen(to newWidth: Int64) {
        var coarse: [Int64: Bucket] = [:]
        for (index, bucket) in buckets {
            coarse[index * width / newWidth, default: Bucket()].merge(bucket)
        }
        width = newWidth
        buckets = coarse
    }
}
