import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Testing

/// The production detail through the real file sink: windows, repeats and failure context in
/// rotating files (plain and gzip-stream) replay to the live summary, through the byte scanner
/// and the decoder alike; a file sink that leaves levels out says so, and replay tells its holes
/// apart from losses.
@Suite struct RollupReplayTests {
    @Test(arguments: [RotatingFileSink.FileFormat.plain, .gzipStream])
    func windowsInRotatingFilesReplayToTheLiveSummary(format: RotatingFileSink.FileFormat) async throws {
        let output = TestOutput.directory(named: "rollup-replay")
        defer { output.finish() }
        let clock = ManualWallClock(start: Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000))
        let files = RotatingFileSink(configuration: .init(directory: output.path, format: format, maxFileBytes: 16 << 10,
                                                          minRotationInterval: .zero, compression: .init(level: 1, delay: .zero),
                                                          retention: .init(maxFiles: nil), flushInterval: .zero),
                                     fileSystem: PosixFileSystem())
        let live = SummarySink()
        let bus = EventBus(configuration: .init(service: "rag", host: "web-1", run: "3333333333333333", capacity: 1 << 20, overflowPolicy: .block,
                                                tickInterval: .milliseconds(1), capacityBytes: 1 << 30, sinkQueueCapacityBytes: 1 << 30,
                                                volume: EventVolume(windowInterval: .seconds(1))),
                           sinks: [files, live], clock: clock)
        var workload = RollupWorkload(seed: 11)
        for (index, event) in workload.next(8_000).enumerated() {
            clock.set(event.timestamp)
            bus.emit(event)
            if index % 200 == 0 { await Task.yield() }
        }
        await bus.shutdown()
        files.waitForBackgroundWork()
        let summary = live.summary
        #expect((summary.byKind["timing.window"] ?? 0) > 5 && (summary.byKind["events.repeated"] ?? 0) > 5)
        #expect((summary.byKind["file.rotated"] ?? 0) > 0, "the files rotated")

        let scanned = try Replay().run(ReplayInputs([output.path]))
        var decoding = Replay()
        decoding.scansBytes = false
        let decoded = try decoding.run(ReplayInputs([output.path]))
        #expect(scanned.summary.jsonText == summary.jsonText)
        #expect(decoded.summary.jsonText == summary.jsonText)
        #expect(scanned.timeline.buckets == decoded.timeline.buckets)
        #expect(scanned.summary.missingEvents == 0 && scanned.input.issueCount == 0)
    }

    @Test func aFileSinkAboveTraceSaysSoAndReplayCountsItsHolesAsBelowTheLevel() async throws {
        let output = TestOutput.directory(named: "file-level")
        defer { output.finish() }
        let files = RotatingFileSink(configuration: .init(directory: output.path, compression: nil, minimumLevel: .warning))
        let everything = InMemorySink()
        let bus = EventBus(configuration: .init(service: "rag", volume: .full), sinks: [files, everything])
        var workload = RollupWorkload(seed: 5)
        for event in workload.next(600) { bus.emit(event) }
        await bus.shutdown()
        let below = everything.events.filter { $0.level < .warning }.count
        #expect(below > 100)
        let report = try Replay().run(ReplayInputs([output.path]))
        let run = try #require(report.summary.runs.values.first)
        #expect(run.filesMinimumLevel == .warning)
        #expect(run.belowMinimumLevel == UInt64(below))
        #expect(run.missing == 0 && report.summary.missingEvents == 0, "not lost: below the files' level")
        #expect(report.summary.jsonText.contains(#""files_min_level":"warning""#))
        let header = try String(contentsOfFile: LogReader().logFiles(in: output.path)[0], encoding: .utf8).prefix { $0 != "\n" }
        #expect(header.contains(#""min_level":"warning""#))
    }

    @Test func hostileWindowLinesAreCountedAsMalformedAndNeverCrash() throws {
        let directory = TemporaryDirectory(prefix: "hostile-windows")
        defer { directory.remove() }
        let prefix = #"{"timestamp":"2026-11-30T00:00:00.000000Z","level":"info","event":"timing.window","message":"m","service":"s","host":"h","run":"0123456789abcdef","seq":"#
        let attrs = [
            #""operation":"a","window_start":"2026-11-30T00:00:00.000000Z","outcomes":{"success":9223372036854775807},"count":9223372036854775807,"sum_ms":1,"min_ms":1,"max_ms":1,"buckets_us":"1""#,
            #""operation":"a","window_start":"2026-11-30T00:00:00.000000Z","outcomes":{"success":-1},"count":1,"sum_ms":1,"min_ms":1,"max_ms":1,"buckets_us":"1""#,
            #""operation":"a","window_start":"2026-11-30T00:00:00.000000Z","count":1,"sum_ms":1,"min_ms":1,"max_ms":1,"buckets_us":"1:4294967296 5:4294967296""#,
            #""operation":"a","window_start":"yesterday","count":1,"sum_ms":1,"min_ms":1,"max_ms":1,"buckets_us":"1""#,
            #""operation":"a","window_start":"2026-11-30T00:00:00.000000Z","count":2,"sum_ms":1e308,"min_ms":5,"max_ms":1,"buckets_us":"1 2""#,
            #""operation":"a","window_start":"2026-11-30T00:00:00.000000Z","count":1,"sum_ms":1,"min_ms":1,"max_ms":1,"buckets_us":"1","part":3,"parts":2"#,
        ]
        var text = ""
        for (index, body) in attrs.enumerated() { text += prefix + "\(index + 1)" + #","attrs":{"# + body + "}}\n" }
        text += prefix.replacingOccurrences(of: "timing.window", with: "events.repeated") + "7" + #","attrs":{"kind":"breaker.rejected","subject":{},"count":3,"first_at":"2026-11-30T00:00:00.000000Z","last_at":"2026-11-30T00:00:00.000000Z"}}"# + "\n"
        try text.write(toFile: directory.path + "/events.jsonl", atomically: true, encoding: .utf8)
        for scans in [true, false] {
            var replay = Replay()
            replay.scansBytes = scans
            let report = try replay.run(ReplayInputs([directory.path + "/events.jsonl"]))
            #expect(report.summary.malformed == ["timing.window": 6, "events.repeated": 1], "scans: \(scans)")
            #expect(report.summary.operations.isEmpty && report.summary.breakers.isEmpty)
        }
    }
}
