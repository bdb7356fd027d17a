import Foundation

/// Runs external programs for tests (`zcat`, `gzip -t`, `tail -F`, the `hardening` binary).
public enum ChildProcess {
    /// The result of a finished program.
    public struct Output: Sendable {
        /// Exit status (or signal number for `uncaughtSignal`).
        public var status: Int32
        /// Whether it ended by a signal.
        public var signalled: Bool
        /// Standard output.
        public var stdout: Data
        /// Standard error as text.
        public var stderr: String
    }

    /// Runs `arguments[0]` (looked up on `PATH`) with the rest, feeding `input`, and waits.
    public static func run(_ arguments: [String], input: Data? = nil, environment: [String: String]? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            let writer = stdin.fileHandleForWriting
            DispatchQueue.global().async {
                try? writer.write(contentsOf: input)
                try? writer.close()
            }
        }
        let group = DispatchGroup()
        nonisolated(unsafe) var out = Data()
        nonisolated(unsafe) var err = Data()
        group.enter()
        DispatchQueue.global().async {
            out = stdout.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        err = stderr.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                      stdout: out, stderr: String(decoding: err, as: UTF8.self))
    }

    /// ``run(_:input:environment:)`` on a thread of its own, for async tests: a test that waits
    /// for a child while blocking one of the concurrency pool's few threads can starve an
    /// in-process server the child talks to.
    public static func runDetached(_ arguments: [String], input: Data? = nil, environment: [String: String]? = nil) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try run(arguments, input: input, environment: environment) })
            }
        }
    }

    /// Sends `signal` to `pid` after `delay`, timed on a thread of its own: a test's sleep on a
    /// busy concurrency pool can resume seconds late, long after the moment it meant to hit.
    public static func signal(_ pid: Int32, _ signal: Int32, after delay: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                let (seconds, attoseconds) = delay.components
                var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
                var remaining = timespec()
                while nanosleep(&request, &remaining) != 0 { request = remaining }
                kill(pid, signal)
                continuation.resume()
            }
        }
    }

    /// The built `hardening` executable next to the test bundle.
    public static var hardeningExecutable: String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("hardening").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath + "/.build/debug/hardening"
    }
}
