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

/// A real third-party tailer, rsyslog's imfile (installed by tools/setup.sh) with the shipped
/// configuration, follows the segments by wildcard across many rotations, as Datadog's, Vector's
/// or Fluent Bit's file sources do: every line arrives exactly once, by `run`/`seq`.
@Suite(.serialized) struct TailerTests {
    /// rsyslogd in the foreground with its own configuration, stopped by its pid whatever the outcome.
    ///
    /// It starts through a small Python `exec` that clears the signal mask: the test runner's
    /// threads block signals, children inherit the mask, and rsyslogd would never see SIGTERM.
    final class Rsyslog {
        let process = Process()

        init(configuration: String, directory: String) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            let exec = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); "
                + "os.execv('/usr/sbin/rsyslogd', ['rsyslogd'] + sys.argv[1:])"
            process.arguments = ["python3", "-c", exec, "-n", "-f", configuration, "-i", directory + "/rsyslogd.pid"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        /// SIGTERM, then SIGKILL if it has not exited within two seconds.
        func stop() {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGTERM)
            for _ in 0..<200 where process.isRunning { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            for _ in 0..<200 where process.isRunning { usleep(10_000) }
        }

        deinit { stop() }
    }

    /// What one shipping run showed.
    struct Shipped: CustomStringConvertible {
        var written = 0
        var arrived = 0
        var duplicates = 0
        var missing = 0
        var rotations = 0
        var seconds = 0.0

        var description: String {
            let rate = seconds > 0 ? Int(Double(written) / seconds) : 0
            return "\(written) events written at \(rate)/s across \(rotations) rotations; \(arrived) arrived once, "
                + "\(missing) never, \(duplicates) twice or more"
        }
    }

    /// `tools/agents/rsyslog/hardening.conf` with only the path changed and its forwarding action
    /// replaced by a local file; rsyslogd runs it while `hardening generate` writes.
    private func shipThroughRsyslog(_ generateArguments: [String], startRsyslogLate: Bool = false) async throws -> Shipped {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let logs = directory.path + "/logs", received = directory.path + "/received.jsonl"
        try FileManager.default.createDirectory(atPath: directory.path + "/work", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        var shipped = try String(contentsOfFile: ShippingConfigurationTests.agents + "/rsyslog/hardening.conf", encoding: .utf8)
        shipped = shipped.replacingOccurrences(of: "/var/log/rag-service", with: logs)
        let begin = try #require(shipped.range(of: "# ship:begin")), end = try #require(shipped.range(of: "# ship:end"))
        shipped.replaceSubrange(begin.lowerBound..<end.upperBound,
                                with: "action(type=\"omfile\" file=\"\(received)\" template=\"hardening_line\")")
        try directory.write("hardening.conf", shipped)
        try directory.write("rsyslog.conf", "global(workDirectory=\"\(directory.path)/work\")\n$IncludeConfig \(directory.path)/hardening.conf\n")
        var rsyslog: Rsyslog?
        defer { rsyslog?.stop() }
        if !startRsyslogLate {
            rsyslog = try Rsyslog(configuration: directory.path + "/rsyslog.conf", directory: directory.path)
            try await Task.sleep(for: .milliseconds(500))
            #expect(rsyslog?.process.isRunning == true, "rsyslogd did not start")
        }
        let started = Date()
        let generated = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "generate", "--log-dir", logs] + generateArguments)
        var result = Shipped()
        result.seconds = Date().timeIntervalSince(started)
        #expect(generated.status == 0, "\(generated.stderr)")
        if startRsyslogLate {
            rsyslog = try Rsyslog(configuration: directory.path + "/rsyslog.conf", directory: directory.path)
        }
        result.rotations = LogReader().logFiles(in: logs).count - 1
        // Wait (up to two minutes on a busy machine) until the received file holds as many bytes
        // as the plain files (imfile forwards each line unchanged, headers included) and stops
        // growing; sizes only, so that waiting costs no CPU the shippers need.
        let expectedBytes = Self.plainBytes(in: logs)
        var last = -1, stableFor = 0
        for _ in 0..<600 {
            let size = Self.size(of: received)
            stableFor = size == last ? stableFor + 1 : 0
            last = size
            if size >= expectedBytes && stableFor >= 3 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let counted = try await Self.countShipped(logs: logs, received: received)
        result.written = counted.written
        result.arrived = counted.arrivedOnce
        result.duplicates = counted.duplicates
        result.missing = counted.missing
        rsyslog?.stop()
        #expect(rsyslog?.process.terminationReason == .exit, "rsyslogd did not stop on SIGTERM")
        print("rsyslog imfile \(generateArguments.joined(separator: " "))\(startRsyslogLate ? " (rsyslog started late)" : ""): \(result)")
        return result
    }

    /// What `tools/agents/count_shipped.py` (the users' own check) says of the two sides.
    private static func countShipped(logs: String, received: String) async throws -> (written: Int, arrivedOnce: Int, missing: Int, duplicates: Int) {
        let script = ShippingConfigurationTests.agents + "/count_shipped.py"
        let output = try await ChildProcess.runDetached(["python3", script, "--logs", logs, "--received", received])
        let report = try JSONDocument.parse(output.stdout)
        func int(_ key: String) -> Int {
            if case .int(let value)? = report[key] { return Int(value) }
            return -1
        }
        #expect(int("written_twice") == 0 && int("unexpected") == 0 && int("unparsed") == 0, "\(output.stderr)\(report)")
        return (int("written"), int("arrived_once"), int("missing"), int("duplicates"))
    }

    private static func size(of path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    /// The bytes of the plain segments (the link skipped).
    private static func plainBytes(in directory: String) -> Int {
        LogReader().logFiles(in: directory).filter { !$0.hasSuffix(".gz") }.reduce(0) { $0 + size(of: $1) }
    }

    private func requireRsyslog() -> Bool {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/rsyslogd") else {
            Issue.record("rsyslogd is missing: run bash tools/setup.sh (it installs rsyslog)")
            return false
        }
        return true
    }

    private func expectEveryLineOnce(_ shipped: Shipped, rotations: Int = 10) {
        #expect(shipped.rotations >= rotations, "only \(shipped.rotations) rotations")
        #expect(shipped.written > 0)
        #expect(shipped.missing == 0, "\(shipped.missing) lines never arrived")
        #expect(shipped.duplicates == 0, "\(shipped.duplicates) lines arrived twice")
        #expect(shipped.arrived == shipped.written)
    }

    /// (a) 20,000 events/s, default rotation settings (rotations at most every 5 s), small files.
    @Test func rsyslogGetsEveryLineAtTwentyThousandPerSecondWithTheDefaultRotation() async throws {
        guard requireRsyslog() else { return }
        let shipped = try await shipThroughRsyslog(["--events", "1100000", "--rate", "20000", "--max-file-bytes", "1500000"])
        expectEveryLineOnce(shipped)
    }

    /// (b) The fastest rotation the sink allows: no minimum interval, the smallest files.
    @Test func rsyslogGetsEveryLineAtTheFastestRotation() async throws {
        guard requireRsyslog() else { return }
        let shipped = try await shipThroughRsyslog(["--events", "6000", "--rate", "3000", "--max-file-bytes", "1024",
                                                    "--min-rotation-interval", "0"])
        expectEveryLineOnce(shipped, rotations: 100)
    }

    /// (c) `generate` unpaced: as fast as the sink takes events.
    @Test func rsyslogGetsEveryLineWithGenerateUnpaced() async throws {
        guard requireRsyslog() else { return }
        let shipped = try await shipThroughRsyslog(["--events", "300000", "--max-file-bytes", "1500000", "--min-rotation-interval", "0"])
        expectEveryLineOnce(shipped)
    }

    /// (d) rsyslog starts after several segments exist.
    @Test func rsyslogStartedLateGetsEveryLine() async throws {
        guard requireRsyslog() else { return }
        let shipped = try await shipThroughRsyslog(["--events", "100000", "--rate", "50000", "--max-file-bytes", "500000",
                                                    "--min-rotation-interval", "0.1"], startRsyslogLate: true)
        expectEveryLineOnce(shipped)
    }
}

/// The shipping configurations in tools/agents parse: the YAML ones with PyYAML, rsyslog's with
/// `rsyslogd -N1`, and each follows the plain segments by wildcard, the compressed ones excluded.
@Suite struct ShippingConfigurationTests {
    static let agents = #filePath.split(separator: "/").dropLast(3).joined(separator: "/").prepending("/") + "/tools/agents"

    @Test func theConfigurationsParseAndFollowThePlainSegments() async throws {
        let yamlFiles = ["vector/vector.yaml", "promtail/promtail.yaml", "datadog/conf.yaml"].map { Self.agents + "/" + $0 }
        let parsed = try await ChildProcess.runDetached(["python3", "-c", "import sys, yaml\nfor f in sys.argv[1:]: yaml.safe_load(open(f))"] + yamlFiles)
        #expect(parsed.status == 0, "\(parsed.stderr)")
        // As Debian loads it: the main configuration sets the work directory, then includes it.
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("rsyslog.conf", "global(workDirectory=\"\(directory.path)\")\n$IncludeConfig \(Self.agents)/rsyslog/hardening.conf\n")
        let rsyslog = try await ChildProcess.runDetached(["/usr/sbin/rsyslogd", "-N1", "-f", directory.path + "/rsyslog.conf"])
        #expect(rsyslog.status == 0, "\(rsyslog.stderr)")
        for file in yamlFiles + ["alloy/config.alloy", "fluent-bit/fluent-bit.conf", "rsyslog/hardening.conf"].map({ Self.agents + "/" + $0 }) {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            // Every plain segment by wildcard; never a glob that also takes the link or the stable name.
            #expect(text.contains("/events-*.jsonl") && !text.contains("events.jsonl*") && !text.contains("/*.jsonl"), "\(file)")
            if !file.hasSuffix("hardening.conf") {
                #expect(text.contains("*.gz"), "\(file) excludes the compressed segments")
            }
        }
    }
}

extension String {
    fileprivate func prepending(_ prefix: String) -> String { prefix + self }
}
