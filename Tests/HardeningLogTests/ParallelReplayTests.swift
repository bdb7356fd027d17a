import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningWorkload
import Testing

/// Several files are read and folded by several workers and the parts merged: every report
/// (JSON, text with its tables and timeline, HTML) is the one a single worker gives, on clean,
/// copied and damaged inputs, with and without filters.
@Suite struct ParallelReplayTests {
    /// Segments of three runs on two hosts (plain and gzip), a copied segment, a damaged file.
    private func writeInputs(_ directory: String) throws -> [String] {
        let encoder = JSONLineEncoder()
        var paths: [String] = []
        for (runIndex, run) in ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "cccccccccccccccc"].enumerated() {
            var workload = SyntheticWorkload(seed: UInt64(runIndex + 11))
            var seq: UInt64 = 0
            for segment in 0..<4 {
                var bytes: [UInt8] = []
                for _ in 0..<2_500 {
                    seq += 1
                    let next = workload.next()
                    let event = Event(timestamp: Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000 + Int64(seq) * 1_000 + Int64(runIndex) * 7),
                                      level: next.level, kind: next.kind, message: next.message, service: "rag",
                                      host: runIndex == 2 ? "web-2" : "web-1", run: run, seq: seq, attrs: next.attrs)
                    encoder.append(event, to: &bytes)
                }
                let name = "\(directory)/\(run)-\(segment).jsonl"
                if segment % 2 == 1 {
                    let compressor = try GzipCompressor(level: 1)
                    var compressed: [UInt8] = []
                    bytes.withUnsafeBytes { compressor.compressMember($0, into: &compressed) }
                    try Data(compressed).write(to: URL(fileURLWithPath: name + ".gz"))
                    paths.append(name + ".gz")
                } else {
                    try Data(bytes).write(to: URL(fileURLWithPath: name))
                    paths.append(name)
                }
            }
        }
        let damaged = directory + "/damaged.jsonl"
        try "not json\n{\"torn\n".write(toFile: damaged, atomically: true, encoding: .utf8)
        paths.insert(damaged, at: 3)
        return paths
    }

    private func reports(_ paths: [String], filter: ReplayFilter = ReplayFilter()) throws -> [Replay.Report] {
        try [1, 2, 3].map { workers in
            var replay = Replay(filter: filter)
            replay.workers = workers
            return try replay.run(ReplayInputs(paths))
        }
    }

    private func expectSame(_ reports: [Replay.Report], _ note: String) {
        for report in reports.dropFirst() {
            #expect(report.json.jsonText == reports[0].json.jsonText, "JSON, \(note)")
            #expect(report.text == reports[0].text, "text, \(note)")
            #expect(report.html == reports[0].html, "HTML, \(note)")
        }
    }

    @Test func severalWorkersGiveTheReportOneWorkerGives() throws {
        let directory = TemporaryDirectory(prefix: "parallel-replay")
        defer { directory.remove() }
        let paths = try writeInputs(directory.path)
        let clean = try reports(paths)
        expectSame(clean, "clean")
        #expect(clean.map(\.workersUsed) == [1, 2, 3])
        #expect(clean[0].input.eventsRead == 30_000 && clean[0].input.issueCount == 2)
        var filter = ReplayFilter()
        filter.since = Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000 + 2_000_000)
        filter.kinds = ["timing.recorded", "breaker.*"]
        expectSame(try reports(paths, filter: filter), "filtered")
    }

    /// One file of many gzip members (as gzip-stream writes), or plain: read as ranges cut at a
    /// member or a line, on several workers; every report is the one a single worker gives,
    /// damage in the middle included (its line numbers are the whole file's).
    @Test(arguments: [true, false])
    func oneLargeFileReadAsRangesGivesTheSameReport(compressed: Bool) throws {
        let directory = TemporaryDirectory(prefix: "parallel-ranges")
        defer { directory.remove() }
        let encoder = JSONLineEncoder()
        var workload = SyntheticWorkload(seed: 21)
        var file: [UInt8] = []
        let compressor = try GzipCompressor(level: 1)
        for member in 0..<60 {
            var lines: [UInt8] = []
            for index in 0..<500 {
                let seq = UInt64(member * 500 + index + 1)
                let next = workload.next()
                let event = Event(timestamp: Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000 + Int64(seq) * 1_000), level: next.level,
                                  kind: next.kind, message: next.message, service: "rag", host: "web-1", run: "dddddddddddddddd",
                                  seq: seq, attrs: next.attrs)
                encoder.append(event, to: &lines)
            }
            if member == 31 { lines += Array("a garbage line in the middle\n".utf8) }
            if compressed {
                var bytes: [UInt8] = []
                lines.withUnsafeBytes { compressor.compressMember($0, into: &bytes) }
                // A member whose deflate data is damaged, in the middle.
                if member == 40 { bytes[bytes.count / 2] ^= 0xFF }
                file += bytes
            } else {
                file += lines
            }
        }
        let path = directory.path + (compressed ? "/one.jsonl.gz" : "/one.jsonl")
        try Data(file).write(to: URL(fileURLWithPath: path))
        let all = try [1, 2, 3].map { workers -> Replay.Report in
            var replay = Replay()
            replay.workers = workers
            replay.splitBytes = 64 << 10
            return try replay.run(ReplayInputs([path]))
        }
        expectSame(all, "one \(compressed ? "gzip" : "plain") file")
        #expect(all.map(\.workersUsed) == [1, 2, 3], "the file was read in ranges")
        #expect(all[0].input.issuesByKind["bad_line"] ?? 0 >= 1, "\(all[0].input.issuesByKind)")
        if compressed { #expect(all[0].input.issuesByKind["corrupt_gzip"] == 1, "\(all[0].input.issuesByKind)") }
        #expect(all[0].input.eventsRead >= 29_500)
    }

    /// Copies of a segment read by different workers: the same event is counted once, as in
    /// order (the parts cannot be merged; everything is read again in order).
    @Test func copiesReadByDifferentWorkersAreCountedOnce() throws {
        let directory = TemporaryDirectory(prefix: "parallel-copies")
        defer { directory.remove() }
        var paths = try writeInputs(directory.path)
        let copy = directory.path + "/copy.jsonl.gz"
        try FileManager.default.copyItem(atPath: paths[2], toPath: copy)
        paths.append(copy)
        let all = try reports(paths)
        expectSame(all, "with a copy")
        #expect(all[0].input.duplicateEvents == 2_500)
        #expect(all[0].input.eventsKept == 30_000)
    }

    @Test func workersGetBlocksOfAboutTheSameWork() {
        // Ten segments and a small active file: 5 + 6 files, not 6 + 5 (the slower worker sets the time).
        #expect(Replay.blocks(weights: Array(repeating: 25, count: 10) + [3], count: 2) == [0..<5, 5..<11])
        #expect(Replay.blocks(weights: [100, 1, 1, 1], count: 2) == [0..<1, 1..<4])
        #expect(Replay.blocks(weights: [1, 1, 1, 100], count: 2) == [0..<3, 3..<4])
        #expect(Replay.blocks(weights: [5, 5, 5, 5, 5, 5], count: 3) == [0..<2, 2..<4, 4..<6])
        // Never an empty block, never more blocks than files.
        #expect(Replay.blocks(weights: [1000, 1, 1], count: 3) == [0..<1, 1..<2, 2..<3])
        #expect(Replay.blocks(weights: [7, 7], count: 4) == [0..<1, 1..<2])
        #expect(Replay.blocks(weights: [], count: 2).isEmpty)
    }
}
