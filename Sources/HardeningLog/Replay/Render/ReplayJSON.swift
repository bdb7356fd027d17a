import Hardening

extension ReadIssue {
    /// The issue as a JSON object.
    public var json: AttributeValue {
        var object: Attributes = ["file": .string(file)]
        if let line { object["line"] = .int(Int64(line)) }
        if let offset { object["offset"] = .int(offset) }
        object["kind"] = .string(kind.rawValue)
        object["message"] = .string(message)
        return .object(object)
    }
}

extension Replay.Report {
    /// The ``Summary``'s JSON with one more key, `input`: files, events read and kept, the
    /// issues found (by kind, and the first ones with file and line), and the lines and bytes
    /// of each kind read (`volume`); and the post-mortem's (``PostMortemReport``): the first
    /// failure, open and unhealthy periods, the incident's timeline. Without these, it is byte for
    /// byte what the live process reports.
    public var json: AttributeValue {
        var object = summary.json.objectValue ?? Attributes()
        var account: Attributes = [
            "files": .int(Int64(input.files)), "events_read": .int(input.eventsRead), "events_kept": .int(input.eventsKept),
            "issues": .object(["total": .int(input.issueCount), "by_kind": input.issuesByKind.json,
                               "first": .array(input.issues.map(\.json))]),
        ]
        // Only where there are any: events read again (same run and seq), counted once.
        if input.duplicateEvents > 0 { account.appendUnchecked("duplicate_events", .int(input.duplicateEvents)) }
        if !input.runsWithoutClosingRecord.isEmpty {
            account.appendUnchecked("runs_without_closing_record", .array(input.runsWithoutClosingRecord.map { .string($0) }))
        }
        account.appendUnchecked("volume", input.volume.json)
        object["input"] = .object(account)
        for (key, value) in postMortem.jsonFields { object[key] = value }
        if !objectives.isEmpty { object["objectives"] = .array(objectives.map(\.json)) }
        if let comparison { object["comparison"] = comparison.json }
        return .object(object)
    }
}
