/// One operation's calls folded into the current window.
struct TimingAccumulator {
    var outcomes: Tally = [:]
    var slow: Int64 = 0
    var latency = LatencyStats()

    mutating func add(_ call: TimingRecorded) {
        outcomes.add(call.outcome)
        if call.slow { slow += 1 }
        latency.record(milliseconds: call.durationMs)
    }

    /// The window's events: one, or parts when its buckets do not fit one line.
    func payloads(operation: String, windowStart: Timestamp, maxBucketBytes: Int) -> [TimingWindow] {
        let parts = LatencyWindow(latency).parts(maxBucketBytes: maxBucketBytes)
        return parts.enumerated().map { index, part in
            TimingWindow(operation: operation, windowStart: windowStart, outcomes: index == 0 ? outcomes : [:], slow: index == 0 ? slow : 0,
                         latency: part, part: Int64(index + 1), parts: Int64(parts.count))
        }
    }
}

/// One check's probes folded into the current window.
struct HealthAccumulator {
    var byStatus: Tally = [:]
    var latency = LatencyStats()
    var last: (status: String, at: Timestamp, detail: String)?

    mutating func add(_ probe: HealthProbed, at timestamp: Timestamp) {
        byStatus.add(probe.status)
        latency.record(milliseconds: probe.latencyMs)
        if last.map({ $0.at <= timestamp }) ?? true { last = (probe.status, timestamp, probe.detail) }
    }

    func payloads(check: String, windowStart: Timestamp, maxBucketBytes: Int) -> [HealthWindow] {
        let parts = LatencyWindow(latency).parts(maxBucketBytes: maxBucketBytes)
        let last = last ?? ("", windowStart, "")
        return parts.enumerated().map { index, part in
            HealthWindow(check: check, windowStart: windowStart, byStatus: index == 0 ? byStatus : [:], latency: part,
                         lastStatus: last.status, lastAt: last.at, lastDetail: last.detail, part: Int64(index + 1), parts: Int64(parts.count))
        }
    }
}

/// One warning's repeats in the current window: whether its first was written, the latest one
/// held back (written at the window's end, or folded when another comes), and the count of those
/// folded between.
struct RepeatState {
    var subject: Attributes
    var firstWritten = false
    var held: Event?
    var count: Int64 = 0
    var firstAt = Timestamp(microsecondsSinceEpoch: 0)
    var lastAt = Timestamp(microsecondsSinceEpoch: 0)
    var level = EventLevel.trace
    /// `retry.attempt_failed`: the delays, in whole microseconds as the summary adds them.
    var delayMicroseconds: Int64 = 0

    init(subject: Attributes) { self.subject = subject }

    /// Counts `event` as one of the repeats not written.
    mutating func fold(_ event: Event) {
        if count == 0 { firstAt = event.timestamp }
        count += 1
        lastAt = max(lastAt, event.timestamp)
        level = max(level, event.level)
        if event.kind == .retryAttemptFailed, let delay = event.attrs["delay_ms"]?.doubleValue {
            delayMicroseconds.saturatingAdd(LatencyStats.microseconds(milliseconds: delay))
        }
    }

    func payload(kind: EventKind) -> EventsRepeated {
        EventsRepeated(repeatedKind: kind, subject: subject, count: count, firstAt: firstAt, lastAt: lastAt,
                       delayMs: kind == .retryAttemptFailed ? Double(delayMicroseconds) / 1000 : nil)
    }
}
