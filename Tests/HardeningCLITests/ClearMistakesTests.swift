import Foundation
import Hardening
import HardeningTestKit
import HardeningTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Mistakes that used to look like success: each gets a clear message and, where nothing useful
/// was done, a non-zero exit.
@Suite struct ClearMistakesTests {
    static let tool = ChildProcess.hardeningExecutable

    static func event(_ seq: Int, kind: String = "error.recorded",
                      attrs: String = #"{"operation":"op","error_type":"E","error":"\u001b[31mred\u001b]0;title\u0007","context":{}}"#) -> String {
        #"{"timestamp":"2026-11-30T00:00:00.000000Z","level":"error","event":""# + kind
            + #"","message":"m","service":"s","host":"h","run":"0123456789abcdef","seq":\#(seq),"attrs":"# + attrs + "}\n"
    }

    @Test func replayOfWhatHoldsNoEventOrMatchesNothingSaysSoAndFails() async throws {
        let directory = TemporaryDirectory(prefix: "mistakes")
        defer { directory.remove() }
        try directory.write("notes.txt", String(repeating: "just some text\n", count: 26))
        let none = try await ChildProcess.runDetached([Self.tool, "replay", directory.path + "/notes.txt"])
        #expect(none.status == 1 && none.stderr.contains("the input holds no event (26 line(s) that are not events)"), "\(none.stderr)")

        try directory.write("events.jsonl", Self.event(1) + Self.event(2))
        let future = try await ChildProcess.runDetached([Self.tool, "replay", "--since", "2099-01-01T00:00:00Z", directory.path + "/events.jsonl"])
        #expect(future.status == 1 && future.stderr.contains("no event matched the filters (2 read)"), "\(future.stderr)")
        let kind = try await ChildProcess.runDetached([Self.tool, "replay", "--kind", "error.*", "--format", "json", directory.path + "/events.jsonl"])
        #expect(kind.status == 0 && String(decoding: kind.stdout, as: UTF8.self).contains(#""error.recorded":2"#), "\(kind.stderr)")
        // What a log says is shown, never acted on by the terminal.
        let text = try await ChildProcess.runDetached([Self.tool, "replay", directory.path + "/events.jsonl"])
        let shown = String(decoding: text.stdout, as: UTF8.self)
        #expect(text.status == 0 && !shown.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 } && shown.contains(#"\u{1B}[31mred"#))
    }

    @Test func versionAndHealthCheckFlagsSayWhatIsWrong() async throws {
        let version = try await ChildProcess.runDetached([Self.tool, "--version"])
        #expect(version.status == 0 && String(decoding: version.stdout, as: UTF8.self).contains("event schema \(EventKind.schemaVersion)"))
        for (arguments, message) in [
            (["--timeout", "-1", "--tcp", "a=127.0.0.1:1"], "--timeout must be a positive number of seconds, not -1.0"),
            (["--non-critical", "nosuch", "--tcp", "a=127.0.0.1:1"], "--non-critical nosuch: no --http, --tcp or --disk check is named 'nosuch'"),
            (["--http", "a=http://127.0.0.1:1/", "--http", "a=http://127.0.0.1:2/"], "two checks are named 'a'"),
        ] {
            let result = try await ChildProcess.runDetached([Self.tool, "health-check"] + arguments)
            #expect(result.status == 64 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }

    @Test func anAgentWhosePortIsTakenSaysWhichAddress() async throws {
        let directory = TemporaryDirectory(prefix: "port-taken")
        defer { directory.remove() }
        // A listener of our own holds the port.
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, length) == 0 && listen(holder, 1) == 0 && getsockname(holder, $0, &length) == 0 }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        try directory.write("agent.yaml", "server: {host: 127.0.0.1, port: \(port)}\nevents: {stdout: off}\n")
        let result = try await ChildProcess.runDetached([Self.tool, "agent", "--config", directory.path + "/agent.yaml"])
        #expect(result.status == 1 && result.stderr.contains("cannot listen on 127.0.0.1:\(port): the address is in use"), "\(result.stderr)")
    }

    @Test func aConfigurationSavedWithAByteOrderMarkIsRead() async throws {
        let directory = TemporaryDirectory(prefix: "bom")
        defer { directory.remove() }
        try directory.write("agent.yaml", "\u{FEFF}service: with-a-bom\n")
        let result = try await ChildProcess.runDetached([Self.tool, "validate-config", "--config", directory.path + "/agent.yaml", "--offline"])
        #expect(result.status == 0, "\(result.stderr)\(String(decoding: result.stdout, as: UTF8.self))")
    }
}

extension ClearMistakesTests {
    @Test func aSecondGenerateOnOneDirectoryIsRefused() async throws {
        let directory = TemporaryDirectory(prefix: "two-generates")
        defer { directory.remove() }
        let first = try GenerateProcessTests.Child(["generate", "--events", "100000000", "--rate", "200", "--log-dir", directory.path])
        defer { first.signal(SIGKILL) }
        #expect(await eventually(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: directory.path + "/.events.jsonl.lock") })
        let second = try await ChildProcess.runDetached([Self.tool, "generate", "--events", "10", "--log-dir", directory.path])
        #expect(second.status == 1 && second.stderr.contains("is written by another process (pid \(first.process.processIdentifier))"),
                "\(second.stderr)")
        first.signal(SIGTERM)
        let (status, _) = await first.wait()
        #expect(status == 0)
        let again = try await ChildProcess.runDetached([Self.tool, "generate", "--events", "10", "--log-dir", directory.path])
        #expect(again.status == 0, "free again: \(again.stderr)")
    }
}

extension ClearMistakesTests {
    /// `validate-config --config` reads the file's `config.values` as the agent does (they used
    /// to be reported missing).
    @Test func validateConfigReadsTheFilesValues() async throws {
        let directory = TemporaryDirectory(prefix: "values")
        defer { directory.remove() }
        try directory.write("agent.yaml", "config:\n  rules:\n    - {key: MODE, format: one_of, choices: [a, b]}\n  values:\n    MODE: b\n")
        let result = try await ChildProcess.runDetached([Self.tool, "validate-config", "--config", directory.path + "/agent.yaml", "--offline"],
                                                        environment: ["PATH": "/usr/bin:/bin"])
        let text = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0 && text.contains("MODE (") && text.contains("agent.yaml:5): b"), "\(text)\(result.stderr)")
    }
}
