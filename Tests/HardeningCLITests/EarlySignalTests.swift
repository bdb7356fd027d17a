import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Testing

/// A SIGTERM that reaches a command before its service group listens (a loaded machine, a
/// process stopped with SIGSTOP while it starts) is a graceful stop like any other: the summary
/// line, every event on disk, exit 0; never status 143 with nothing said. The child starts with
/// SIGTERM pending and blocked (a wrapper blocks it, sends it to itself and execs the command,
/// which keeps both), so it arrives at the first moment the runtime unblocks it, every time.
@Suite struct EarlySignalTests {
    private static let sendTermThenExec = """
        import os, signal, sys
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
        os.kill(os.getpid(), signal.SIGTERM)
        os.execv(sys.argv[1], sys.argv[1:])
        """

    private func runWithEarlySIGTERM(_ arguments: [String]) async throws -> ChildProcess.Output {
        try await ChildProcess.runDetached(["python3", "-c", Self.sendTermThenExec, ChildProcess.hardeningExecutable] + arguments)
    }

    @Test func aSIGTERMBeforeTheServiceGroupListensStopsGenerateGracefully() async throws {
        let output = TestOutput.directory(named: "early-sigterm")
        defer { output.finish() }
        let result = try await runWithEarlySIGTERM(["generate", "--events", "100000000", "--rate", "1000", "--log-dir", output.path])
        #expect(!result.signalled && result.status == 0, "ended by signal \(result.signalled ? result.status : 0): \(result.stderr)")
        #expect(result.stderr.contains("generated ") && result.stderr.contains("lost 0"), "\(result.stderr)")
        let report = try Replay().run(ReplayInputs([output.path]))
        #expect(report.summary.missingEvents == 0 && report.input.issueCount == 0)
    }
}
