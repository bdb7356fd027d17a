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

/// `hardening emit` as a real child process: its contract (lines to events, bad lines reported
/// and kept, SIGTERM loses nothing read), and, through it, redaction seen from the outside: no
/// credential of `CredentialSamples` reaches stdout, the files or any `replay` format.
@Suite(.serialized) struct EmitProcessTests {
    private static func hardening(_ arguments: [String], input: Data? = nil) async throws -> ChildProcess.Output {
        try await ChildProcess.runDetached([ChildProcess.hardeningExecutable] + arguments, input: input)
    }

    /// Each case as an `error.recorded` event whose operation carries its marker (so that summary
    /// outputs show the marker too), and, when it is one line, as a plain text line as well.
    private static func input() throws -> String {
        var lines: [String] = []
        for sample in CredentialSamples.cases {
            var object: [String: String]
            if let key = sample.attrKey {
                object = ["event": "app.note", "message": "\(sample.marker) attr", key: sample.text]
            } else {
                object = ["event": "error.recorded", "level": "error", "message": sample.text, "operation": "op.\(sample.marker)",
                          "error_type": "HTTPError", "error": sample.text]
                if !sample.text.contains("\n") { lines.append(sample.text) }
            }
            let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            lines.append(String(decoding: json, as: UTF8.self))
        }
        lines += CredentialSamples.ordinaryText
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func noCredentialReachesStdoutTheFilesOrAnyReplayFormat() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let logs = directory.path + "/logs"
        let emitted = try await Self.hardening(["emit", "--stdout", "--log-dir", logs], input: Data(try Self.input().utf8))
        #expect(emitted.status == 0, "\(emitted.stderr)")
        let zcat = try await ChildProcess.runDetached(["sh", "-c", "zcat -f '\(logs)'/events-*"])
        var outputs: [(name: String, text: String, showsEveryMarker: Bool)] = [
            ("stdout", String(decoding: emitted.stdout, as: UTF8.self), true),
            ("files (zcat)", String(decoding: zcat.stdout, as: UTF8.self), true),
            ("stderr", emitted.stderr, false),
        ]
        for format in ["text", "json", "events", "html", "prometheus"] {
            let replay = try await Self.hardening(["replay", logs, "--format", format])
            #expect(replay.status == 0, "\(format): \(replay.stderr)")
            outputs.append(("replay --format \(format)", String(decoding: replay.stdout, as: UTF8.self) + replay.stderr, format == "events"))
        }
        let cases = CredentialSamples.cases
        for output in outputs {
            #expect(output.text.count > 1000 || output.name == "stderr", "\(output.name) is empty")
            for sample in cases {
                for part in sample.forbiddenParts where output.text.contains(part) {
                    Issue.record("\(output.name): \(sample.name): \(part) reached the output")
                }
                if output.showsEveryMarker {
                    #expect(output.text.contains(sample.marker + " ") || output.text.contains(sample.marker + "\""),
                            "\(output.name): \(sample.name): the marker never arrived (the text was not emitted)")
                }
            }
        }
        // Summary outputs name each error case's operation: the markers made it there too.
        let json = outputs.first { $0.name == "replay --format json" }!.text
        let errorCases = cases.filter { $0.attrKey == nil }
        #expect(errorCases.allSatisfy { json.contains("op.\($0.marker)\"") }, "the summary lists every case's operation")
        // False positives: ordinary text arrives unchanged.
        let stdout = outputs[0].text
        for text in CredentialSamples.ordinaryText {
            let encoded = String(decoding: try JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes]), as: UTF8.self)
            #expect(stdout.contains(String(encoded.dropFirst(2).dropLast(2))), "\(text) was changed")
        }
    }

    @Test func jsonAndTextLinesBecomeEventsAndBadLinesAreReportedAndKept() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let input = """
            backup finished in 42 s
            {"event":"cron.backup","level":"warning","message":"backup slow","duration_ms":42000,"attrs":{"host":"db-1"}}
            {"event": "cron.backup", "level": "loud"}
            {"unterminated":
            {"event":"sink.failed","message":"forged"}
            [1, 2, 3]

            last line without a newline
            """
        let result = try await Self.hardening(["emit", "--log-dir", directory.path, "--service", "nightly"], input: Data(input.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("line 3: \"level\" must be one of"), "\(result.stderr)")
        #expect(result.stderr.contains("line 4: not a JSON object"), "\(result.stderr)")
        #expect(result.stderr.contains("line 5: \"event\": sink.failed: the sink.* kinds are written by the pipeline itself"))
        #expect(result.stderr.contains("8 line(s) read, 7 event(s) emitted, 3 emitted as text after a problem; written 7, lost 0"), "\(result.stderr)")
        let events = LogReader().readAll(LogReader().logFiles(in: directory.path)).events.filter { $0.seq > 0 }
        #expect(events.count == 7, "the empty line is no event")
        #expect(events.allSatisfy { $0.service == "nightly" })
        #expect(events[0].kind == .logMessage && events[0].message == "backup finished in 42 s")
        #expect(events[1].kind == "cron.backup" && events[1].level == .warning && events[1].message == "backup slow")
        #expect(events[1].attrs["duration_ms"] == .int(42000) && events[1].attrs["host"] == .string("db-1"))
        #expect(events[2].kind == .logMessage && events[2].message == #"{"event": "cron.backup", "level": "loud"}"#)
        #expect(events[4].kind == .logMessage && events[4].message.contains("forged"))
        #expect(events[5].message == "[1, 2, 3]")
        #expect(events[6].message == "last line without a newline")
        let help = await String(decoding: try Self.hardening(["emit", "--help"]).stdout, as: UTF8.self)
        for word in ["--log-dir", "--stdout", "--config", "--file-layout", "SIGTERM", "Exit codes"] {
            #expect(help.contains(word), "emit --help lacks \(word)")
        }
    }

    /// With an agent YAML file: its events section gives the sinks (the directory relative to the
    /// file), its service names the events, and the values it resolves from `${VAR}` are secrets.
    @Test func theAgentConfigurationGivesSinksServiceAndSecrets() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("agent.yaml", """
            service: cron-jobs
            events: {stdout: off, directory: logs, file_layout: segments}
            health:
              checks:
                - {name: api, type: http, url: "http://127.0.0.1:1/x", headers: {X-Key: "${WEIRD_KEY}"}}
            """)
        let secret = "no-shape-at-all-0042"
        let result = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "emit", "--config", directory.path + "/agent.yaml"],
                                          input: Data("the key is \(secret) today\n".utf8), environment: ["WEIRD_KEY": secret])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty, "stdout: off")
        let events = LogReader().readAll(LogReader().logFiles(in: directory.path + "/logs")).events.filter { $0.seq > 0 }
        #expect(events.count == 1 && events[0].service == "cron-jobs")
        #expect(events.first?.message == "the key is [REDACTED] today")
    }

    /// Lines keep arriving on an open pipe; SIGTERM stops the process: every line it read is in
    /// the files, in order, the partial one too, and it exits 0.
    @Test func sigtermMidStreamLosesNothingRead() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ChildProcess.hardeningExecutable)
        process.arguments = ["emit", "--log-dir", directory.path]
        let stdin = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        let writer = stdin.fileHandleForWriting
        var written: [String] = []
        for batch in 0..<40 {
            var chunk = ""
            for index in 0..<250 {
                let number = batch * 250 + index
                let line = number % 3 == 0 ? "{\"event\":\"load.line\",\"n\":\(number)}" : "text line \(number)"
                written.append(line)
                chunk += line + "\n"
            }
            try writer.write(contentsOf: Data(chunk.utf8))
            try await Task.sleep(for: .milliseconds(10))
        }
        try writer.write(contentsOf: Data("an unfinished li".utf8))
        try await Task.sleep(for: .milliseconds(300))
        kill(process.processIdentifier, SIGTERM)
        let report = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(report)")
        let events = LogReader().readAll(LogReader().logFiles(in: directory.path)).events.filter { $0.seq > 0 }
        #expect(events.count == written.count + 1, "\(report)")
        for (index, event) in events.prefix(written.count).enumerated() {
            if index % 3 == 0 {
                #expect(event.kind == "load.line" && event.attrs["n"] == .int(Int64(index)))
            } else {
                #expect(event.message == written[index])
            }
        }
        #expect(events.last?.message == "an unfinished li")
        #expect(report.contains("stopped by a signal inside this line"), "\(report)")
        #expect(report.contains("\(written.count + 1) line(s) read"), "\(report)")
        try? writer.close()
    }
}
