import Hardening

extension Replay {
    /// The one family only replay has: damaged or unreadable input, by kind.
    package static let issuesFamily = MetricFamily("hardening_replay_issues_total", .counter,
                                                  help: "Damaged or unreadable input found by replay, by kind.", labels: ["kind"])
}

extension Replay.Report {
    /// The summary as Prometheus text exposition: every family of ``MetricCatalogue`` (what the
    /// agent's `/metrics` serves for the same events), then ``Replay/issuesFamily``.
    public var prometheusText: String {
        var out = PrometheusExposition()
        summary.write(to: &out)
        out.family(Replay.issuesFamily, input.issuesByKind.sorted { $0.key < $1.key }.map { ([$0.key], Double($0.value)) })
        return out.text
    }
}
