import Hardening

extension PostMortemReport {
    /// Entries of the timeline the HTML page shows.
    static let htmlTimelineLimit = 200

    /// The page's top section: the first failure (in all and per host), the breakers' open and
    /// the checks' unhealthy periods per host and run, and the incident's timeline.
    func render(into page: inout HTMLPage) {
        guard firstFailure != nil || !breakerIntervals.isEmpty || !unhealthyIntervals.isEmpty || !timeline.isEmpty else { return }
        page.heading("Post-mortem", level: 2)
        if firstFailure != nil {
            page.table(["first failure", "time", "host", "about", "event", "root cause", "trace", "message"],
                       ([("in all", firstFailure!)] + (firstFailureByHost.count > 1 ? firstFailureByHost.map { ("on \($0.host)", $0.failure) } : []))
                        .map { label, failure in
                            [label, failure.at.timestamp.description, failure.at.host, "\(failure.subject.key) \(failure.subject.name)",
                             failure.kind.rawValue, failure.rootErrorType ?? "-", failure.at.traceID ?? "-", failure.message]
                        })
        }
        page.section("Breakers open", Self.intervalHeaders("breaker", reason: "reason"), breakerIntervals.map(\.cells))
        page.section("Health checks unhealthy", Self.intervalHeaders("check", reason: "detail"), unhealthyIntervals.map(\.cells))
        if !timeline.isEmpty {
            let total = Int64(timeline.count) + timelineOmitted
            let shown = timeline.prefix(Self.htmlTimelineLimit)
            page.heading("Timeline: \(Format.count(total)) notable event(s)" + (total > Int64(shown.count) ? ", the first \(shown.count) shown" : ""),
                         level: 3)
            page.table(["time", "host", "what", "about", "event"], shown.map { entry in
                [entry.at.timestamp.description, entry.at.host, entry.what, entry.subject.name,
                 entry.message + (entry.count.map { $0 > 1 ? " (\($0) fallbacks in the stretch)" : "" } ?? "")]
            })
        }
    }

    private static func intervalHeaders(_ name: String, reason: String) -> [String] {
        [name, "host", "run", "from", "until", "for", "ended as", reason]
    }
}

extension PostMortemReport.Interval {
    fileprivate var cells: [String] {
        [name, host, run, start?.timestamp.description ?? "(before the logs)", end?.timestamp.description ?? "(still, at the end)",
         Format.span(milliseconds: Double(microseconds) / 1000), endedAs ?? "-", reason.isEmpty ? "-" : reason]
    }
}
