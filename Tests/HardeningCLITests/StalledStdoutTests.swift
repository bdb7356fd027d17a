import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `hardening generate --stdout --log-dir` whose standard output nobody reads (a pipe the test
/// holds open and never reads, as `| sleep 20` does): the files still get every event, and
/// SIGTERM is honoured within `--shutdown-timeout` whatever standard output does.
@Suite(.serialized) struct StalledStdoutTests {
    /// A `hardening` child whose standard output is a pipe nobody reads; killed by its pid
    /// whatever the test's outcome. Its state is set once at start (`@unchecked Sendable`: `Process`
    /// and `Pipe` are thread-safe to wait on).
    final class StalledChild: @unchecked Sendable {
        let process = Process()
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()

        init(_ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: ChildProcess.hardeningExecutable)
            process.arguments = arguments
            process.standardOutput = stdoutPipe
            process.standardError = stderrPipe
            try process.run()
        }

        /// Waits for the exit on a thread of its own (never a thread of the concurrency pool).
        func exit() async -> (status: Int32, stderr: String) {
            await withCheckedContinuation { continuation in
                Thread.detachNewThread { [self] in
                    let stderr = String(decoding: stderrPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                    process.waitUntilExit()
                    continuation.resume(returning: (process.terminationStatus, stderr))
                }
            }
        }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    private func events(in directory: String) -> (events: [Event], issues: [ReadIssue]) {
        let reader = LogReader()
        let result = reader.readAll(reader.logFiles(in: directory))
        return (result.events.filter { $0.seq > 0 }, result.issues)
    }

    private func number(after label: String, in stderr: String) -> Int64? {
        guard let range = stderr.range(of: label + #" (\d+)"#, options: .regularExpression) else { return nil }
        return Int64(stderr[range].split(separator: " ").last!)
    }

    /// Standard output with its own `drop-newest` queue: it loses its own lines (counted and
    /// reported as `sink.dropped` in the files), the files lose nothing.
    @Test func aStalledStdoutDropsOnlyItsOwnLinesAndTheFilesGetEveryEvent() async throws {
        let output = TestOutput.directory(named: "stalled-stdout-drop")
        defer { output.finish() }
        let child = try StalledChild(["generate", "--events", "100000", "--overflow", "block", "--stdout-overflow", "drop-newest",
                                      "--stdout", "--log-dir", output.path, "--shutdown-timeout", "2"])
        let (status, stderr) = await child.exit()
        #expect(status == 0, "\(stderr)")
        let delivered = number(after: "delivered", in: stderr)
        let (events, issues) = events(in: output.path)
        #expect(issues.isEmpty, "\(issues)")
        #expect(UInt64(events.count) == delivered.map(UInt64.init), "every delivered event is in the files: \(stderr)")
        #expect(events.map(\.seq) == Array(1...UInt64(events.count)), "no hole in the files")
        #expect(stderr.contains("lost 0"), "\(stderr)")
        // Standard output's pipe holds 64 KiB: it took a few hundred lines and dropped the rest.
        let stdoutDropped = number(after: "stdout dropped", in: stderr) ?? 0
        #expect(stdoutDropped > 10_000, "\(stderr)")
        let reports = events.filter { $0.kind == .sinkDropped }.compactMap { try? $0.payload(as: SinkDropped.self) }
        #expect(!reports.isEmpty && reports.allSatisfy { $0.sink == "stdout" && $0.policy == "drop_newest" })
        #expect(reports.last?.totalDropped == stdoutDropped, "the last report has the total the process printed")
        // Replay shows the loss as standard output's own, apart from the bus's.
        let json = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "replay", output.path, "--format", "json"])
        let loss = try JSONDocument.parse(json.stdout)["loss"]
        #expect(loss?["dropped_by_sink_queues"]?["stdout"] == .int(stdoutDropped), "\(String(describing: loss))")
        #expect(loss?["dropped_by_bus"] == .int(0))
    }

    /// The default: standard output is waited for while its reader reads, then, stalled for 2 s,
    /// it drops its own lines; the run goes on and the files get every event.
    @Test func byDefaultAStalledStdoutIsGivenUpAfterTwoSecondsAndTheFilesGetEveryEvent() async throws {
        let output = TestOutput.directory(named: "stalled-stdout-default")
        defer { output.finish() }
        let child = try StalledChild(["generate", "--events", "60000", "--overflow", "block", "--stdout", "--log-dir", output.path])
        let (status, stderr) = await child.exit()
        #expect(status == 0, "\(stderr)")
        let delivered = number(after: "delivered", in: stderr)
        let (events, issues) = events(in: output.path)
        #expect(issues.isEmpty, "\(issues)")
        #expect(UInt64(events.count) == delivered.map(UInt64.init), "every delivered event is in the files: \(stderr)")
        #expect(events.map(\.seq) == Array(1...UInt64(events.count)), "no hole in the files")
        #expect((number(after: "stdout dropped", in: stderr) ?? 0) > 10_000, "\(stderr)")
        #expect(events.contains { $0.kind == .sinkDropped && $0.attrs["policy"] == "block_unless_stalled" })
    }

    /// Everything under `block` (the lossless choice for the files): the stalled standard output
    /// holds the drain and the generator; SIGTERM starts the shutdown clock, standard output is
    /// given up at the timeout, and every event the bus delivered is on disk.
    @Test func sigtermIsHonouredWithinTheTimeoutWhileStdoutIsStalled() async throws {
        let output = TestOutput.directory(named: "stalled-stdout-sigterm")
        defer { output.finish() }
        let child = try StalledChild(["generate", "--events", "100000000", "--rate", "20000", "--overflow", "block", "--stdout",
                                      "--stdout-overflow", "block", "--log-dir", output.path, "--shutdown-timeout", "2"])
        // Standard output stalls at once; its queue (2 MiB of events) fills in a second, and
        // from then on the drain waits for it: the files stop growing. Wait for that.
        var lastSize = -1
        for _ in 0..<120 {
            try await Task.sleep(for: .milliseconds(500))
            let names = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
            let size = names.filter { $0.hasPrefix("events-") }.reduce(0) { total, name in
                total + ((try? FileManager.default.attributesOfItem(atPath: output.path + "/" + name)[.size] as? Int) ?? 0)
            }
            if size > 0 && size == lastSize { break }
            lastSize = size
        }
        let signalled = ContinuousClock.now
        kill(child.process.processIdentifier, SIGTERM)
        let (status, stderr) = await child.exit()
        let took = ContinuousClock.now - signalled
        #expect(status == 0, "\(stderr)")
        // The timeout is 2 s; what is left is exiting and the machine's load.
        #expect(took < .seconds(8), "SIGTERM took \(took)")
        #expect(stderr.contains("stdout given up at the shutdown timeout"), "\(stderr)")
        let delivered = number(after: "delivered", in: stderr)
        let (events, issues) = events(in: output.path)
        #expect(issues.isEmpty, "\(issues)")
        #expect(events.count > 2_000, "standard output's queue (2 MiB of events) filled before the drain waited")
        #expect(UInt64(events.count) == delivered.map(UInt64.init), "every delivered event is in the files: \(stderr)")
        #expect(events.map(\.seq) == Array(1...UInt64(events.count)), "no hole in the files")
    }
}
