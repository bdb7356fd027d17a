/// `timing.window`: an operation's routine calls over one window, under the production detail
/// (``EventVolume``): successful calls that were not slow, and calls of a failing outcome after
/// the first and before the last of the window (those two are written in full). Folding it
/// gives the same ``Summary/Operation`` as folding each call.
public struct TimingWindow: EventPayload {
    public static let kind = EventKind.timingWindow
    /// The operation.
    public var operation: String
    /// When the window began (the event's `timestamp` is when it ended).
    public var windowStart: Timestamp
    /// The calls by outcome (`success`, `fallback`, `error`, `cancelled`); empty in a later part.
    public var outcomes: Tally
    /// Calls over their slow threshold.
    public var slow: Int64
    /// Their durations.
    public var latency: LatencyWindow
    /// Which part of the window this is, from 1 (a window whose buckets do not fit one line is
    /// written in parts).
    public var part: Int64
    /// How many parts the window has.
    public var parts: Int64

    /// Creates the payload.
    public init(operation: String, windowStart: Timestamp, outcomes: Tally, slow: Int64 = 0, latency: LatencyWindow,
                part: Int64 = 1, parts: Int64 = 1) {
        self.operation = operation
        self.windowStart = windowStart
        self.outcomes = outcomes
        self.slow = slow
        self.latency = latency
        self.part = part
        self.parts = parts
    }

    public var message: String {
        guard latency.count > 0 else { return "\(operation): more buckets of its window (part \(part) of \(parts))" }
        let outcomes = outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "\(operation): \(latency.count) call(s) (\(outcomes)), mean \(millisecondsText(Double(latency.totalMicroseconds) / Double(latency.count) / 1000)) ms, "
            + "max \(millisecondsText(Double(latency.maxMicroseconds) / 1000)) ms"
    }

    public var attributes: Attributes {
        var attrs = Attributes()
        attrs.reserveCapacity(14)
        attrs.appendUnchecked("operation", .string(operation))
        attrs.appendUnchecked("window_start", .string(windowStart.description))
        if latency.count > 0 {
            attrs.appendUnchecked("outcomes", outcomes.json)
            attrs.appendUnchecked("slow", .int(slow))
        }
        appendLatencyAndParts(latency, part: part, parts: parts, to: &attrs)
        return attrs
    }

    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        operation = try reader.string("operation")
        windowStart = try readTimestamp(&reader, "window_start", kind: Self.kind)
        latency = try LatencyWindow(reading: &reader, kind: Self.kind)
        outcomes = try readTally(&reader, "outcomes", kind: Self.kind)
        slow = max(0, try reader.optionalInt("slow") ?? 0)
        (part, parts) = try readParts(&reader, kind: Self.kind)
    }
}

/// `health.window`: a check's probes over one window that changed nothing (the same status as
/// the probe before), under the production detail (``EventVolume``). A probe whose status
/// differs from the one before is written in full as `health.probed`.
public struct HealthWindow: EventPayload {
    public static let kind = EventKind.healthWindow
    /// The check's name.
    public var check: String
    /// When the window began (the event's `timestamp` is when it ended).
    public var windowStart: Timestamp
    /// The probes by status; empty in a later part.
    public var byStatus: Tally
    /// Their latency.
    public var latency: LatencyWindow
    /// The status of the window's last probe.
    public var lastStatus: String
    /// When the window's last probe ran.
    public var lastAt: Timestamp
    /// What the window's last probe said.
    public var lastDetail: String
    /// Which part of the window this is, from 1.
    public var part: Int64
    /// How many parts the window has.
    public var parts: Int64

    /// Creates the payload.
    public init(check: String, windowStart: Timestamp, byStatus: Tally, latency: LatencyWindow, lastStatus: String, lastAt: Timestamp,
                lastDetail: String, part: Int64 = 1, parts: Int64 = 1) {
        self.check = check
        self.windowStart = windowStart
        self.byStatus = byStatus
        self.latency = latency
        self.lastStatus = lastStatus
        self.lastAt = lastAt
        self.lastDetail = lastDetail
        self.part = part
        self.parts = parts
    }

    public var message: String {
        guard latency.count > 0 else { return "health check \(check): more buckets of its window (part \(part) of \(parts))" }
        return "health check \(check): \(latency.count) probe(s) \(lastStatus), mean \(millisecondsText(Double(latency.totalMicroseconds) / Double(latency.count) / 1000)) ms"
    }

    public var attributes: Attributes {
        var attrs = Attributes()
        attrs.reserveCapacity(15)
        attrs.appendUnchecked("check", .string(check))
        attrs.appendUnchecked("window_start", .string(windowStart.description))
        if latency.count > 0 {
            attrs.appendUnchecked("by_status", byStatus.json)
            attrs.appendUnchecked("last_status", .string(lastStatus))
            attrs.appendUnchecked("last_at", .string(lastAt.description))
            attrs.appendUnchecked("last_detail", .string(lastDetail))
        }
        appendLatencyAndParts(latency, part: part, parts: parts, to: &attrs)
        return attrs
    }

    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        check = try reader.string("check")
        windowStart = try readTimestamp(&reader, "window_start", kind: Self.kind)
        latency = try LatencyWindow(reading: &reader, kind: Self.kind)
        if latency.count > 0 {
            byStatus = try readTally(&reader, "by_status", kind: Self.kind)
            lastStatus = try reader.string("last_status")
            lastAt = try readTimestamp(&reader, "last_at", kind: Self.kind)
            lastDetail = try reader.optionalString("last_detail") ?? ""
        } else {
            byStatus = [:]
            lastStatus = ""
            lastAt = windowStart
            lastDetail = ""
        }
        (part, parts) = try readParts(&reader, kind: Self.kind)
    }
}

/// `events.repeated`: the same warning again and again while nothing changed (a breaker's
/// rejections while it is open, a fallback answering, the same timeout), under the production
/// detail (``EventVolume``): the first and the last of a window are written in full, and this
/// counts the ones between, exactly, as syslog's "last message repeated N times" does.
public struct EventsRepeated: EventPayload {
    public static let kind = EventKind.eventsRepeated
    /// The kind that repeated.
    public var repeatedKind: EventKind
    /// The attrs the repeated events had in common (the breaker, the
    /// operation and fallback, …).
    public var subject: Attributes
    /// How many were not written.
    public var count: Int64
    /// When the first of them was emitted.
    public var firstAt: Timestamp
    /// When the last of them was emitted.
    public var lastAt: Timestamp
    /// For `retry.attempt_failed`: the sum of their delays before the next attempt, in
    /// milliseconds.
    public var delayMs: Double?

    /// Creates the payload.
    public init(repeatedKind: EventKind, subject: Attributes, count: Int64, firstAt: Timestamp, lastAt: Timestamp, delayMs: Double? = nil) {
        self.repeatedKind = repeatedKind
        self.subject = subject
        self.count = count
        self.firstAt = firstAt
        self.lastAt = lastAt
        self.delayMs = delayMs
    }

    public var defaultLevel: EventLevel { .warning }
    public var message: String {
        let about = subject.pairs.map { "\($0.key) \($0.value.stringValue ?? "")" }.joined(separator: ", ")
        return "\(repeatedKind) repeated \(count) more time(s) (\(about)) from \(firstAt) to \(lastAt)"
    }

    public var attributes: Attributes {
        var attrs: Attributes = Attributes(uniqueKeysWithValues: [
            ("kind", .string(repeatedKind.rawValue)), ("subject", .object(subject)), ("count", .int(count)),
            ("first_at", .string(firstAt.description)), ("last_at", .string(lastAt.description)),
        ])
        if let delayMs { attrs.appendUnchecked("delay_ms", .double(delayMs)) }
        return attrs
    }

    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        repeatedKind = EventKind(try reader.string("kind"))
        subject = try reader.object("subject")
        count = try reader.int("count")
        guard count >= 0, UInt64(count) <= LatencyWindow.maxCount else {
            throw PayloadDecodingError(kind: Self.kind, field: "count", problem: "is out of range")
        }
        firstAt = try readTimestamp(&reader, "first_at", kind: Self.kind)
        lastAt = try readTimestamp(&reader, "last_at", kind: Self.kind)
        delayMs = try reader.optionalDouble("delay_ms")
        for field in RepeatSubject.fields(of: repeatedKind) where subject[field]?.stringValue == nil {
            throw PayloadDecodingError(kind: Self.kind, field: "subject", problem: "has no string '\(field)' for \(repeatedKind)")
        }
    }
}

/// A window's durations and, for a window written in parts, which part it is.
private func appendLatencyAndParts(_ latency: LatencyWindow, part: Int64, parts: Int64, to attrs: inout Attributes) {
    latency.append(to: &attrs)
    if parts > 1 {
        attrs.appendUnchecked("part", .int(part))
        attrs.appendUnchecked("parts", .int(parts))
    }
}

private func readTimestamp(_ reader: inout some PayloadReader, _ field: StaticString, kind: EventKind) throws(PayloadDecodingError) -> Timestamp {
    guard let timestamp = Timestamp(rfc3339: try reader.string(field)) else {
        throw PayloadDecodingError(kind: kind, field: field.description, problem: "is not an RFC 3339 time")
    }
    return timestamp
}

/// An object of counts (each a whole number from 0 up to ``LatencyWindow/maxCount``).
private func readTally(_ reader: inout some PayloadReader, _ field: StaticString, kind: EventKind) throws(PayloadDecodingError) -> Tally {
    var tally: Tally = [:]
    for (key, value) in try reader.object(field).pairs {
        guard let count = value.intValue, count >= 0, UInt64(count) <= LatencyWindow.maxCount else {
            throw PayloadDecodingError(kind: kind, field: field.description, problem: "has a count that is not a whole number in range")
        }
        tally.add(key, count)
    }
    return tally
}

private func readParts(_ reader: inout some PayloadReader, kind: EventKind) throws(PayloadDecodingError) -> (Int64, Int64) {
    let parts = try reader.optionalInt("parts") ?? 1
    let part = try reader.optionalInt("part") ?? 1
    guard parts >= 1, (1...parts).contains(part) else {
        throw PayloadDecodingError(kind: kind, field: "part", problem: "is not between 1 and parts")
    }
    return (part, parts)
}

// MARK: - Folds (the one place where each kind changes a summary)

extension TimingWindow {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.operations[operation, default: Summary.Operation()].record(self)
    }

    public func record(into timeline: inout Timeline, at position: StreamPosition) {
        let failed = outcomes[TimingRecorded.Outcome.error, default: 0]
        timeline.recordWindow(from: windowStart, to: position.timestamp, operation: operation, latency: latency, failed: failed)
    }
}

extension HealthWindow {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.health[check, default: Summary.Health()].record(self, at: position)
    }

    public func record(into timeline: inout Timeline, at position: StreamPosition) {
        timeline.recordWindow(from: windowStart, to: position.timestamp, check: check, byStatus: byStatus,
                              last: latency.count > 0 ? Timeline.LastProbe(timestamp: lastAt, status: lastStatus, detail: lastDetail) : nil)
    }
}

extension EventsRepeated {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        RepeatSubject.fold(self, into: &summary)
    }
}
