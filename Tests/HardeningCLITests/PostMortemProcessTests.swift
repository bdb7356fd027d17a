import Foundation
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
