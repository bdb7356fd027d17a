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

/// Standard output in a container: a real `hardening` child's stdout read through the container
/// runtime's 16 KiB splitter (``ContainerLogRuntime``), then by a log agent that does not join
/// partial lines (``NaiveLogAgent``). With the default line cap every event arrives whole.
@Suite(.serialized) struct ContainerStdoutTests {
    /// What came out of a child whose stdout went through the runtime.
    struct RuntimeRun {
        var status: Int32
        var stderr: String
        var records: [ContainerLogRuntime.Record]
    }

    /// Runs `hardening arguments`, feeding `input`, its stdout read live by the runtime.
    static func runThroughRuntime(_ arguments: [String], input: Data) async throws -> RuntimeRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ChildProcess.hardeningExecutable)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        let writer = stdin.fileHandleForWriting
        Thread.detachNewThread {
            try? writer.write(contentsOf: input)
            try? writer.close()
        }
        let stderrReader = stderr.fileHandleForReading
        async let errorText = onOwnThread { String(decoding: stderrReader.readDataToEndOfFile(), as: UTF8.self) }
        let descriptor = stdout.fileHandleForReading.fileDescriptor
        let records = try await onOwnThread { ContainerLogRuntime().records(readingFrom: descriptor) }
        let status = try await onOwnThread { () -> Int32 in
            process.waitUntilExit()
            return process.terminationStatus
        }
        return RuntimeRun(status: status, stderr: try await errorText, records: records)
    }

    /// Lines for `emit`: event `index` has a message of `sizes[index]` bytes that starts with
    /// `c<index>|` (short enough to survive any shortening), mixing ASCII, multi-byte UTF-8,
    /// quotes, backslashes and control characters (each escaped as six bytes); some carry many
    /// attrs instead of a long message.
    static func emitInput(sizes: [Int]) throws -> Data {
        let alphabet: [String] = ["a", "b", "é", "€", "😀", "\"", "\\", "\u{01}", "\t", " ", "z", "0"]
        var lines: [UInt8] = []
        for (index, size) in sizes.enumerated() {
            var message = "c\(index)|"
            var filler: [String] = []
            var bytes = message.utf8.count
            var position = index
            while bytes < size {
                let piece = alphabet[Int(UInt(bitPattern: position) % UInt(alphabet.count))]
                position = position &* 31 &+ 7
                filler.append(piece)
                bytes += piece.utf8.count
            }
            message += filler.joined()
            var object: [String: Any] = ["event": "app.note", "message": message, "case": index]
            if index % 7 == 3 {
                // Many keys: no string limit alone makes this fit.
                var attrs: [String: Any] = [:]
                for key in 0..<(size / 40) { attrs["key_\(key)"] = "value \(key)" }
                attrs["nested"] = ["list": Array(repeating: "item", count: 50), "object": ["deep": ["deeper": "x"]]]
                object["attrs"] = attrs
            }
            lines += try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            lines.append(0x0A)
        }
        return Data(lines)
    }

    /// Sizes from 0 to 1 MiB: every boundary around the 16 KiB split and the caps, and a seeded
    /// log-uniform spread in between.
    static let sizes: [Int] = {
        var sizes = [0, 1, 100, 1000, 8000, 15_800, 16_000, 16_200, 16_300, 16_383, 16_384, 16_385, 16_500, 20_000,
                     32_767, 32_768, 32_769, 65_536, 100_000, 262_144, 524_288, 1_000_000, 1 << 20]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<60 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let exponent = Double(state >> 11) / Double(1 << 53) * 20  // 2^0 ... 2^20 bytes
            sizes.append(Int(pow(2, exponent)))
        }
        return sizes
    }()

    @Test func everyEventOfEverySizeUpTo1MiBReachesANaiveLogAgentWholeThroughDockerAndCRI() async throws {
        let input = try Self.emitInput(sizes: Self.sizes)
        let run = try await Self.runThroughRuntime(["emit", "--stdout"], input: input)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.records.isEmpty)
        #expect(run.records.allSatisfy { !$0.partial }, "the runtime split no line: \(run.records.filter(\.partial).count) partial records")
        #expect(run.records.allSatisfy { $0.content.count + 1 <= StdoutSink.defaultMaxLineBytes })

        for (format, entries) in [("CRI", NaiveLogAgent.entries(criFile: ContainerLogRuntime.criFile(run.records))),
                                  ("docker json-file", NaiveLogAgent.entries(dockerJSONFile: try ContainerLogRuntime.dockerJSONFile(run.records)))] {
            #expect(entries.count == run.records.count, "\(format)")
            #expect(entries.allSatisfy { $0 != nil }, "\(format): every entry is a JSON object")
            var seen: [Int: [String: Any]] = [:]
            for case let entry? in entries where entry["event"] as? String == "app.note" {
                let message = entry["message"] as? String ?? ""
                guard let bar = message.firstIndex(of: "|"), message.hasPrefix("c"), let index = Int(message.dropFirst().prefix(upTo: bar)) else {
                    Issue.record("\(format): an app.note without its case number: \(message.prefix(40))")
                    continue
                }
                #expect(seen[index] == nil, "\(format): case \(index) arrived twice")
                seen[index] = entry
            }
            #expect(seen.keys.sorted() == Array(Self.sizes.indices), "\(format): every case arrived, once")
            // Small events arrive as they were; long ones shortened and marked, never cut blindly.
            let originals = String(decoding: input, as: UTF8.self).split(separator: "\n")
            for (index, entry) in seen {
                let original = try JSONSerialization.jsonObject(with: Data(originals[index].utf8)) as? [String: Any] ?? [:]
                let truncated = entry["truncated"] as? Bool ?? false
                if originals[index].utf8.count < 15_000 {
                    #expect(!truncated, "\(format): case \(index) needed no shortening")
                    #expect(entry["message"] as? String == original["message"] as? String, "\(format): case \(index) whole")
                    #expect((entry["attrs"] as? [String: Any])?["case"] as? Int == index)
                } else if Self.sizes[index] > 16_384 {
                    #expect(truncated, "\(format): case \(index) (\(Self.sizes[index]) bytes) is marked truncated")
                }
            }
        }
    }

    @Test func withoutTheCapTheSameRuntimeSplitsLongEventsIntoHalvesThatAreNotJSON() async throws {
        // The control: the harness does split, and the cap is what keeps events whole.
        let input = try Self.emitInput(sizes: [100, 40_000, 300_000, 100])
        let run = try await Self.runThroughRuntime(["emit", "--stdout", "--stdout-max-line-bytes", "4194304"], input: input)
        #expect(run.status == 0, "\(run.stderr)")
        let partial = run.records.filter(\.partial)
        #expect(partial.count >= 2 + 18, "40 000 bytes make at least 2 partial records, 300 000 bytes at least 18: \(partial.count)")
        let entries = NaiveLogAgent.entries(criFile: ContainerLogRuntime.criFile(run.records))
        let notJSON = entries.filter { $0 == nil }.count
        #expect(notJSON == partial.count + 2, "each partial record and each line's last piece is not JSON: \(notJSON)")
    }

    @Test func generateStdoutThroughTheRuntimeIsEveryEventWhole() async throws {
        let run = try await Self.runThroughRuntime(["generate", "--events", "20000", "--stdout", "--seed", "7"], input: Data())
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.records.allSatisfy { !$0.partial })
        let entries = NaiveLogAgent.entries(criFile: ContainerLogRuntime.criFile(run.records))
        #expect(entries.allSatisfy { $0 != nil })
        let sequence = entries.compactMap { $0?["seq"] as? Int }.filter { $0 > 0 }
        #expect(sequence.count >= 20_000, "every generated event: \(sequence.count)")
        #expect(Set(sequence).count == sequence.count)
    }

    @Test(arguments: ["generate", "emit", "demo"])
    func everyCommandThatWritesStdoutTakesTheCapAndRefusesOneTooSmall(command: String) async throws {
        let help = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, command, "--help"])
        #expect(String(decoding: help.stdout, as: UTF8.self).contains("--stdout-max-line-bytes"), "\(command) --help")
        let refused = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, command, "--stdout", "--stdout-max-line-bytes", "100"]
            .filter { command != "demo" || $0 != "--stdout" })
        #expect(refused.status == 64, "\(command): \(refused.stderr)")
        #expect(refused.stderr.contains("--stdout-max-line-bytes must be at least 512"), "\(command): \(refused.stderr)")
    }
}
