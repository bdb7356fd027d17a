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

/// Reliability tests with a real child process: `hardening generate` stopped by real signals.
@Suite(.serialized) struct GenerateProcessTests {
    /// A started child process that is killed, by its pid, whatever the test's outcome.
    final class Child {
        let process = Process()
        let stderrPipe = Pipe()

        init(_ arguments: [String], shell: String? = nil) throws {
            if let shell {
                process.executableURL = URL(fileURLWithPath: "/bin/bash")
                process.arguments = ["-c", shell]
            } else {
                process.executableURL = URL(fileURLWithPath: ChildProcess.hardeningExecutable)
                process.arguments = arguments
            }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = stderrPipe
            try process.run()
        }

        func signal(_ number: Int32) { kill(process.processIdentifier, number) }

        /// Waits for the exit on a thread of its own: a child flushing for seconds must not hold
        /// one of the concurrency pool's threads meanwhile.
        func wait() async -> (status: Int32, stderr: String) {
            let process = process
            let pipe = stderrPipe
            return (try? await onOwnThread { () -> (Int32, String) in
                let stderr = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                return (process.terminationStatus, stderr)
            }) ?? (-1, "")
        }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    private func waitForLines(in path: String, atLeast count: Int) async throws {
        let appeared = await eventually(timeout: .seconds(30), interval: .milliseconds(20)) {
            (FileManager.default.contents(atPath: path)?.filter { $0 == 0x0A }.count ?? 0) >= count
        }
        if !appeared { Issue.record("no \(count) lines appeared in \(path)") }
    }

    private func runEvents(_ directory: String) -> (events: [Event], issues: [ReadIssue]) {
        let reader = LogReader()
        let result = reader.readAll(reader.logFiles(in: directory))
        return (result.events.filter { $0.seq > 0 }, result.issues)
    }

    private func delivered(in stderr: String) -> UInt64? {
        guard let range = stderr.range(of: #"delivered (\d+)"#, options: .regularExpression) else { return nil }
        return UInt64(stderr[range].split(separator: " ")[1])
    }

    @Test func sigtermLeavesEveryEventOnDiskWithoutAHole() async throws {
        let output = TestOutput.directory(named: "sigterm")
        defer { output.finish() }
        // Retention must not delete segments here, however slowly (a sanitizer build) the child starts.
        let child = try Child(["generate", "--events", "100000000", "--rate", "8000", "--log-dir", output.path,
                               "--max-file-bytes", "2000000", "--min-rotation-interval", "0", "--compression-delay", "0",
                               "--max-files", "100000"])
        try await waitForLines(in: output.path + "/events.jsonl", atLeast: 200)
        try await Task.sleep(for: .milliseconds(500))
        child.signal(SIGTERM)
        let (status, stderr) = await child.wait()
        #expect(status == 0, "\(stderr)")
        let (events, issues) = runEvents(output.path)
        #expect(issues.isEmpty, "\(issues)")
        #expect(events.count > 1000)
        let firstHole = events.indices.first { events[$0].seq != UInt64($0 + 1) }
        #expect(firstHole == nil, "no hole in seq: the first at index \(firstHole ?? -1) of \(events.count); \(stderr)")
        #expect(delivered(in: stderr) == UInt64(events.count), "everything the bus delivered is on disk: \(stderr)")
        #expect(Set(events.map(\.run)).count == 1)
    }

    @Test(arguments: ["plain", "gzip-stream"])
    func sigkillKeepsEverythingFlushedAndNeverReturnsATornLine(format: String) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // Retention must not delete segments here, however long a busy machine lets the child
        // write before the kill (at the default 50 files, 12 s of this rate).
        let child = try Child(["generate", "--events", "100000000", "--rate", "8000", "--log-dir", directory.path,
                               "--file-format", format, "--flush-interval", "0.05", "--max-file-bytes", "400000",
                               "--min-rotation-interval", "0", "--compression-delay", "0", "--max-files", "100000"])
        let active = directory.path + (format == "plain" ? "/events.jsonl" : "/events.jsonl.gz")
        await eventually(timeout: .seconds(30), interval: .milliseconds(20)) { (FileManager.default.contents(atPath: active)?.count ?? 0) >= 4096 }
        try await Task.sleep(for: .milliseconds(700))
        child.signal(SIGKILL)
        _ = await child.wait()
        let (events, issues) = runEvents(directory.path)
        #expect(events.count > 1000)
        // Whatever was flushed is readable, in order, from seq 1 with no hole in the middle.
        #expect(events.map(\.seq) == Array(1...UInt64(events.count)))
        // Damage can only be a torn tail at the very end of the active file: the segment the
        // stable name links, under which name the reader reports it (the link is not read twice).
        let activeSegment = try? FileManager.default.destinationOfSymbolicLink(atPath: active)
        for issue in issues {
            #expect([.tornLine, .truncatedGzip].contains(issue.kind), "\(issue)")
            #expect(issue.file == active || issue.file == activeSegment.map { directory.path + "/" + $0 }, "\(issue)")
        }
        // A restart finishes the job: the killed run's active file is rotated and compressed.
        let restart = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "generate", "--events", "10", "--log-dir", directory.path,
                                            "--file-format", format, "--compression-delay", "0", "--max-files", "100000"])
        #expect(restart.status == 0, "\(restart.stderr)")
        let (after, _) = runEvents(directory.path)
        #expect(after.count >= events.count + 10)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(!names.contains { $0.hasSuffix(".tmp") })
    }

    @Test func aFileSizeLimitIsReportedAndRecoveredWithoutLoss() async throws {
        let output = TestOutput.directory(named: "rlimit-fsize")
        defer { output.finish() }
        // RLIMIT_FSIZE at 200 KiB with SIGXFSZ ignored: writes past it fail with EFBIG.
        let command = "trap '' XFSZ; ulimit -f 200; exec '\(ChildProcess.hardeningExecutable)' generate --events 20000 " +
            "--log-dir '\(output.path)' --compression-delay 3600 --min-rotation-interval 0"
        let child = try Child([], shell: command)
        let (status, stderr) = await child.wait()
        #expect(status == 0, "the process survives: \(stderr)")
        let (events, issues) = runEvents(output.path)
        #expect(issues.isEmpty)
        #expect(events.map(\.seq) == Array(1...UInt64(events.count)))
        let failed = events.filter { $0.kind == .sinkFailed && $0.attrs["synthetic"] == nil }
        let recovered = events.filter { $0.kind == .sinkRecovered && $0.attrs["synthetic"] == nil }
        #expect(!failed.isEmpty)
        #expect(failed.allSatisfy { $0.attrs["errno"] == .int(Int64(EFBIG)) })
        #expect(recovered.count == failed.count)
        #expect(stderr.contains("lost 0"), "\(stderr)")
        for name in try FileManager.default.contentsOfDirectory(atPath: output.path) {
            let size = try FileManager.default.attributesOfItem(atPath: output.path + "/" + name)[.size] as? Int ?? 0
            #expect(size <= 200 * 1024)
        }
    }

    @Test func tailFollowingByNameSeesEveryLineExactlyOnce() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let captureDirectory = TemporaryDirectory()
        defer { captureDirectory.remove() }
        let active = directory.path + "/events.jsonl"
        let captured = captureDirectory.path + "/tail-output.txt"
        _ = FileManager.default.createFile(atPath: captured, contents: nil)
        let tail = Process()
        tail.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tail.arguments = ["tail", "-n", "+1", "--follow=name", "--retry", "-s", "0.05", active]
        tail.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: captured))
        tail.standardError = FileHandle.nullDevice
        try tail.run()
        defer {
            if tail.isRunning {
                kill(tail.processIdentifier, SIGKILL)
                tail.waitUntilExit()
            }
        }
        // The segments layout's stable name is a link, replaced at each rotation; `tail -F`
        // follows it by name. Rotations slower than the tailer's poll (minimum interval).
        let generate = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "generate", "--events", "6000", "--rate", "3000",
                                             "--log-dir", directory.path, "--max-file-bytes", "100000",
                                             "--min-rotation-interval", "0.4", "--compression-delay", "3600"])
        #expect(generate.status == 0, "\(generate.stderr)")
        let expected = runEvents(directory.path).events.count
        #expect(expected > 6000)
        var seqs: [UInt64] = []
        for _ in 0..<200 {
            try await Task.sleep(for: .milliseconds(50))
            let text = (try? String(contentsOfFile: captured, encoding: .utf8)) ?? ""
            seqs = text.split(separator: "\n").compactMap { try? JSONLineDecoder().decode(String($0)) }.map(\.seq).filter { $0 > 0 }
            if seqs.count >= expected { break }
        }
        kill(tail.processIdentifier, SIGKILL)
        tail.waitUntilExit()
        let segments = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("events-") }
        #expect(segments.count >= 3, "several rotations happened")
        #expect(seqs.count == expected, "every line once: got \(seqs.count) of \(expected)")
        #expect(seqs == Array(1...UInt64(expected)), "in order, none twice")
    }

    /// SIGKILL while segments rotate as fast as the sink allows, then a new run in the same
    /// directory: a tailer following `events-*.jsonl` throughout gets every line on disk exactly
    /// once (nothing a restart renames, nothing read twice), and start-up left no temporary behind.
    @Test(arguments: [0.4, 0.9, 1.5])
    func sigkillMidRotationThenRestartLosesAndRepeatsNothingForATailer(killAfter: Double) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let logs = directory.path + "/logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let tailer = Locked(GlobTailer(directory: logs))
        let stop = Locked(false)
        let reader = Thread {
            while !stop.withLock({ $0 }) {
                if !tailer.withLock({ $0.step() }) { usleep(2_000) }
            }
        }
        reader.start()
        defer { stop.withLock { $0 = true } }
        let arguments = ["generate", "--events", "200000", "--rate", "40000", "--log-dir", logs, "--max-file-bytes", "4096",
                         "--min-rotation-interval", "0", "--seed"]
        let killed = try Child(arguments + ["1"])
        await ChildProcess.signal(killed.process.processIdentifier, SIGKILL, after: .milliseconds(Int64(killAfter * 1000)))
        let first = await killed.wait()
        #expect(first.status == SIGKILL, "killed by the signal")
        let restarted = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable] + arguments + ["2", "--events", "5000"])
        #expect(restarted.status == 0, "\(restarted.stderr)")
        stop.withLock { $0 = true }
        while !reader.isFinished { usleep(1_000) }
        var finished = tailer.withLock { $0 }
        finished.catchUp()

        let files = LogReader().logFiles(in: logs)
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: logs)).contains { $0.hasSuffix(".tmp") })
        var onDisk: [String: Int] = [:]
        for file in files {
            for line in try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n") {
                let event = try JSONLineDecoder().decode(String(line))
                if event.seq > 0 { onDisk["\(event.run)/\(event.seq)", default: 0] += 1 }
            }
        }
        var tailed: [String: Int] = [:]
        for line in finished.lines {
            let event = try JSONLineDecoder().decode(line)
            if event.seq > 0 { tailed["\(event.run)/\(event.seq)", default: 0] += 1 }
        }
        #expect(Set(onDisk.values) == [1], "each event is in the files once")
        #expect(Set(onDisk.map(\.key).map { $0.split(separator: "/")[0] }).count == 2, "both runs wrote")
        #expect(finished.vanished.isEmpty, "no file vanished under the tailer: \(finished.vanished)")
        #expect(tailed.count == onDisk.count, "\(onDisk.count - tailed.count) lines on disk never reached the tailer")
        #expect(tailed.values.allSatisfy { $0 == 1 }, "\(tailed.values.filter { $0 > 1 }.count) lines reached it twice")
        print("SIGKILL after \(killAfter) s: \(files.count) files, \(onDisk.count) events on disk, \(tailed.count) tailed once")
    }

    /// A low rate is even: 300 events at 200/s take about 1.5 s, without a burst of 256 and a
    /// long pause (each 10 ms gets its share).
    @Test func aLowRateIsEvenNotBursts() async throws {
        let run = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "generate", "--events", "300", "--rate", "200", "--stdout"])
        #expect(run.status == 0, "\(run.stderr)")
        let stamps = String(decoding: run.stdout, as: UTF8.self).split(separator: "\n")
            .compactMap { try? JSONLineDecoder().decode(String($0)) }.filter { $0.kind != .fileOpened }.map(\.timestamp.microsecondsSinceEpoch)
        #expect(stamps.count >= 300)
        let span = Double(stamps.last! - stamps.first!) / 1e6
        #expect(span > 1.3 && span < 3, "300 events at 200/s took \(span) s")
        let longestGap = zip(stamps.dropFirst(), stamps).map { $0 - $1 }.max() ?? 0
        #expect(longestGap < 250_000, "the longest pause was \(longestGap) µs")
        let firstHalfSecond = stamps.filter { $0 - stamps[0] < 500_000 }.count
        #expect(firstHalfSecond < 150, "\(firstHalfSecond) events in the first half second: a burst")
    }

    /// generate's workload carries made-up drops and outages marked `"synthetic": true`: replay
    /// says so and never adds them to the loss.
    @Test func replayShowsSyntheticDropsApartFromRealLoss() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let generated = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "generate", "--events", "20000", "--log-dir", directory.path])
        #expect(generated.status == 0, "\(generated.stderr)")
        #expect(generated.stderr.contains("dropped 0"))
        let json = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "replay", directory.path, "--format", "json"])
        let report = try JSONDocument.parse(json.stdout)
        let loss = report["loss"]
        #expect(loss?["dropped_by_bus"] == .int(0) && loss?["sink_failures"] == .int(0) && loss?["lost_by_sinks"] == .int(0), "\(String(describing: loss))")
        guard case .int(let synthetic)? = loss?["synthetic_events"] else {
            Issue.record("no synthetic_events in \(String(describing: loss))")
            return
        }
        #expect(synthetic > 10)
        let text = String(decoding: try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "replay", directory.path]).stdout, as: UTF8.self)
        #expect(text.contains("synthetic drops and outages (generate's workload; not loss)"), "\(text.prefix(1500))")
        #expect(text.contains("These events include synthetic ones"))
    }

    @Test func generateWritesToItsOwnDirectoryByDefaultAndDocumentsItsFlags() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let run = try await ChildProcess.runDetached(["sh", "-c", "cd '\(directory.path)' && exec '\(ChildProcess.hardeningExecutable)' generate --events 10"])
        #expect(run.status == 0, "\(run.stderr)")
        let events = LogReader().readAll(LogReader().logFiles(in: directory.path + "/hardening-logs/generate")).events
        #expect(events.filter { $0.seq > 0 }.count >= 10, "not the demo's directory, not the agent's: its own")
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/hardening-logs/demo"))
        let help = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "generate", "--help"])
        let text = String(decoding: help.stdout, as: UTF8.self)
        for flag in ["--events", "--rate", "--log-dir", "--stdout", "--compression-level", "--compression-delay", "--max-file-bytes",
                     "--max-file-age", "--min-rotation-interval", "--max-files", "--max-total-bytes", "--retention-max-age",
                     "--flush-interval", "--fsync", "--max-line-bytes", "--file-layout", "--file-format", "--seed"] {
            #expect(text.contains(flag), "\(flag) is documented")
        }
    }

    @Test func stdoutCarriesOneJSONObjectPerLineAndTheSameSeedGivesTheSameEvents() async throws {
        let first = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "generate", "--events", "5000", "--stdout", "--seed", "7"])
        let second = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "generate", "--events", "5000", "--stdout", "--seed", "7"])
        #expect(first.status == 0)
        let decoder = JSONLineDecoder()
        let one = try String(decoding: first.stdout, as: UTF8.self).split(separator: "\n").map { try decoder.decode(String($0)) }
        let two = try String(decoding: second.stdout, as: UTF8.self).split(separator: "\n").map { try decoder.decode(String($0)) }
        #expect(one.count == 5000)
        #expect(one.map(\.kind) == two.map(\.kind))
        #expect(one.map(\.attrs) == two.map(\.attrs))
        #expect(Set(one.map(\.kind)).count >= 17, "a mix of every kind but file.opened")
    }
}
