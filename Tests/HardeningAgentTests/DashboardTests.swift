import Foundation
import Hardening
import HardeningAgent
import Testing

/// `tools/dashboards/grafana/swift-hardening.json`: every series a query names is a family of the
/// metric catalogue (what both live `/metrics` and `replay --format prometheus` expose, as
/// `MetricCatalogueTests` shows) or of the agent's server, and every label it groups by is one of
/// that family's labels.
@Suite struct DashboardTests {
    static let grafana = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/dashboards/grafana/swift-hardening.json").path

    /// Every PromQL expression of the dashboard, with its panel's title.
    static func expressions() throws -> [(panel: String, expr: String)] {
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: grafana))) as? [String: Any] ?? [:]
        let panels = document["panels"] as? [[String: Any]] ?? []
        return panels.flatMap { panel in
            (panel["targets"] as? [[String: Any]] ?? []).compactMap { target in
                (target["expr"] as? String).map { (panel["title"] as? String ?? "?", $0) }
            }
        }
    }

    /// The names of the series an expression reads (`hardening_…`) and the labels it groups by.
    static func parts(of expression: String) -> (series: [String], labels: [String]) {
        func matches(_ pattern: String) -> [String] {
            let regex = try! NSRegularExpression(pattern: pattern)
            let range = NSRange(expression.startIndex..., in: expression)
            return regex.matches(in: expression, range: range).compactMap { Range($0.range(at: 1), in: expression).map { String(expression[$0]) } }
        }
        let series = matches(#"\b(hardening_[a-z_]+)\b"#)
        let labels = matches(#"by \(([a-z_, ]+)\)"#).flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        return (series, labels)
    }

    /// What is wrong with `expressions` against the families /metrics exposes: a series that is
    /// not one, a histogram suffix on another type, a grouping by a label the family lacks.
    static func problems(in expressions: [(panel: String, expr: String)]) -> (problems: [String], used: Set<String>) {
        let families = Dictionary(uniqueKeysWithValues: (MetricCatalogue.all + ServerMetricsText.all).map { ($0.name, $0) })
        var problems: [String] = []
        var used: Set<String> = []
        for (panel, expression) in expressions {
            let (series, labels) = parts(of: expression)
            if series.isEmpty { problems.append("\(panel): no series in \(expression)") }
            for name in series {
                // A histogram's series: the family's name with _bucket, _sum or _count.
                let base = ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) && families[$0] == nil ? String($0.dropLast($1.count)) : $0 }
                guard let family = families[base] else {
                    problems.append("\(panel): \(name) is not a series /metrics exposes")
                    continue
                }
                used.insert(base)
                if name != base, family.type != .histogram { problems.append("\(panel): \(name) of a \(family.type) family") }
                for label in labels where !(label == "le" && family.type == .histogram) && !family.labels.contains(label) {
                    problems.append("\(panel): groups \(name) by \(label), which it does not have (\(family.labels))")
                }
            }
        }
        return (problems, used)
    }

    @Test func everyQueryNamesAnExposedSeriesAndItsLabels() throws {
        let expressions = try Self.expressions()
        #expect(expressions.count >= 20, "the dashboard's queries were read: \(expressions.count)")
        let (problems, used) = Self.problems(in: expressions)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        // The main families each have a panel.
        for family in [MetricCatalogue.calls, MetricCatalogue.callErrors, MetricCatalogue.breakerState, MetricCatalogue.events] {
            #expect(used.contains(family.name), "\(family.name) has no panel")
        }
    }

    @Test func aQueryForAMissingSeriesOrLabelIsCaught() {
        let (series, labels) = Self.parts(of: "sum by (operation, le) (rate(hardening_operation_duration_seconds_bucket[5m]))")
        #expect(series == ["hardening_operation_duration_seconds_bucket"] && labels == ["operation", "le"])
        #expect(Self.problems(in: [("ok", "sum by (operation, le) (rate(hardening_operation_duration_seconds_bucket[5m]))")]).problems.isEmpty)
        let broken: [(panel: String, expr: String)] = [
            ("made-up", "rate(hardening_operation_latency_total[5m])"),
            ("wrong label", "sum by (sink) (rate(hardening_sink_lost_events_total[5m]))"),
            ("bucket of a counter", "rate(hardening_operation_calls_total_bucket[5m])"),
            ("no series", "vector(1)"),
        ]
        let problems = Self.problems(in: broken).problems
        #expect(problems.count == 4, "each broken query is caught: \(problems)")
    }
}
