import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Testing

@Suite struct LogReaderTests {
    let encoder = JSONLineEncoder()

    private func events(_ range: Range<Int>) -> [Event] {
        range.map { index in
            Event(timestamp: Timestamp(microsecondsSinceEpoch: 1_795_910_400_000_000 + Int64(index)), level: .info,
                  kind: .timingRecorded, message: "m\(index)", service: "s", host: "h", run: "0123456789abcdef",
                  seq: UInt64(index + 1), attrs: TimingRecorded(operation: "op", durationMs: Double(index), outcome: "success").attributes)
        }
    }

    private func bytes(_ events: [Event]) -> [UInt8] {
        var bytes: [UInt8] = []
        for event in events { encoder.append(event, to: &bytes) }
        return bytes
    }

    private func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// SIGKILL between compression's rename of the complete `.gz` and the unlink of the plain
    /// segment leaves both: each event is read once, from the `.gz`.
    @Test func aSegmentLeftPlainBesideItsCompleteGzipIsReadOnce() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let first = directory.path + "/events-20261204T120000Z-0001.jsonl"
        try write(bytes(events(0..<50)), to: first)
        #expect(try await ChildProcess.runDetached(["gzip", "-k", first]).status == 0)
        try write(bytes(events(50..<60)), to: directory.path + "/events-20261204T120001Z-0002.jsonl")
        let reader = LogReader()
        let files = reader.logFiles(in: directory.path)
        #expect(files.map { URL(fileURLWithPath: $0).lastPathComponent }
            == ["events-20261204T120000Z-0001.jsonl.gz", "events-20261204T120001Z-0002.jsonl"])
        let read = reader.readAll(files)
        #expect(read.events.map(\.seq) == Array(1...60) && read.issues.isEmpty)
        let report = try Replay().run(ReplayInputs([directory.path]))
        #expect(report.summary.events == 60 && report.summary.missingEvents == 0)
    }

    @Test func tornLastLineIsReportedNeverReturned() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var data = bytes(events(0..<10))
        data.removeLast(7)
        try write(data, to: directory.path + "/events.jsonl")
        let result = LogReader().readAll([directory.path + "/events.jsonl"])
        #expect(result.events == events(0..<9))
        #expect(result.issues.map(\.kind) == [.tornLine])
        #expect(result.issues.first?.line == 10)
    }

    @Test func garbageAndWrongTypesAreReportedWithLineNumbersAndReadingGoesOn() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var data = bytes(events(0..<3))
        data += Array("this is not json\n".utf8)
        data += Array("{\"timestamp\":5}\n".utf8)
        data += Array("\n".utf8)
        data += bytes(events(3..<5))
        try write(data, to: directory.path + "/x.jsonl")
        let result = LogReader().readAll([directory.path + "/x.jsonl"])
        #expect(result.events == events(0..<5))
        #expect(result.issues.map(\.kind) == [.badLine, .badLine])
        #expect(result.issues.map(\.line) == [4, 5])
        #expect(result.issues[1].description.contains("x.jsonl:5"))
    }

    @Test func giantLinesAreSkippedWithBoundedMemory() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var data = bytes(events(0..<2))
        data += [UInt8](repeating: UInt8(ascii: "x"), count: 3 << 20) + [0x0A]
        data += bytes(events(2..<4))
        try write(data, to: directory.path + "/big.jsonl")
        let reader = LogReader(maxLineBytes: 1 << 20)
        let result = reader.readAll([directory.path + "/big.jsonl"])
        #expect(result.events == events(0..<4))
        #expect(result.issues.map(\.kind) == [.lineTooLong])
        #expect(result.issues.first?.line == 3)
    }

    @Test func gzipIsDetectedByMagicBytesAndTruncationReported() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let compressor = try GzipCompressor()
        var file: [UInt8] = []
        compressor.compressMember(bytes(events(0..<50)), into: &file)
        let firstMember = file.count
        compressor.compressMember(bytes(events(50..<100)), into: &file)
        // A misleading name: detection is by content.
        try write(Array(file[0..<(firstMember + (file.count - firstMember) / 2)]), to: directory.path + "/events.log")
        let result = LogReader().readAll([directory.path + "/events.log"])
        #expect(Array(result.events.prefix(50)) == events(0..<50))
        #expect(result.events.count < 100)
        #expect(result.issues.contains { $0.kind == .truncatedGzip })
        #expect(result.events.allSatisfy { events(0..<100).contains($0) }, "no partial line is taken for an event")
    }

    @Test func unreadableFilesAreReported() {
        let result = LogReader().readAll(["/nonexistent/file.jsonl"])
        #expect(result.events.isEmpty)
        #expect(result.issues.map(\.kind) == [.unreadable])
    }

    @Test func filesInADirectoryAreOrderedSegmentsFirst() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        for name in ["events.jsonl", "events.jsonl.20261129T000010Z-2.gz", "events.jsonl.20261129T000010Z-10",
                     "events.jsonl.20261129T000009Z-1.gz", "notes.txt"] {
            try write([], to: directory.path + "/" + name)
        }
        let files = LogReader().logFiles(in: directory.path).map { $0.split(separator: "/").last.map(String.init)! }
        #expect(files == ["notes.txt", "events.jsonl.20261129T000009Z-1.gz", "events.jsonl.20261129T000010Z-2.gz",
                          "events.jsonl.20261129T000010Z-10", "events.jsonl"])
    }
}
