import Foundation
import Hardening
import HardeningTestKit
import HardeningTestSupport
import Testing

/// The one metric catalogue: every kind, with any label values, renders to an exposition that
/// `prometheus_client` parses, with each family's declared type and help.
@Suite struct MetricCatalogueTests {
    @Test func everyKindTwiceWithVaryingLabelsParses() async throws {
        let sink = SummarySink()
        let bus = EventBus(configuration: .init(service: "catalogue", volume: .full), sinks: [sink])
        for round in 0..<2 {
            for payload in PayloadSamples.all {
                var attrs = payload.attributes
                // A second round with other label values (a quote, a backslash and a newline among them).
                if round == 1, case .string(let text)? = attrs["operation"] { attrs["operation"] = .string(text + "\"\\\n2") }
                bus.emit(Event(timestamp: Timestamp(microsecondsSinceEpoch: 1_700_000_000_000_000), level: .info,
                               kind: type(of: payload).kind, message: "m", attrs: attrs))
            }
        }
        await bus.shutdown()
        let text = sink.summary.prometheusExposition
        let declared = MetricCatalogue.all.map { "\($0.name)\t\($0.type.rawValue)\t\($0.help)" }.joined(separator: "\n")
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            declared, text = sys.stdin.read().split("\\n\\n", 1)
            families = {f.name: f for f in text_string_to_metric_families(text)}
            for line in declared.split("\\n"):
                name, kind, help = line.split("\\t")
                base = name[:-6] if kind == "counter" and name.endswith("_total") else name
                assert base in families, "missing " + name
                assert families[base].type == kind, name + " is " + families[base].type
                assert families[base].documentation == help, name
            op = [s for s in families["hardening_operation_calls"].samples if '"' in s.labels["operation"]]
            assert op and op[0].labels["operation"].endswith('"\\\\\\n2'), op
            print(len(families))
            """
        let parsed = try await ChildProcess.runDetached(["python3", "-c", script], input: Data((declared + "\n\n" + text).utf8))
        #expect(parsed.status == 0, "\(parsed.stderr)\n\(text)")
        #expect(String(decoding: parsed.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "\(MetricCatalogue.all.count)")
    }

    @Test func histogramBucketsAreCumulativeAndEndInTheCount() {
        var latency = LatencyStats()
        for milliseconds in [0.5, 1, 1.0005, 4, 7, 30, 120, 2_000, 45_000] { latency.record(milliseconds: milliseconds) }
        var out = PrometheusExposition()
        out.histogram(MetricCatalogue.callDuration, [(["op"], latency)])
        let buckets = out.text.split(separator: "\n").filter { $0.contains("_bucket") }.map { Double($0.split(separator: " ").last!)! }
        #expect(buckets == [2, 4, 5, 5, 6, 6, 7, 7, 7, 8, 8, 8, 8, 9], "\(out.text)")
        #expect(out.text.contains(#"hardening_operation_duration_seconds_bucket{operation="op",le="0.001"} 2"#))
        #expect(out.text.contains(#"hardening_operation_duration_seconds_bucket{operation="op",le="+Inf"} 9"#))
        #expect(out.text.contains(#"hardening_operation_duration_seconds_count{operation="op"} 9"#))
    }
}
