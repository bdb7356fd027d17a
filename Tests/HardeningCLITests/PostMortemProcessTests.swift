import Foundation
import Hardening
import HardeningLog
import HardeningTestSupport
import Testing

/// A two-host incident played for real: the demo (scripted faults, a breaker that opens, a check
/// that goes unhealthy) on two host names at once, then `hardening replay` of both directories
/// as an on-call engineer runs it, checked against a brute-force reading of the merged events.
@Suite struct PostMortemProcessTests {
    private let hardening = ChildProcess.hardeningExecutable
    private static let checker = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/postmortem/check_postmortem.py").path

    @Test func aTwoHostIncidentIsToldAsABruteForceReadingOfItsEventsTellsIt() async throws {
        let output = TestOutput.directory(named: "post-mortem-two-hosts")
        defer { output.finish() }
        async let hostA = ChildProcess.runDetached([hardening, "demo", "--duration", "8", "--stdout", "off", "--log-dir", output.path + "/host-a"],
                                                   environment: ["HARDENING_HOST": "host-a"])
        async let hostB = ChildProcess.runDetached([hardening, "demo", "--duration", "8", "--seed", "2", "--stdout", "off",
                                                    "--log-dir", output.path + "/host-b"], environment: ["HARDENING_HOST": "host-b"])
        let (a, b) = try await (hostA, hostB)
        #expect(a.status == 0 && b.status == 0, "\(a.stderr)\n\(b.stderr)")
        let directories = [output.path + "/host-a", output.path + "/host-b"]

        let events = try await ChildProcess.runDetached([hardening, "replay", "--format", "events"] + directories)
        let report = try await ChildProcess.runDetached([hardening, "replay", "--format", "json"] + directories)
        #expect(events.status == 0 && report.status == 0, "\(events.stderr)\(report.stderr)")
        let eventsPath = output.path + "/merged.jsonl"
        let reportPath = output.path + "/report.json"
        try events.stdout.write(to: URL(fileURLWithPath: eventsPath))
        try report.stdout.write(to: URL(fileURLWithPath: reportPath))
        let checked = try await ChildProcess.runDetached(["python3", Self.checker, eventsPath, reportPath])
        #expect(checked.status == 0, "\(String(decoding: checked.stdout, as: UTF8.self))\(checked.stderr)")

        let merged = String(decoding: events.stdout, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(Set(merged.compactMap { $0["host"] as? String }) == ["host-a", "host-b"])
        let object = try #require(try JSONSerialization.jsonObject(with: report.stdout) as? [String: Any])
        #expect(!((object["breaker_intervals"] as? [Any]) ?? []).isEmpty, "the scripted outage opens the llm breaker")
        #expect(!((object["timeline"] as? [Any]) ?? []).isEmpty)

        // One failed question, whole: the trace whose events show the most of retries, the
        // breaker and the fallback; --trace-id gives exactly its events, on every host.
        var byTrace: [String: [[String: Any]]] = [:]
        for event in merged { if let trace = event["trace_id"] as? String { byTrace[trace, default: []].append(event) } }
        func shown(_ events: [[String: Any]]) -> Set<String> {
            Set(events.compactMap { ($0["event"] as? String)?.split(separator: ".").first.map(String.init) })
                .intersection(["retry", "breaker", "fallback"])
        }
        let (trace, expected) = try #require(byTrace.max { shown($0.value).count < shown($1.value).count })
        #expect(shown(expected).count >= 2, "a failed question shows at least two of retries, breaker and fallback: \(shown(expected))")
        let one = try await ChildProcess.runDetached([hardening, "replay", "--format", "events", "--trace-id", trace] + directories)
        #expect(one.status == 0, "\(one.stderr)")
        let got = String(decoding: one.stdout, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(got.map { "\($0["run"]!)/\($0["seq"]!)" } == expected.map { "\($0["run"]!)/\($0["seq"]!)" })

        // The text report reads as a post-mortem: the first failure, the breaker's periods, the timeline.
        let text = try await ChildProcess.runDetached([hardening, "replay"] + directories)
        let body = String(decoding: text.stdout, as: UTF8.self)
        for heading in ["Post-mortem", "First failure:", "Breakers open", "Timeline ("] { #expect(body.contains(heading), "\(heading)") }
    }
}

/// `--slo` and `--baseline` on logs whose numbers are known.
@Suite struct ObjectivesProcessTests {
    private let hardening = ChildProcess.hardeningExecutable
    private static let start: Int64 = 1_796_000_000_000_000

    /// An hour-old baseline (100 calls in 100 s, 1 error, 2 slow) and the next 100 s (200 calls,
    /// 10 errors, 10 slow).
    private func writeLogs(to path: String) throws {
        let encoder = JSONLineEncoder()
        var text = ""
        var seq: UInt64 = 0
        func call(at seconds: Double, _ milliseconds: Double, _ outcome: String) {
            seq += 1
            let payload = TimingRecorded(operation: "search", durationMs: milliseconds, outcome: outcome)
            let event = Event(timestamp: Timestamp(microsecondsSinceEpoch: Self.start + Int64(seconds * 1e6)), level: .debug, kind: .timingRecorded,
                              message: payload.message, service: "rag", host: "web-1", run: "dddddddddddddddd", seq: seq, attrs: payload.attributes)
            text += String(decoding: encoder.encode(event), as: UTF8.self)
        }
        for index in 0..<100 { call(at: Double(index), index < 2 ? 400 : 10, index == 50 ? "error" : "success") }
        for index in 0..<200 { call(at: 100 + Double(index) / 2, index < 10 ? 600 : 20, index % 20 == 0 ? "error" : "success") }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func objectivesAndABaselineGiveTheirBudgetsRatesAndChanges() async throws {
        let output = TestOutput.directory(named: "objectives")
        defer { output.finish() }
        let path = output.path + "/events.jsonl"
        try writeLogs(to: path)
        func at(_ seconds: Int64) -> String { Timestamp(microsecondsSinceEpoch: Self.start + seconds * 1_000_000).description }
        let replayed = try await ChildProcess.runDetached([
            hardening, "replay", "--format", "json", "--since", at(100), "--until", at(200), "--baseline", "\(at(0))..\(at(100))",
            "--slo", "search=99%", "--slo", "search:p99<300ms", "--slo-period", "1d", path,
        ])
        #expect(replayed.status == 0, "\(replayed.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: replayed.stdout) as? [String: Any])
        let objectives = try #require(object["objectives"] as? [[String: Any]])
        #expect(objectives.count == 2)
        #expect(objectives[0]["calls"] as? Int == 200 && objectives[0]["bad"] as? Int == 10 && objectives[0]["kind"] as? String == "availability")
        #expect(abs((objectives[0]["burn_rate"] as? Double ?? 0) - 5) < 1e-9)
        #expect(abs((objectives[0]["budget_spent"] as? Double ?? 0) - 5 * 100 / 86_400) < 1e-9)
        #expect(objectives[1]["bad"] as? Int == 10 && objectives[1]["threshold_ms"] as? Double == 300)
        #expect(abs((objectives[1]["burn_rate"] as? Double ?? 0) - 5) < 1e-9)

        let comparison = try #require(object["comparison"] as? [String: Any])
        let search = try #require((comparison["operations"] as? [String: Any])?["search"] as? [String: Any])
        let selected = try #require(search["selected"] as? [String: Any])
        let baseline = try #require(search["baseline"] as? [String: Any])
        let change = try #require(search["change"] as? [String: Any])
        #expect(selected["calls"] as? Int == 200 && baseline["calls"] as? Int == 100)
        #expect(selected["rate_per_second"] as? Double == 2 && baseline["rate_per_second"] as? Double == 1 && change["rate"] as? Double == 1)
        #expect(abs((change["error_ratio"] as? Double ?? 0) - 0.04) < 1e-9)
        #expect(abs((selected["p50_ms"] as? Double ?? 0) - 20) < 0.05 && abs((baseline["p50_ms"] as? Double ?? 0) - 10) < 0.05)

        let text = try await ChildProcess.runDetached([hardening, "replay", "--baseline", "\(at(0))..\(at(100))", "--since", at(100),
                                                       "--slo", "search=99%", path])
        let body = String(decoding: text.stdout, as: UTF8.self)
        #expect(body.contains("Objectives (") && body.contains("search=99%") && body.contains("Compared with the baseline"), "\(body)")
        // The same objectives from an agent configuration file.
        let config = output.path + "/agent.yaml"
        try "service: rag\nobjective_period: 1d\nobjectives:\n  - search=99%\n  - search:p99<300ms\n".write(toFile: config, atomically: true, encoding: .utf8)
        let fromConfig = try await ChildProcess.runDetached([hardening, "replay", "--format", "json", "--since", at(100), "--until", at(200),
                                                             "--config", config, path])
        #expect(fromConfig.status == 0, "\(fromConfig.stderr)")
        let configured = try #require(try JSONSerialization.jsonObject(with: fromConfig.stdout) as? [String: Any])
        let fromFile = try #require(configured["objectives"] as? [[String: Any]])
        #expect(fromFile.count == 2 && fromFile[0]["period_seconds"] as? Double == 86_400)
        #expect(abs((fromFile[0]["budget_spent"] as? Double ?? 0) - 5 * 100 / 86_400) < 1e-9)
        let wrong = output.path + "/wrong.yaml"
        try "objectives:\n  - search=99%\n  - search=fast\n".write(toFile: wrong, atomically: true, encoding: .utf8)
        let refusedConfig = try await ChildProcess.runDetached([hardening, "replay", "--config", wrong, path])
        #expect(refusedConfig.status == 64 && refusedConfig.stderr.contains("objectives[1]") && refusedConfig.stderr.contains("search=fast"),
                "\(refusedConfig.stderr)")

        for bad in [["--slo", "search"], ["--slo", "search=100%"], ["--slo", "search:p99<fast"], ["--baseline", "1h"], ["--slo-period", "soon"]] {
            let refused = try await ChildProcess.runDetached([hardening, "replay"] + bad + [path])
            #expect(refused.status == 64 && refused.stderr.contains(bad[0]), "\(bad): \(refused.stderr)")
        }
    }
}
