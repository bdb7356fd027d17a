import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Testing

/// The volume flags of `generate` and `emit`: the detail, kind levels and the sinks' levels,
/// through the real tool; a wrong value is a usage error that says what was wrong.
@Suite struct VolumeFlagsTests {
    @Test func generateWritesEveryEventUnlessAskedForTheProductionDetail() async throws {
        let directory = TemporaryDirectory(prefix: "volume-flags")
        defer { directory.remove() }
        let full = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "generate", "--events", "3000",
                                                       "--log-dir", directory.path + "/full", "--summary-json", directory.path + "/full.json"])
        #expect(full.status == 0, "\(full.stderr)")
        let production = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "generate", "--events", "3000", "--detail", "production",
                                                             "--log-dir", directory.path + "/production",
                                                             "--summary-json", directory.path + "/production.json"])
        #expect(production.status == 0, "\(production.stderr)")
        let fullReport = try Replay().run(ReplayInputs([directory.path + "/full"]))
        let productionReport = try Replay().run(ReplayInputs([directory.path + "/production"]))
        #expect(fullReport.summary.events == 3000, "--events N gives N lines")
        #expect(productionReport.summary.events < fullReport.summary.events)
        #expect((productionReport.summary.byKind["timing.window"] ?? 0) > 0)
        // The same calls either way, and each run's files replay to its own live summary.
        #expect(productionReport.summary.operations.mapValues(\.count) == fullReport.summary.operations.mapValues(\.count))
        for (name, report) in [("full", fullReport), ("production", productionReport)] {
            let live = try String(contentsOfFile: directory.path + "/\(name).json", encoding: .utf8)
            #expect(live == report.summary.jsonText + "\n", "\(name)")
        }
    }

    @Test func kindLevelsAndSinkLevelsApplyToEmit() async throws {
        let directory = TemporaryDirectory(prefix: "emit-levels")
        defer { directory.remove() }
        let input = [
            #"{"event":"retry.succeeded","attrs":{"operation":"a","attempts":2,"elapsed_ms":5}}"#,
            #"{"event":"health.probed","attrs":{"check":"x","status":"healthy","latency_ms":1,"detail":""}}"#,
            "a plain line",
            #"{"event":"alert.fired","level":"error","attrs":{"rule":"r","check":"x","reason":"down","consecutive_failures":3}}"#,
        ].joined(separator: "\n") + "\n"
        let result = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "emit", "--log-dir", directory.path, "--stdout",
                                                         "--kind-level", "retry.succeeded=warning", "--kind-level", "health.probed=off",
                                                         "--stdout-level", "warning"], input: Data(input.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        let decoder = JSONLineDecoder()
        let stdout = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").compactMap { try? decoder.decode(String($0)) }
        #expect(stdout.map(\.kind) == [.retrySucceeded, .alertFired], "stdout keeps warning and above")
        #expect(stdout.first?.level == .warning)
        let files = LogReader().readAll(LogReader().logFiles(in: directory.path)).events.filter { $0.seq > 0 }
        #expect(files.map(\.kind) == [.retrySucceeded, .logMessage, .alertFired], "the files keep every level, the kind turned off is nowhere")
        #expect(files.map(\.seq) == [1, 2, 3], "a kind turned off takes no seq")
    }

    @Test(arguments: [
        (["--kind-level", "retry.succeeded"], "--kind-level 'retry.succeeded': give KIND=LEVEL"),
        (["--kind-level", "Retry=info"], "--kind-level 'Retry=info': give KIND=LEVEL"),
        (["--kind-level", "retry.succeeded=loud"], "'loud' is not trace, debug, info, notice, warning, error, critical or off"),
        (["--detail", "some"], "--detail"),
        (["--window", "0"], "--window must be"),
        (["--stdout-level", "fatal"], "--stdout-level"),
    ])
    func aWrongVolumeFlagIsAUsageErrorThatSaysWhy(arguments: [String], message: String) async throws {
        let result = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "generate", "--events", "1", "--stdout"] + arguments)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
