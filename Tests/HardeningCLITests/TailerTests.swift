import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real third-party tailer, rsyslog's imfile (installed by tools/setup.sh), follows
/// `events.jsonl` across many rotations, as Datadog's, Vector's or Fluent Bit's file sources do:
/// every line arrives exactly once.
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

    @Test func rsyslogImfileReadsEveryLineExactlyOnceAcrossRotations() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/rsyslogd") else {
            Issue.record("rsyslogd is missing: run bash tools/setup.sh (it installs rsyslog)")
            return
        }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let logs = directory.path + "/logs", received = directory.path + "/received.jsonl"
        try FileManager.default.createDirectory(atPath: directory.path + "/work", withIntermediateDirectories: true)
        try directory.write("rsyslog.conf", """
            global(workDirectory="\(directory.path)/work" maxMessageSize="64k")
            module(load="imfile" mode="inotify")
            template(name="line" type="string" string="%msg%\\n")
            ruleset(name="ship") { action(type="omfile" file="\(received)" template="line") }
            input(type="imfile" File="\(logs)/events.jsonl" Tag="hardening" ruleset="ship" addMetadata="off" reopenOnTruncate="on")
            """)
        let rsyslog = try Rsyslog(configuration: directory.path + "/rsyslog.conf", directory: directory.path)
        try await Task.sleep(for: .milliseconds(300))
        #expect(rsyslog.process.isRunning, "rsyslogd did not start")

        // 20,000 events at 5,000/s into 200 kB files, rotated at most every 0.3 s: a dozen
        // rotations while imfile reads. Segments stay plain for the default 60 s, as agents expect.
        let generated = try ChildProcess.run([
            ChildProcess.hardeningExecutable, "generate", "--events", "20000", "--rate", "5000", "--log-dir", logs,
            "--max-file-bytes", "200000", "--min-rotation-interval", "0.3",
        ])
        #expect(generated.status == 0, "\(generated.stderr)")
        let reader = LogReader()
        let written = reader.readAll(reader.logFiles(in: logs)).events.filter { $0.seq > 0 }.count
        #expect(written >= 20_000)

        // Wait (up to a minute on a busy machine) for as many lines as were written, then read them.
        let expectedLines = reader.readAll(reader.logFiles(in: logs)).events.count
        for _ in 0..<600 {
            let lines = FileManager.default.contents(atPath: received)?.filter { $0 == 0x0A }.count ?? 0
            if lines >= expectedLines { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .milliseconds(300))  // a duplicate would arrive now
        var counts: [UInt64: Int] = [:]
        let decoder = JSONLineDecoder()
        let text = (try? String(contentsOfFile: received, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            guard let event = try? decoder.decode(String(line)), event.seq > 0 else { continue }
            counts[event.seq, default: 0] += 1
        }
        #expect(counts.count == written, "\(written - counts.count) lines never arrived")
        #expect(counts.values.allSatisfy { $0 == 1 }, "\(counts.values.filter { $0 > 1 }.count) lines arrived twice")
        #expect(counts.keys.max() == UInt64(written))
        let rotations = reader.logFiles(in: logs).count - 1
        #expect(rotations >= 5, "only \(rotations) rotations")
        rsyslog.stop()
        #expect(!rsyslog.process.isRunning)
        #expect(rsyslog.process.terminationReason == .exit, "rsyslogd did not stop on SIGTERM")
    }
}

/// The shipping configurations in tools/agents parse: the YAML ones with PyYAML, rsyslog's with
/// `rsyslogd -N1`, and each tails the active file only (never a glob over the segments).
@Suite struct ShippingConfigurationTests {
    static let agents = #filePath.split(separator: "/").dropLast(3).joined(separator: "/").prepending("/") + "/tools/agents"

    @Test func theConfigurationsParseAndTailTheActiveFileOnly() throws {
        let yamlFiles = ["vector/vector.yaml", "promtail/promtail.yaml", "datadog/conf.yaml"].map { Self.agents + "/" + $0 }
        let parsed = try ChildProcess.run(["python3", "-c", "import sys, yaml\nfor f in sys.argv[1:]: yaml.safe_load(open(f))"] + yamlFiles)
        #expect(parsed.status == 0, "\(parsed.stderr)")
        // As Debian loads it: the main configuration sets the work directory, then includes it.
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("rsyslog.conf", "global(workDirectory=\"\(directory.path)\")\n$IncludeConfig \(Self.agents)/rsyslog/hardening.conf\n")
        let rsyslog = try ChildProcess.run(["/usr/sbin/rsyslogd", "-N1", "-f", directory.path + "/rsyslog.conf"])
        #expect(rsyslog.status == 0, "\(rsyslog.stderr)")
        for file in yamlFiles + ["alloy/config.alloy", "fluent-bit/fluent-bit.conf", "rsyslog/hardening.conf"].map({ Self.agents + "/" + $0 }) {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            #expect(text.contains("/events.jsonl") && !text.contains("events.jsonl*") && !text.contains("*.jsonl"), "\(file)")
        }
    }
}

extension String {
    fileprivate func prepending(_ prefix: String) -> String { prefix + self }
}
