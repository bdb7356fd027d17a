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

    @Test func everyQueryNamesAnExposedSeriesAndItsLabels() throws {
        let families = Dictionary(uniqueKeysWithValues: (MetricCatalogue.all + ServerMetricsText.all).map { ($0.name, $0) })
        let expressions = try Self.expressions()
        #expect(expressions.count >= 20, "the dashboard's queries were read: \(expressions.count)")
        var used: Set<String> = []
        for (panel, expression) in expressions {
            let (series, labels) = Self.parts(of: expression)
            #expect(!series.isEmpty, "\(panel): \(expression)")
            for name in series {
                // A histogram's series: the family's name with _bucket, _sum or _count.
                let base = ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) && families[$0] == nil ? String($0.dropLast($1.count)) : $0 }
                guard let family = families[base] else {
                    Issue.record("\(panel): \(name) is not a series /metrics exposes")
                    continue
                }
                used.insert(base)
                if name != base { #expect(family.type == .histogram, "\(panel): \(name) of a \(family.type) family") }
                for label in labels where label != "le" || family.type != .histogram {
                    #expect(family.labels.contains(label), "\(panel): groups \(name) by \(label), which it does not have (\(family.labels))")
                }
            }
        }
        // The main families each have a panel.
        for family in [MetricCatalogue.calls, MetricCatalogue.callErrors, MetricCatalogue.breakerState, MetricCatalogue.events] {
            #expect(used.contains(family.name), "\(family.name) has no panel")
        }
    }

    @Test func aQueryForAMissingSeriesOrLabelIsCaught() {
        let (series, labels) = Self.parts(of: "sum by (operation, le) (rate(hardening_operation_duration_seconds_bucket[5m]))")
        #expect(series == ["hardening_operation_duration_seconds_bucket"] && labels == ["operation", "le"])
        let families = Dictionary(uniqueKeysWithValues: MetricCatalogue.all.map { ($0.name, $0) })
        #expect(families["hardening_operation_latency_total"] == nil, "a made-up name is not in the catalogue")
        #expect(families[MetricCatalogue.calls.name]?.labels.contains("breaker") == false)
    }
}
