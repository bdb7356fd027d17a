import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Testing

/// Each replay output format against a file checked in under `Golden/`. Run with
/// `UPDATE_GOLDEN=1` to rewrite them after a deliberate change, and read the diff.
@Suite struct ReplayGoldenTests {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden").path

    /// A fixed log: two runs on two hosts, every kind, a hole in `seq`, one garbage line.
    static func fixtureLines() -> [String] {
        let encoder = JSONLineEncoder()
        var lines: [String] = []
        var clock: Int64 = 1_796_000_000_000_000
        func event(_ payload: any EventPayload, run: String, host: String, seq: UInt64) -> Event {
            clock += 250_000
            return Event(timestamp: Timestamp(microsecondsSinceEpoch: clock), level: payload.defaultLevel, kind: type(of: payload).kind,
                         message: payload.message, service: "rag", host: host, run: run, seq: seq, attrs: payload.attributes)
        }
        for (run, host) in [("aaaaaaaaaaaaaaaa", "web-1"), ("bbbbbbbbbbbbbbbb", "web-2")] {
            var seq: UInt64 = 0
            var payloads: [any EventPayload] = PayloadSamples.all.filter { type(of: $0).kind != .fileOpened && type(of: $0).kind != .fileClosed }
            for index in 0..<40 {
                payloads.append(TimingRecorded(operation: index % 2 == 0 ? "pinecone.query" : "openai.embed",
                                               durationMs: Double(10 + (index * 37) % 90) + 0.5, outcome: index % 9 == 0 ? "error" : "success",
                                               slow: index % 13 == 0))
            }
            payloads += [
                BreakerStateChanged(breaker: "notion", from: "open", to: "half_open", reason: "recovery_timeout", failures: 0, successes: 0),
                BreakerStateChanged(breaker: "notion", from: "half_open", to: "closed", reason: "trial_succeeded", failures: 0, successes: 1),
                HealthProbed(check: "pinecone", status: "unhealthy", latencyMs: 2000, detail: "timeout"),
            ]
            for payload in payloads {
                seq += 1
                if seq == 7 { continue }  // lost
                lines.append(String(decoding: encoder.encode(event(payload, run: run, host: host, seq: seq)), as: UTF8.self))
            }
        }
        lines.insert("this line is not an event\n", at: 5)
        return lines
    }

    private func report() throws -> (Replay.Report, [String], TemporaryDirectory) {
        let directory = TemporaryDirectory(prefix: "golden")
        let path = directory.path + "/events.jsonl"
        try Self.fixtureLines().joined().write(toFile: path, atomically: true, encoding: .utf8)
        var events: [String] = []
        let encoder = JSONLineEncoder()
        let report = try Replay().run(ReplayInputs([path]), onEvent: { events.append(String(decoding: encoder.encode($0), as: UTF8.self)) })
        return (report, events, directory)
    }

    private func check(_ text: String, against name: String, replacing directory: String) throws {
        let normalized = text.replacingOccurrences(of: directory, with: "DIR")
        let path = Self.goldenDirectory + "/" + name
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
            try normalized.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOfFile: path, encoding: .utf8)
        #expect(normalized == golden, "\(name) differs from Golden/\(name) (UPDATE_GOLDEN=1 rewrites it)")
    }

    @Test func everyFormatMatchesItsGoldenFile() throws {
        let (report, events, directory) = try report()
        defer { directory.remove() }
        #expect(report.input.issuesByKind == ["bad_line": 1])
        #expect(report.summary.missingEvents == 2)
        try check(report.text, against: "replay.txt", replacing: directory.path)
        try check(report.json.jsonText + "\n", against: "replay.json", replacing: directory.path)
        try check(report.prometheusText, against: "replay.prom", replacing: directory.path)
        try check(report.html, against: "replay.html", replacing: directory.path)
        try check(events.joined(), against: "replay.events.jsonl", replacing: directory.path)
    }

    @Test func thePrometheusTextParsesWithPrometheusClient() async throws {
        let (report, _, directory) = try report()
        defer { directory.remove() }
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            families = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
            print(len(families), sum(len(f.samples) for f in families.values()))
            duration = families["hardening_operation_duration_seconds"]
            assert duration.type == "histogram", duration.type
            buckets = [s for s in duration.samples if s.name.endswith("_bucket")]
            assert buckets and buckets[-1].labels["le"] == "+Inf"
            assert families["hardening_operation_duration_quantile_seconds"].type == "gauge"
            assert families["hardening_events_missing"].samples[0].value == 2
            """
        let result = try await ChildProcess.runDetached(["python3", "-c", script], input: Data(report.prometheusText.utf8))
        #expect(result.status == 0, "\(result.stderr)")
    }
}
