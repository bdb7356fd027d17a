import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Testing

/// docs/design.md invariant 6 at the level replay works at: damaged logs never crash or hang it, every
/// intact event is recovered, nothing is invented, and every problem is reported.
@Suite struct DamagedReplayTests {
    private let encoder = JSONLineEncoder()

    private func event(_ seq: Int) -> Event {
        Event(timestamp: Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000 + Int64(seq) * 1000), level: .info,
              kind: .timingRecorded, message: "call \(seq)", service: "rag", host: "web-1", run: "0123456789abcdef",
              seq: UInt64(seq), attrs: TimingRecorded(operation: "op", durationMs: Double(seq), outcome: "success").attributes)
    }

    /// A gzip-stream log: `members` members of `perMember` events; returns the bytes and where
    /// each member ends.
    private func gzipLog(members: Int, perMember: Int) throws -> (bytes: [UInt8], ends: [Int]) {
        let compressor = try GzipCompressor(level: 6)
        var bytes: [UInt8] = []
        var ends: [Int] = []
        for member in 0..<members {
            var plain: [UInt8] = []
            for index in 0..<perMember { encoder.append(event(member * perMember + index + 1), to: &plain) }
            compressor.compressMember(plain, into: &bytes)
            ends.append(bytes.count)
        }
        return (bytes, ends)
    }

    private func replay(_ bytes: [UInt8], in directory: TemporaryDirectory) throws -> Replay.Report {
        let path = directory.path + "/events.jsonl.gz"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return try Replay().run(ReplayInputs([path]))
    }

    @Test func truncationAtEveryByteRecoversEveryCompleteMember() throws {
        let directory = TemporaryDirectory(prefix: "damaged-cut")
        defer { directory.remove() }
        let (log, ends) = try gzipLog(members: 5, perMember: 4)
        for cut in 0...log.count {
            let report = try replay(Array(log[0..<cut]), in: directory)
            let complete = ends.filter { $0 <= cut }.count
            #expect(report.summary.operations["op"]?.count ?? 0 >= Int64(complete * 4), "cut \(cut): complete members are all read")
            #expect(report.summary.operations["op"]?.count ?? 0 <= 20, "cut \(cut): nothing invented")
            let atBoundary = cut == 0 || ends.contains(cut)
            #expect((report.input.issuesByKind["truncated_gzip"] ?? 0 > 0) == !atBoundary, "cut \(cut): the torn tail is reported")
            #expect(report.summary.missingEvents == 0, "cut \(cut): what is read is a prefix")
        }
    }

    @Test func aFlippedBitLosesAtMostItsOwnMember() throws {
        let directory = TemporaryDirectory(prefix: "damaged-bit")
        defer { directory.remove() }
        let (log, ends) = try gzipLog(members: 4, perMember: 5)
        let starts = [0] + ends.dropLast()
        for position in stride(from: 0, to: log.count, by: 3) {
            var damaged = log
            damaged[position] ^= 0x10
            let report = try replay(damaged, in: directory)
            let member = starts.lastIndex { $0 <= position }!
            let read = report.summary.operations["op"]?.count ?? 0
            #expect(read >= 15, "byte \(position): every other member is recovered")
            #expect(read <= 20)
            for other in 0..<4 where other != member {
                for seq in (other * 5 + 1)...(other * 5 + 5) {
                    #expect(report.summary.runs["0123456789abcdef"]?.seen.holes.contains { $0.contains(UInt64(seq)) } != true,
                            "byte \(position): event \(seq) of intact member \(other)")
                }
            }
        }
    }

    @Test func interleavedGarbageIsSkippedAndReported() throws {
        let directory = TemporaryDirectory(prefix: "damaged-garbage")
        defer { directory.remove() }
        let compressor = try GzipCompressor()
        var log: [UInt8] = []
        var generator = SplitMix64(seed: 4)
        for member in 0..<6 {
            var plain: [UInt8] = []
            for index in 0..<3 { encoder.append(event(member * 3 + index + 1), to: &plain) }
            if member == 2 { plain += Array("{\"not\": \"an event\"}\n\u{1}\u{2}binary\n".utf8) }
            compressor.compressMember(plain, into: &log)
            log += (0..<(generator.next() % 40)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        }
        let report = try replay(log, in: directory)
        #expect(report.summary.operations["op"]?.count == 18, "all 18 events recovered")
        #expect(report.summary.missingEvents == 0)
        #expect(report.input.issuesByKind["bad_line"] == 2)
        #expect(report.input.issues.allSatisfy { $0.file.hasSuffix("events.jsonl.gz") })
    }

    @Test func deepNestingWrongTypesAndUnknownKindsAreHandled() throws {
        let directory = TemporaryDirectory(prefix: "damaged-plain")
        defer { directory.remove() }
        var text = String(decoding: encoder.encode(event(1)), as: UTF8.self)
        text += "{\"attrs\":" + String(repeating: "[", count: 100_000) + "\n"
        text += String(decoding: encoder.encode(event(2)), as: UTF8.self).replacingOccurrences(of: "\"seq\":2", with: "\"seq\":\"two\"")
        var unknown = event(3)
        unknown.kind = "vector.indexed"
        unknown.attrs = ["shards": .int(3)]
        text += String(decoding: encoder.encode(unknown), as: UTF8.self)
        var wrong = event(4)
        wrong.attrs = ["operation": .int(5), "duration_ms": .string("fast")]
        text += String(decoding: encoder.encode(wrong), as: UTF8.self)
        let path = directory.path + "/events.jsonl"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let report = try Replay().run(ReplayInputs([path]))
        #expect(report.input.issuesByKind == ["bad_line": 2])
        #expect(report.input.issues.map(\.line) == [2, 3])
        #expect(report.summary.byKind["vector.indexed"] == 1, "unknown kinds are kept")
        #expect(report.summary.malformed == ["timing.recorded": 1], "wrong attr types are counted, not folded")
        #expect(report.summary.operations["op"]?.count == 1)
        #expect(throws: StrictReplayError.self) { try Replay(strict: true).run(ReplayInputs([path])) }
    }

    @Test func aHundredMegabyteLineIsSkippedWithBoundedMemory() async throws {
        let directory = TemporaryDirectory(prefix: "damaged-giant")
        defer { directory.remove() }
        let path = directory.path + "/events.jsonl"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.write(contentsOf: encoder.encode(event(1)))
        let chunk = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        try handle.write(contentsOf: Data("{\"message\":\"".utf8))
        for _ in 0..<100 { try handle.write(contentsOf: chunk) }
        try handle.write(contentsOf: Data("\"}\n".utf8))
        try handle.write(contentsOf: encoder.encode(event(2)))
        try handle.close()
        // The real command in a child process, so its peak memory is its own.
        let script = """
            import resource, subprocess, sys
            result = subprocess.run([sys.argv[1], "replay", "--format", "json", sys.argv[2]], capture_output=True)
            print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, result.returncode)
            sys.stdout.write(result.stdout.decode())
            """
        let run = try await ChildProcess.runDetached(["python3", "-c", script, ChildProcess.hardeningExecutable, path])
        let output = String(decoding: run.stdout, as: UTF8.self)
        let firstLine = output.split(separator: "\n").first.map(String.init) ?? ""
        let numbers = firstLine.split(separator: " ").compactMap { Int($0) }
        #expect(numbers.count == 2 && numbers[1] == 0, "\(run.stderr)")
        #expect((numbers.first ?? .max) < 64, "peak RSS \(numbers.first ?? -1) MiB for a 100 MiB line")
        #expect(output.contains(#""line_too_long":1"#) && output.contains(#""events_read":2"#))
    }
}
