import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
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
        #expect(clean[0].input.eventsRead == 30_000 && clean[0].input.issueCount == 2)
        var filter = ReplayFilter()
        filter.since = Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000 + 2_000_000)
        filter.kinds = ["timing.recorded", "breaker.*"]
        expectSame(try reports(paths, filter: filter), "filtered")
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
}
