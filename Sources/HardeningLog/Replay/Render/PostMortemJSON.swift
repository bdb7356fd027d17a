import Hardening

extension PostMortemReport {
    /// The post-mortem keys of replay's JSON: `first_failure` (or `null`),
    /// `first_failure_by_host`, `breaker_intervals`, `unhealthy_intervals`, `timeline` and
    /// `timeline_omitted`. Every time is the event's own timestamp, microseconds included.
    var jsonFields: [(String, AttributeValue)] {
        [
            ("first_failure", firstFailure.map(\.json) ?? .null),
            ("first_failure_by_host", .object(Attributes(uniqueKeysWithValues: firstFailureByHost.map { ($0.host, $0.failure.json) }))),
            ("breaker_intervals", .array(breakerIntervals.map { $0.json(nameKey: "breaker", startKey: "opened_at", endKey: "closed_at",
                                                                        secondsKey: "open_seconds", reasonKey: "reason") })),
            ("unhealthy_intervals", .array(unhealthyIntervals.map { $0.json(nameKey: "check", startKey: "unhealthy_at", endKey: "recovered_at",
                                                                            secondsKey: "unhealthy_seconds", reasonKey: "detail") })),
            ("timeline", .array(timeline.map(\.json))),
            ("timeline_omitted", .int(timelineOmitted)),
        ]
    }
}

extension Occurrence {
    /// The envelope fields: `timestamp`, `host`, `run`, `seq` and `trace_id` (or `null`).
    var jsonFields: [(String, AttributeValue)] {
        [("timestamp", .string(timestamp.description)), ("host", .string(host)), ("run", .string(run)), ("seq", .int(Int64(clamping: seq))),
         ("trace_id", traceID.map { .string($0) } ?? .null)]
    }
}

extension PostMortem.Failure {
    var json: AttributeValue {
        var object = Attributes(uniqueKeysWithValues: at.jsonFields)
        object.appendUnchecked("event", .string(kind.rawValue))
        object.appendUnchecked(subject.key, .string(subject.name))
        object.appendUnchecked("root_error_type", rootErrorType.map { .string($0) } ?? .null)
        object.appendUnchecked("message", .string(message))
        return .object(object)
    }
}

extension PostMortem.Entry {
    var json: AttributeValue {
        var object = Attributes(uniqueKeysWithValues: at.jsonFields)
        object.appendUnchecked("event", .string(kind.rawValue))
        object.appendUnchecked("what", .string(what))
        object.appendUnchecked(subject.key, .string(subject.name))
        object.appendUnchecked("message", .string(message))
        if let count { object.appendUnchecked("count", .int(count)) }
        return .object(object)
    }
}

extension PostMortemReport.Interval {
    func json(nameKey: String, startKey: String, endKey: String, secondsKey: String, reasonKey: String) -> AttributeValue {
        .object([
            nameKey: .string(name), "host": .string(host), "run": .string(run),
            startKey: start.map { .string($0.timestamp.description) } ?? .null,
            endKey: end.map { .string($0.timestamp.description) } ?? .null,
            secondsKey: .double(Double(microseconds) / 1e6), reasonKey: .string(reason),
            "ended_as": endedAs.map { .string($0) } ?? .null,
        ])
    }
}
