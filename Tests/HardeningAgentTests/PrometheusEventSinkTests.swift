import Foundation
import Hardening
import HardeningAgent
import HardeningTestKit
import Testing

/// `/metrics` must never stop the process: every kind, with any label values, goes through the
/// sink repeatedly, and the exposition parses with `prometheus_client`.
@Suite struct PrometheusEventSinkTests {
    @Test func everyKindTwiceWithVaryingLabelsParses() async throws {
        let sink = PrometheusEventSink()
        var events: [Event] = []
        for round in 0..<2 {
            for payload in PayloadSamples.all {
                var event = Event(timestamp: Timestamp(microsecondsSinceEpoch: 1_700_000_000_000_000), level: .info, kind: type(of: payload).kind,
                                  message: "m", attrs: payload.attributes)
                // A second round with other label values (a quote and a newline among them).
                if round == 1, case .string(let text)? = event.attrs["operation"] { event.attrs["operation"] = .string(text + "\"\n2") }
                events.append(event)
            }
        }
        sink.write(events)
        let text = String(decoding: sink.exposition(), as: UTF8.self)
        #expect(text.contains("hardening_events_total"))
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            families = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
            assert families["hardening_operation_duration_seconds"].type == "histogram"
            assert families["hardening_breaker_state"].type == "gauge"
            assert families["hardening_metric_counter"].type == "counter"
            assert families["hardening_metric_recorder_last"].type == "gauge"
            print(len(families))
            """
        let parsed = try await ChildProcess.runDetached(["python3", "-c", script], input: Data(text.utf8))
        #expect(parsed.status == 0, "\(parsed.stderr)\n\(text)")
    }
}
