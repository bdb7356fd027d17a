import Hardening

extension PostMortemReport {
    /// Entries of the timeline the text report shows; JSON has all that were kept.
    static let textTimelineLimit = 60

    /// The post-mortem as a person reads it after an incident: what failed first (in all and on
    /// each host), when each breaker was open and each check unhealthy, and the notable events
    /// in time order across hosts. Empty when the logs hold no failure and no change.
    var text: String {
        guard firstFailure != nil || !breakerIntervals.isEmpty || !unhealthyIntervals.isEmpty || !timeline.isEmpty else { return "" }
        var out = "\nPost-mortem\n"
        if let firstFailure {
            out += "  First failure: \(firstFailure.line)\n"
            if firstFailureByHost.count > 1 {
                for (host, failure) in firstFailureByHost { out += "    first on \(host): \(failure.line)\n" }
            }
        } else {
            out += "  No failure recorded.\n"
        }
        if !breakerIntervals.isEmpty {
            out += "\n  Breakers open\n"
            out += Self.table(breakerIntervals, nameHeader: "breaker", reasonHeader: "reason")
        }
        if !unhealthyIntervals.isEmpty {
            out += "\n  Health checks unhealthy\n"
            out += Self.table(unhealthyIntervals, nameHeader: "check", reasonHeader: "detail")
        }
        if !timeline.isEmpty {
            let total = Int64(timeline.count) + timelineOmitted
            let shown = timeline.prefix(Self.textTimelineLimit)
            out += "\n  Timeline (\(Format.count(total)) notable event(s)"
            out += total > Int64(shown.count) ? "; the first \(shown.count) shown, --format json lists \(timeline.count))\n" : ")\n"
            var table = TextTable("time", "host", "what", "about", "event")
            for entry in shown {
                var message = entry.message
                if let count = entry.count, count > 1 { message += entry.what == "fallback_started" ? " (\(count) in this stretch)" : " (the last of \(count))" }
                table.add([entry.at.timestamp.description, entry.at.host, entry.what.replacingUnderscores, entry.subject.name, message])
            }
            out += table.render(indent: "    ")
        }
        return out
    }

    private static func table(_ intervals: [Interval], nameHeader: String, reasonHeader: String) -> String {
        var table = TextTable(nameHeader, "host", "run", "from", "until", "for", "ended as", reasonHeader)
        for interval in intervals {
            table.add([interval.name, interval.host, interval.run, interval.start?.timestamp.description ?? "(before the logs)",
                       interval.end?.timestamp.description ?? "(still, at the end)", Format.span(milliseconds: Double(interval.microseconds) / 1000),
                       interval.endedAs ?? "-", interval.reason.isEmpty ? "-" : interval.reason])
        }
        return table.render(indent: "    ")
    }
}

extension PostMortem.Failure {
    /// `time host subject: message (root error type) [trace id]`.
    fileprivate var line: String {
        var line = "\(at.timestamp) \(at.host) \(subject.key) \(subject.name): \(message)"
        if let rootErrorType { line += " [root cause \(rootErrorType)]" }
        if let trace = at.traceID { line += " [trace \(trace)]" }
        return line
    }
}

extension String {
    fileprivate var replacingUnderscores: String { split(separator: "_").joined(separator: " ") }
}
