/// Counts by name, with a merge that adds.
public typealias Tally = [String: Int64]

extension Dictionary where Key == String, Value == Int64 {
    /// Adds `amount` to `key`'s count.
    package mutating func add(_ key: String, _ amount: Int64 = 1) { self[key, default: 0].saturatingAdd(amount) }
    /// Adds every count of `other`.
    package mutating func merge(_ other: Tally) { for (key, value) in other { add(key, value) } }
    /// The counts as a JSON object with sorted keys.
    package var json: AttributeValue { .object(Attributes(uniqueKeysWithValues: sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })) }
}

/// Where an event sits in the stream, to order events of different runs and files alike:
/// timestamp, then run, then `seq`.
public struct StreamPosition: Sendable, Hashable, Comparable {
    /// When it was emitted.
    public var timestamp: Timestamp
    /// The run that emitted it.
    public var run: String
    /// Its number in the run.
    public var seq: UInt64

    init(_ event: Event) {
        timestamp = event.timestamp
        run = event.run
        seq = event.seq
    }

    /// A position from its parts.
    public init(timestamp: Timestamp, run: String, seq: UInt64) {
        self.timestamp = timestamp
        self.run = run
        self.seq = seq
    }

    public static func < (lhs: StreamPosition, rhs: StreamPosition) -> Bool {
        (lhs.timestamp, lhs.run, lhs.seq) < (rhs.timestamp, rhs.run, rhs.seq)
    }
}

extension Summary {
    /// One operation's calls, from `timing.recorded`: the guide's `get_summary()` (count, mean,
    /// min, max) with errors and percentiles.
    public struct Operation: Sendable {
        /// Timed calls.
        public var count: Int64 = 0
        /// Calls that ended with an error.
        public var errors: Int64 = 0
        /// Calls that were cancelled.
        public var cancelled: Int64 = 0
        /// Calls that returned because a fallback answered for them.
        public var fallbacks: Int64 = 0
        /// Calls over their slow threshold.
        public var slow: Int64 = 0
        /// Their durations.
        public var latency = LatencyStats()

        mutating func merge(_ other: Operation) {
            count.saturatingAdd(other.count)
            errors.saturatingAdd(other.errors)
            cancelled.saturatingAdd(other.cancelled)
            fallbacks.saturatingAdd(other.fallbacks)
            slow.saturatingAdd(other.slow)
            latency.merge(other.latency)
        }

        var json: AttributeValue {
            var object = latency.json.objectValue ?? Attributes()
            object["errors"] = .int(errors)
            object["cancelled"] = .int(cancelled)
            object["fallbacks"] = .int(fallbacks)
            object["slow"] = .int(slow)
            return .object(object)
        }
    }

    /// One operation's retrying.
    public struct Retries: Sendable, Hashable {
        /// Failed attempts that were retried (`retry.attempt_failed`).
        public var retriedAttempts: Int64 = 0
        /// Calls that succeeded after retrying.
        public var succeededAfterRetry: Int64 = 0
        /// Calls that gave up, by reason.
        public var exhausted: Tally = [:]
        /// Time spent waiting between attempts, in microseconds.
        public var waitedMicroseconds: Int64 = 0

        mutating func record(_ failed: RetryAttemptFailed) {
            retriedAttempts.saturatingAdd(1)
            waitedMicroseconds.saturatingAdd(LatencyStats.microseconds(milliseconds: failed.delayMs))
        }

        /// `count` failed attempts whose delays add up to `delayMs` (an `events.repeated`).
        mutating func record(repeated count: Int64, delayMs: Double) {
            retriedAttempts.saturatingAdd(count)
            waitedMicroseconds.saturatingAdd(LatencyStats.microseconds(milliseconds: delayMs))
        }

        mutating func merge(_ other: Retries) {
            retriedAttempts.saturatingAdd(other.retriedAttempts)
            succeededAfterRetry.saturatingAdd(other.succeededAfterRetry)
            exhausted.merge(other.exhausted)
            waitedMicroseconds.saturatingAdd(other.waitedMicroseconds)
        }

        var json: AttributeValue {
            .object([
                "retried_attempts": .int(retriedAttempts), "succeeded_after_retry": .int(succeededAfterRetry),
                "exhausted": exhausted.json, "waited_ms": .double(Double(waitedMicroseconds) / 1000),
            ])
        }
    }

    /// One breaker's history.
    public struct Breaker: Sendable, Hashable {
        /// Transitions, as `from->to`.
        public var transitions: Tally = [:]
        /// Times it opened.
        public var opened: Int64 = 0
        /// Calls it rejected.
        public var rejected: Int64 = 0
        /// Time spent open, in microseconds, over open periods that ended.
        public var openMicroseconds: Int64 = 0
        /// Each instance (one per run): its first change seen and its latest state.
        var instances: [String: Instance] = [:]

        struct Instance: Sendable {
            var firstFrom: String
            var firstAt: StreamPosition
            var state: String
            var since: StreamPosition
        }

        /// The state of the instance that changed last, and since when.
        public var latest: (state: String, since: Timestamp)? {
            instances.values.max { $0.since < $1.since }.map { ($0.state, $0.since.timestamp) }
        }

        mutating func record(_ change: BreakerStateChanged, at position: StreamPosition) {
            transitions.add("\(change.from)->\(change.to)")
            if change.to == "open" { opened += 1 }
            guard var instance = instances[position.run] else {
                instances[position.run] = Instance(firstFrom: change.from, firstAt: position, state: change.to, since: position)
                return
            }
            addOpenTime(from: instance.state, since: instance.since, to: change.from, at: position)
            instance.state = change.to
            instance.since = position
            instances[position.run] = instance
        }

        /// Closes an open period: the state entered at `since` was open and the change at `at`
        /// leaves open.
        private mutating func addOpenTime(from state: String, since: StreamPosition, to leaving: String, at position: StreamPosition) {
            guard state == "open", leaving == "open", since < position else { return }
            openMicroseconds.saturatingAdd(position.timestamp.microsecondsSinceEpoch &- since.timestamp.microsecondsSinceEpoch)
        }

        mutating func merge(_ other: Breaker) {
            transitions.merge(other.transitions)
            opened.saturatingAdd(other.opened)
            rejected.saturatingAdd(other.rejected)
            openMicroseconds.saturatingAdd(other.openMicroseconds)
            for (run, theirs) in other.instances {
                guard let mine = instances[run] else {
                    instances[run] = theirs
                    continue
                }
                // Two parts of one run's timeline: the open period that spans the cut is closed here.
                let (early, late) = mine.firstAt < theirs.firstAt ? (mine, theirs) : (theirs, mine)
                addOpenTime(from: early.state, since: early.since, to: late.firstFrom, at: late.firstAt)
                instances[run] = Instance(firstFrom: early.firstFrom, firstAt: early.firstAt, state: late.state, since: late.since)
            }
        }

        public static func == (lhs: Breaker, rhs: Breaker) -> Bool { lhs.json == rhs.json }
        public func hash(into hasher: inout Hasher) { hasher.combine(json) }

        var json: AttributeValue {
            var object: Attributes = [
                "transitions": transitions.json, "opened": .int(opened), "rejected": .int(rejected),
                "open_ms": .double(Double(openMicroseconds) / 1000),
            ]
            if let latest {
                object["state"] = .string(latest.state)
                object["state_since"] = .string(latest.since.description)
            }
            return .object(object)
        }
    }

    /// One health check's history.
    public struct Health: Sendable {
        /// Probes run.
        public var probes: Int64 = 0
        /// Probes by status.
        public var byStatus: Tally = [:]
        /// Probe latency.
        public var latency = LatencyStats()
        /// Status changes (`health.changed`).
        public var changes: Int64 = 0
        /// The most recent probe's status and position.
        public var last: (status: String, at: StreamPosition)?

        /// Healthy probes over all probes; `nil` when none ran (a check seen only in
        /// `health.changed`, such as `overall`).
        public var availability: Double? { probes == 0 ? nil : Double(byStatus["healthy", default: 0]) / Double(probes) }

        mutating func merge(_ other: Health) {
            probes.saturatingAdd(other.probes)
            byStatus.merge(other.byStatus)
            latency.merge(other.latency)
            changes.saturatingAdd(other.changes)
            if let theirs = other.last, last.map({ $0.at < theirs.at }) ?? true { last = theirs }
        }

        var json: AttributeValue {
            var object: Attributes = [
                "probes": .int(probes), "by_status": byStatus.json, "availability": availability.map { .double($0) } ?? .null,
                "latency": latency.json, "changes": .int(changes),
            ]
            if let last {
                object["last_status"] = .string(last.status)
                object["last_probe"] = .string(last.at.timestamp.description)
            }
            return .object(object)
        }
    }

    /// One recorded error, kept among the most recent.
    public struct RecentError: Sendable, Hashable {
        /// Where it sits in the stream.
        public var position: StreamPosition
        /// The operation.
        public var operation: String
        /// The error's type.
        public var errorType: String
        /// Its message (redacted).
        public var message: String

        var json: AttributeValue {
            .object([
                "timestamp": .string(position.timestamp.description), "operation": .string(operation),
                "error_type": .string(errorType), "error": .string(message),
            ])
        }
    }

    /// Errors recorded (`error.recorded`): the guide's `get_error_summary()`.
    public struct Errors: Sendable, Hashable {
        /// All errors (the guide's `total_errors`).
        public var total: Int64 = 0
        /// By operation.
        public var byOperation: Tally = [:]
        /// By error type.
        public var byType: Tally = [:]
        /// By the type of the error under the wrappers (a retry's last error): what failed.
        public var byRootCause: Tally = [:]
        /// The most recent ones, oldest first, at most ``Summary/recentErrorLimit``.
        public var recent: [RecentError] = []

        mutating func keep(_ error: RecentError, limit: Int) {
            guard limit > 0 else { return }
            if recent.count == limit {
                guard let oldest = recent.first, oldest.position < error.position else { return }
                recent.removeFirst()
            }
            let index = recent.firstIndex { error.position < $0.position } ?? recent.endIndex
            recent.insert(error, at: index)
        }

        mutating func merge(_ other: Errors, limit: Int) {
            total.saturatingAdd(other.total)
            byOperation.merge(other.byOperation)
            byType.merge(other.byType)
            byRootCause.merge(other.byRootCause)
            for error in other.recent { keep(error, limit: limit) }
        }

        var json: AttributeValue {
            .object([
                "total": .int(total), "by_operation": byOperation.json, "by_type": byType.json,
                "by_root_cause": byRootCause.json, "recent": .array(recent.map(\.json)),
            ])
        }
    }

    /// One recorder or gauge series from swift-metrics (`metric.recorded`).
    public struct Recorded: Sendable {
        /// Values recorded.
        public var count: Int64 = 0
        /// Their sum, in millionths (exact, so it does not depend on the order of events).
        public var sumMillionths: Int64 = 0
        /// The smallest value.
        public var min: Double = .infinity
        /// The largest value.
        public var max: Double = -.infinity
        /// The latest value and where it was in the stream (a gauge's value).
        public var last: (value: Double, at: StreamPosition)?

        mutating func record(_ value: Double, at position: StreamPosition) {
            count += 1
            sumMillionths.saturatingAdd(Int64(Swift.min(Swift.max((value * 1e6).rounded(), -9e18), 9e18)))
            min = Swift.min(min, value)
            max = Swift.max(max, value)
            if last.map({ $0.at < position }) ?? true { last = (value, position) }
        }

        mutating func merge(_ other: Recorded) {
            count.saturatingAdd(other.count)
            sumMillionths.saturatingAdd(other.sumMillionths)
            min = Swift.min(min, other.min)
            max = Swift.max(max, other.max)
            if let theirs = other.last, last.map({ $0.at < theirs.at }) ?? true { last = theirs }
        }

        var json: AttributeValue {
            guard count > 0 else { return .object(["count": 0]) }
            let sum = Double(sumMillionths) / 1e6
            return .object([
                "count": .int(count), "sum": .double(sum), "mean": .double(sum / Double(count)), "min": .double(min),
                "max": .double(max), "last": .double(last?.value ?? 0),
            ])
        }
    }

    /// How complete the picture is.
    public struct Loss: Sendable, Hashable {
        /// Events the bus dropped on overflow (`bus.dropped`).
        public var droppedByBus: Int64 = 0
        /// Events a sink's own queue dropped, by sink (`sink.dropped`): the other sinks have them.
        public var droppedBySinkQueues: Tally = [:]
        /// Sink outages (`sink.failed`).
        public var sinkFailures: Int64 = 0
        /// Events sinks could not write (`sink.recovered`'s `lost_events`).
        public var lostBySinks: Int64 = 0
        /// `bus.dropped`, `sink.failed` and `sink.recovered` events marked `"synthetic": true`
        /// (the workload of `hardening generate`): counted here, never in the loss above.
        public var syntheticEvents: Int64 = 0

        mutating func merge(_ other: Loss) {
            droppedByBus.saturatingAdd(other.droppedByBus)
            droppedBySinkQueues.merge(other.droppedBySinkQueues)
            sinkFailures.saturatingAdd(other.sinkFailures)
            lostBySinks.saturatingAdd(other.lostBySinks)
            syntheticEvents.saturatingAdd(other.syntheticEvents)
        }
    }
}
