import Foundation
import Hardening
import HardeningAgent
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Testing

/// `hardening demo` as users run it (shortened): the scripted story happens, stdout carries one
/// JSON event a line, the files are real gzip, and the live summary equals the replay.
@Suite(.serialized) struct DemoTests {
    @Test func theDemoNeverClearsADirectoryItDidNotWrite() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("precious.txt", "keep me")
        let result = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "demo", "--duration", "1", "--log-dir", directory.path, "--stdout", "off"])
        #expect(result.status == 1 && result.stderr.contains("holds files the demo did not write"), "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: directory.path + "/precious.txt") == Data("keep me".utf8))
    }
}

extension LoadTests {
    /// The demo at full speed for 4 s: how many questions it answers depends on the cores it gets.
    @Suite struct ShortDemo {
        @Test func aShortDemoTellsTheWholeStoryAndTheReplayEqualsTheLiveSummary() async throws {
            let output = TestOutput.directory(named: "demo")
            defer { output.finish() }
            let directory = output.path + "/logs"
            let result = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "demo", "--duration", "4", "--log-dir", directory, "--stdout", "json"])
            let stdout = String(decoding: result.stdout, as: UTF8.self)
            #expect(result.status == 0, "\(result.stderr)\n\(stdout.suffix(3000))")
            #expect(stdout.contains("equal ✅"), "\(stdout.suffix(2000))")
            #expect(result.stderr.contains("[4/4 s] answered"), "\(result.stderr)")

            // stdout: JSON events, one a line, then the report.
            let decoder = JSONLineDecoder()
            let eventLines = stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
            let stdoutEvents = eventLines.compactMap { try? decoder.decode(String($0)) }
            #expect(stdoutEvents.count == eventLines.count && stdoutEvents.count > 50)
            // The production detail: routine calls and probes in windows, what went wrong in full.
            let kinds = Set(stdoutEvents.map(\.kind))
            #expect(kinds.isSuperset(of: [.timingWindow, .healthWindow, .eventsRepeated, .breakerStateChanged, .retryAttemptFailed]), "\(kinds)")
            // Each question is a trace: what it wrote carries the W3C ids, and a question's
            // failure comes after the calls of its trace that went well (marked in_window).
            let traced = stdoutEvents.filter { $0.traceID != nil }
            #expect(traced.count > 10 && traced.allSatisfy { $0.traceID?.count == 32 && $0.spanID?.count == 16 })
            #expect(Set(traced.compactMap(\.traceID)).count > 5)
            let context = stdoutEvents.filter { $0.attrs["in_window"] == .bool(true) }
            #expect(!context.isEmpty && context.allSatisfy { $0.kind == .timingRecorded && $0.traceID != nil })

            // The files: rotated gzip segments that zcat reads, and the whole story in them.
            let reader = LogReader()
            let files = reader.logFiles(in: directory)
            #expect(files.contains { $0.hasSuffix(".gz") }, "\(files)")
            for file in files where file.hasSuffix(".gz") {
                #expect(try await ChildProcess.runDetached(["gzip", "-t", file]).status == 0)
            }
            let report = try Replay().run(ReplayInputs([directory]))
            let summary = report.summary
            #expect(report.input.issueCount == 0 && summary.missingEvents == 0)
            #expect(summary.events == Int64(stdoutEvents.count), "stdout and the files hold the same events")
            #expect((summary.breakers["llm"]?.transitions["closed->open"] ?? 0) >= 1, "the outage opened the LLM breaker")
            #expect((summary.breakers["llm"]?.transitions["half_open->closed"] ?? 0) >= 1, "and it closed after recovery")
            #expect((summary.retries["llm.complete"]?.succeededAfterRetry ?? 0) >= 1, "429s were retried after Retry-After")
            #expect((summary.retries["vectors.query"]?.retriedAttempts ?? 0) >= 1, "503 bursts were retried")
            #expect((summary.fallbacks["llm.complete"]?["cached_answer"] ?? 0) >= 1)
            #expect((summary.fallbacks["references.lookup"]?["no_references"] ?? 0) >= 1)
            #expect((summary.timeouts["notes.fetch_page"]?["attempt"] ?? 0) >= 1, "latency spikes hit the attempt timeout")
            #expect(summary.alertsFired.keys.contains("consecutive_failures/llm") && summary.alertsResolved.keys.contains("consecutive_failures/llm"))
            #expect(summary.byKind["config.checked"] == 13, "twelve RAG rules and one connectivity check")
            #expect((summary.operations["rag.answer"]?.count ?? 0) > 50)
            // The demo's keys are secrets: redacted from every event.
            #expect(!stdout.contains("sk-demo-0000") && !stdout.contains("pcsk_demo_"))
        }
    }
}

extension LoadTests {
    @Suite struct DemoDashboard {
        /// `demo --dashboard-port 0`: the live dashboard over the demo's own operations, breakers and
        /// health, its stream carrying the demo's events, both ended cleanly when the demo is stopped.
        @Test func theDemoServesItsLiveDashboardWhileItRuns() async throws {
            let directory = TemporaryDirectory(prefix: "demo-dashboard")
            defer { directory.remove() }
            let child = try AgentProcessTests.AgentChild(executable: ChildProcess.hardeningExecutable, arguments: [
                "demo", "--duration", "30", "--log-dir", directory.path + "/logs", "--stdout", "off", "--dashboard-port", "0",
            ], directory: directory.path, environment: [:])
            let port = try await child.port()
            let stream = try #require(EventStreamClient(port: port, path: "/events/stream?kinds=timing.recorded"))
            stream.startReading(quietFor: 20)
            let view = try await HTTPHealthCheckTests.withClient { client in
                try await eventually(timeout: .seconds(30)) { try await AgentProcessTests.get(client, "http://127.0.0.1:\(port)/dashboard/view").body } until: {
                    $0.contains("<td>rag.answer</td>") && $0.contains("<h2>Circuit breakers</h2>")
                }
            }
            #expect(view.contains("<td>rag.answer</td>") && view.contains("aria-label=\"latency over time\""), "\(view.prefix(1500))")
            #expect(await eventually(timeout: .seconds(20)) { stream.frames > 10 }, "the stream carries the demo's timings: \(stream.frames)")
            #expect(try await child.terminate() == 0, "\(child.stderr)")
            #expect(await eventually(timeout: .seconds(20)) { stream.finished } && stream.closedByServer, "the stream ended with the demo")
        }
    }
}
