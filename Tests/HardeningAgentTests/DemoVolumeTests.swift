import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Testing

extension LoadTests {
    /// The production profile against `--detail full`, as users run the demo (20 s each, its
    /// scripted faults, then every dependency healthy at 4 and 16 workers): the volume targets of
    /// README's table, and in every run the live summary equal to the replay, field by field.
    @Suite(.serialized) struct DemoVolume {
        struct Run {
            var stdoutLines: [Substring]
            var stdoutEvents: [Event]
            var fileLines: Int
            var fileBytes: Int
            var report: Replay.Report
            var stdout: String
        }

        /// Runs the demo with `arguments`; its stdout lines, the uncompressed lines and bytes of its
        /// files, and their replay.
        static func demo(_ name: String, _ arguments: [String]) async throws -> Run {
            let output = TestOutput.directory(named: "demo-volume-" + name)
            defer { output.finish() }
            let directory = output.path + "/logs"
            let result = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "demo", "--duration", "20", "--log-dir", directory,
                                                             "--stdout", "json"] + arguments)
            let stdout = String(decoding: result.stdout, as: UTF8.self)
            #expect(result.status == 0, "\(name): \(result.stderr.suffix(2000))\n\(stdout.suffix(2000))")
            #expect(stdout.contains("equal ✅"), "\(name): the live summary equals the replay: \(stdout.suffix(3000))")
            let lines = stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
            let decoder = JSONLineDecoder()
            let events = lines.compactMap { try? decoder.decode(String($0)) }
            #expect(events.count == lines.count, "\(name): every stdout line is one event")
            var fileLines = 0
            var fileBytes = 0
            let encoder = JSONLineEncoder()
            let read = LogReader().readAll(LogReader().logFiles(in: directory))
            for event in read.events {
                fileLines += 1
                fileBytes += encoder.encode(event).count
            }
            let report = try Replay().run(ReplayInputs([directory]))
            #expect(report.input.issueCount == 0 && report.summary.missingEvents == 0, "\(name)")
            return Run(stdoutLines: lines, stdoutEvents: events, fileLines: fileLines, fileBytes: fileBytes, report: report, stdout: stdout)
        }

        @Test func theScriptedStoryWritesAFifthOfTheLinesAndBytesWithEveryTransitionErrorAndContext() async throws {
            let production = try await Self.demo("production", [])
            let full = try await Self.demo("full", ["--detail", "full"])
            let lineRatio = Double(full.stdoutLines.count) / Double(max(1, production.stdoutLines.count))
            let byteRatio = Double(full.fileBytes) / Double(max(1, production.fileBytes))
            #expect(lineRatio >= 5, "stdout lines: full \(full.stdoutLines.count), production \(production.stdoutLines.count)")
            #expect(byteRatio >= 5, "file bytes: full \(full.fileBytes), production \(production.fileBytes)")
            // The same story in both: every transition, alert, error and exhausted retry is a line of
            // its own (the summary's totals are made of those lines alone).
            for run in [production, full] {
                let summary = run.report.summary
                let lines = Dictionary(grouping: run.stdoutEvents, by: \.kind).mapValues(\.count)
                #expect(summary.breakers.values.reduce(0) { $0 + $1.transitions.values.reduce(0, +) } == Int64(lines[.breakerStateChanged] ?? 0))
                #expect(summary.alertsFired.values.reduce(0, +) + summary.alertsResolved.values.reduce(0, +)
                        == Int64((lines[.alertFired] ?? 0) + (lines[.alertResolved] ?? 0)))
                #expect(summary.errors.total == Int64(lines[.errorRecorded] ?? 0))
                #expect(summary.retries.values.reduce(0) { $0 + $1.exhausted.values.reduce(0, +) } == Int64(lines[.retryExhausted] ?? 0))
                #expect((summary.breakers["llm"]?.transitions["closed->open"] ?? 0) >= 1)
            }
            // Each failure after the first step of its question comes after the calls of its trace
            // that went well (written as context, marked in_window).
            var contextSeen: [String: Int] = [:]
            var failuresWithContext = 0
            for event in production.stdoutEvents {
                guard let trace = event.traceID else { continue }
                if event.attrs["in_window"] == .bool(true) { contextSeen[trace, default: 0] += 1 }
                if event.kind == .errorRecorded, !event.message.contains("notes.fetch_page") {
                    #expect(contextSeen[trace, default: 0] > 0, "no context before \(event.message)")
                    failuresWithContext += 1
                }
            }
            // (Whether a question fails after its first step depends on the run; a failed attempt
            // of the vectors or the LLM after the notes answered always brings context.)
            _ = failuresWithContext
            #expect(!contextSeen.isEmpty, "no failure was written with its trace's context")
            // The cost is visible in the replay: lines and bytes by kind.
            #expect(production.stdout.contains("Volume (lines and bytes read, by kind)"))
        }

        @Test func aSteadyServiceWritesByTimeAndOperationNotByCall() async throws {
            let four = try await Self.demo("steady-4", ["--faults", "none", "--workers", "4"])
            let sixteen = try await Self.demo("steady-16", ["--faults", "none", "--workers", "16"])
            let fourFull = try await Self.demo("steady-4-full", ["--faults", "none", "--workers", "4", "--detail", "full"])
            let sixteenFull = try await Self.demo("steady-16-full", ["--faults", "none", "--workers", "16", "--detail", "full"])
            let calls = { (run: Run) in run.report.summary.operations["rag.answer"]?.count ?? 0 }
            #expect(calls(sixteen) > calls(four), "more workers answer more questions: \(calls(four)) → \(calls(sixteen))")
            #expect(Double(sixteenFull.stdoutLines.count) / Double(max(1, sixteen.stdoutLines.count)) >= 50,
                    "full \(sixteenFull.stdoutLines.count) lines, production \(sixteen.stdoutLines.count)")
            #expect(Double(sixteen.stdoutLines.count) <= 1.2 * Double(four.stdoutLines.count),
                    "production: \(four.stdoutLines.count) lines at 4 workers, \(sixteen.stdoutLines.count) at 16")
            #expect(Double(sixteenFull.stdoutLines.count) >= 2 * Double(fourFull.stdoutLines.count),
                    "full: \(fourFull.stdoutLines.count) lines at 4 workers, \(sixteenFull.stdoutLines.count) at 16")
        }
    }
}
