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

/// `hardening` as PID 1, as in a container without an init (`docker run`, a Kubernetes pod):
/// `unshare --pid --fork` makes the child the first process of a new PID namespace. The kernel
/// delivers a signal from outside the namespace to its PID 1 only if the process installed a
/// handler for it (the default action of SIGTERM is ignored there), so a program that relies on
/// the default dies only at the grace period's SIGKILL, with whatever it had not written.
/// `--mount-proc` gives the namespace its own `/proc`, as a container has: libdispatch reads
/// `/proc/<tid>/stat` of its worker threads, and with the host's `/proc` a namespace's thread ids
/// name other processes' files (it traps on what it reads there).
@Suite(.serialized) struct PIDOneTests {
    /// A program started as PID 1 of a new PID namespace, killed (with its namespace) whatever
    /// the test's outcome.
    final class NamespacedChild {
        let process = Process()
        let stdout = Pipe()
        let stderrPath: String

        init(_ arguments: [String], stderrPath: String) throws {
            self.stderrPath = stderrPath
            _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["unshare"] + PIDOneTests.unshareFlags + ["--pid", "--fork", "--mount-proc", "--kill-child", "--"] + arguments
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = stdout
            process.standardError = FileHandle(forWritingAtPath: stderrPath)
            try process.run()
        }

        var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

        /// The pid (in this namespace) of the namespace's PID 1: `unshare`'s only child.
        func innerPID() async throws -> Int32 {
            let pid = process.processIdentifier
            var inner: Int32?
            await eventually(timeout: .seconds(60), interval: .milliseconds(10)) {
                let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
                inner = children.split(separator: " ").first.flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
                return inner != nil
            }
            guard let inner else {
                throw NoChild(stderr: process.isRunning ? "unshare still running; \(stderr)" : "unshare exited with \(process.terminationStatus); \(stderr)")
            }
            // Until it has exec'd the program, PID 1 is still unshare's own code (whose signal
            // handling is not the program's): a signal sent then tests nothing.
            let command = (process.arguments ?? []).drop { $0 != "--" }.dropFirst().first.map { String($0.split(separator: "/").last ?? "") } ?? ""
            await eventually(timeout: .seconds(60), interval: .milliseconds(10)) {
                let comm = (try? String(contentsOfFile: "/proc/\(inner)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                return comm == nil || comm == String(command.prefix(15))
            }
            return inner
        }

        /// Waits for the exit, without holding a pool thread; `nil` if it did not end in time.
        func wait(timeout: Duration) async -> (status: Int32, signalled: Bool)? {
            let process = process
            let deadline = ContinuousClock.now + timeout
            while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning { return nil }
            return (process.terminationStatus, process.terminationReason == .uncaughtSignal)
        }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    struct NoChild: Error, CustomStringConvertible {
        var stderr: String
        var description: String { "unshare started no child: \(stderr)" }
    }

    /// `unshare`'s flags for a PID namespace here: none as root; a user namespace as anyone else.
    static let unshareFlags: [String] = {
        if (try? ChildProcess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"]))?.status == 0 { return [] }
        return ["--user", "--map-root-user"]
    }()

    /// The seq numbers of the JSON events in `bytes` (one object a line).
    static func sequence(ofLines bytes: [UInt8]) -> [UInt64] {
        bytes.split(separator: 0x0A).compactMap { line in
            ((try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any])?["seq"] as? UInt64
        }.filter { $0 > 0 }
    }

    static func sequence(ofFilesIn directory: String) -> (seq: [UInt64], issues: [ReadIssue]) {
        let reader = LogReader()
        let result = reader.readAll(reader.logFiles(in: directory))
        return (result.events.map(\.seq).filter { $0 > 0 }, result.issues)
    }

    @Test func aProgramWithoutAHandlerIgnoresSIGTERMAsPID1() async throws {
        // The control: the namespace is what makes SIGTERM special.
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // Long enough to outlast a test task that waits for the concurrency pool on a busy machine
        // (the child is killed when the test ends).
        let child = try NamespacedChild(["sleep", "3600"], stderrPath: directory.path + "/stderr")
        let inner = try await child.innerPID()
        kill(inner, SIGTERM)
        #expect(await child.wait(timeout: .seconds(1)) == nil, "sleep as PID 1 did not die of SIGTERM: \(child.stderr)")
    }

    @Test func generateAsPID1FlushesEveryEventToStdoutAndTheFilesOnSIGTERM() async throws {
        let output = TestOutput.directory(named: "pid1-generate")
        let scratch = TemporaryDirectory()
        defer { output.finish(); scratch.remove() }
        let child = try NamespacedChild([ChildProcess.hardeningExecutable, "generate", "--events", "100000000", "--rate", "3000",
                                         "--stdout", "--stdout-overflow", "block", "--shutdown-timeout", "30",
                                         "--log-dir", output.path, "--max-files", "100000"],
                                        stderrPath: scratch.path + "/stderr")
        let reader = child.stdout.fileHandleForReading
        // The runtime reads on a thread of its own, as containerd does: never starved by the pool.
        async let records = onOwnThread { ContainerLogRuntime().records(readingFrom: reader.fileDescriptor) }
        let inner = try await child.innerPID()
        #expect(await eventually(timeout: .seconds(60), interval: .milliseconds(20)) {
            (FileManager.default.contents(atPath: output.path + "/events.jsonl")?.count ?? 0) > 300_000
        }, "events on disk: \(child.stderr)")
        kill(inner, SIGTERM)
        let ended = await child.wait(timeout: .seconds(60))
        #expect(ended?.status == 0 && ended?.signalled == false, "PID 1 stopped cleanly on SIGTERM: \(String(describing: ended)) \(child.stderr)")
        let lines = try await records
        #expect(lines.allSatisfy { !$0.partial })
        let stdoutSequence = Self.sequence(ofLines: lines.flatMap { $0.content + [0x0A] })
        let (fileSequence, issues) = Self.sequence(ofFilesIn: output.path)
        #expect(issues.isEmpty, "\(issues)")
        #expect(fileSequence.count > 500)
        let noHole = fileSequence == Array(1...UInt64(max(fileSequence.count, 1)))
        #expect(noHole, "no hole on disk")
        let same = stdoutSequence == fileSequence
        #expect(same, "stdout carries the same events as the files, to the last: \(stdoutSequence.count) vs \(fileSequence.count); \(child.stderr)")
        #expect(child.stderr.contains("delivered \(fileSequence.count),"), "everything delivered is written: \(child.stderr)")
    }

    @Test func theAgentAsPID1StopsCleanlyOnSIGTERMWithEveryEventWritten() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("agent.yaml", """
            service: pid1-agent
            shutdown_timeout: 5s
            shutdown_drain: 1s
            server: {host: 127.0.0.1, port: 0}
            events: {stdout: json, directory: logs, min_rotation_interval: 0s, window: 250ms}
            health:
              interval: 100ms
              checks:
                - {name: events, type: sinks}
            """)
        let child = try NamespacedChild([ChildProcess.hardeningExecutable, "agent", "--config", directory.path + "/agent.yaml"],
                                        stderrPath: directory.path + "/agent.stderr")
        let reader = child.stdout.fileHandleForReading
        async let stdoutBytes = onOwnThread { reader.readDataToEndOfFile() }
        let inner = try await child.innerPID()
        #expect(await eventually(timeout: .seconds(60), interval: .milliseconds(20)) { child.stderr.contains("listening on http://127.0.0.1:") },
                "the agent listens: \(child.stderr)")
        #expect(await eventually(timeout: .seconds(30), interval: .milliseconds(50)) {
            Self.sequence(ofFilesIn: directory.path + "/logs").seq.count > 20
        }, "probes written")
        kill(inner, SIGTERM)
        let ended = await child.wait(timeout: .seconds(20))
        #expect(ended?.status == 0 && ended?.signalled == false, "the agent as PID 1 stopped cleanly: \(String(describing: ended)) \(child.stderr)")
        let stdoutSequence = Self.sequence(ofLines: Array(try await stdoutBytes))
        let (fileSequence, issues) = Self.sequence(ofFilesIn: directory.path + "/logs")
        #expect(issues.isEmpty, "\(issues)")
        let noHole = fileSequence == Array(1...UInt64(max(fileSequence.count, 1)))
        #expect(noHole, "no hole on disk")
        let same = stdoutSequence == fileSequence
        #expect(same, "stdout and the files hold the same events: \(stdoutSequence.count) vs \(fileSequence.count); \(child.stderr)")
    }
}
