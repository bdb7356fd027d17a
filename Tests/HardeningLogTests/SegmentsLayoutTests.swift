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

/// The default `segments` layout: files created under their final name, never renamed while
/// plain, `events.jsonl` a link to the one being written, compression only of closed segments
/// after the delay.
@Suite struct SegmentsLayoutTests {
    private func makeBus(_ sink: RotatingFileSink, clock: any WallClock = SystemWallClock(), extra: [any EventSink] = []) -> EventBus {
        EventBus(configuration: .init(service: "segments-test", host: "test-host", run: "00000000000000ab", capacity: 65_536,
                                      overflowPolicy: .block, tickInterval: .milliseconds(5), volume: .full),
                 sinks: [sink] + extra, clock: clock)
    }

    /// The log files and links (hidden files, such as the sink's space reserve, left out).
    private func names(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    private func emit(_ bus: EventBus, _ count: Int, from start: Int = 0) {
        for index in start..<(start + count) {
            bus.emit(TimingRecorded(operation: "op", durationMs: Double(index), outcome: "success"))
        }
    }

    /// The sink's own `file.rotated` reports are written after the flush that caused them (and
    /// may rotate again): flushes until the rotations stop, then waits for compression and retention.
    private func settle(_ bus: EventBus, _ sink: RotatingFileSink) async {
        var rotations = Int64(-1)
        while rotations != sink.statistics.rotations {
            rotations = sink.statistics.rotations
            await bus.flush()
        }
        sink.waitForBackgroundWork()
    }

    private func linkTarget(_ path: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: path)
    }

    @Test func segmentsAreCreatedUnderTheirFinalSortableNameAndTheStableNameLinksTheActiveOne() async throws {
        let output = TestOutput.directory(named: "segments-layout")
        defer { output.finish() }
        let sink = RotatingFileSink(configuration: .init(directory: output.path, maxFileBytes: 20_000, minRotationInterval: .zero,
                                                         compression: .init(delay: .seconds(3600))))
        let bus = makeBus(sink)
        for batch in 0..<20 {
            emit(bus, 100, from: batch * 100)
            await bus.flush()
            // The link always resolves to the segment being written, a regular file.
            let target = try #require(linkTarget(output.path + "/events.jsonl"))
            #expect(SegmentName(target)?.layout == .segments)
        }
        await bus.shutdown()
        sink.waitForBackgroundWork()
        let files = names(in: output.path).filter { $0 != "events.jsonl" }
        #expect(files.count >= 5)
        for file in files {
            #expect(file.range(of: #"^events-\d{8}T\d{6}Z-\d{4}\.jsonl$"#, options: .regularExpression) != nil, "\(file)")
            // Each header names the file it was written into: no file was renamed after it was opened.
            let events = LogReader().readAll([output.path + "/" + file]).events
            let header = try #require(try events.first?.payload(as: FileOpened.self))
            #expect(header.path == file)
            #expect(header.layout == "segments")
            #expect(UInt64(header.firstSeq) == events.dropFirst().first?.seq)
        }
        #expect(linkTarget(output.path + "/events.jsonl") == files.last, "the link names the newest segment")
        #expect(LogReader().logFiles(in: output.path).map { String($0.split(separator: "/").last!) } == files,
                "the reader lists each segment once (not the link), in creation order")
        let events = LogReader().readAll(LogReader().logFiles(in: output.path)).events.filter { $0.seq > 0 }
        #expect(events.map(\.seq) == Array(1...UInt64(events.count)))
        #expect(events.filter { $0.kind == .timingRecorded }.count == 2000)
        let rotated = try events.filter { $0.kind == .fileRotated }.map { try $0.payload(as: FileRotated.self).segment }
        #expect(rotated == Array(files.dropLast()), "file.rotated names each closed segment")
    }

    @Test func onlyClosedSegmentsAreCompressedAfterTheDelay() async throws {
        let output = TestOutput.directory(named: "segments-compression")
        defer { output.finish() }
        let clock = ManualWallClock()
        let sink = RotatingFileSink(configuration: .init(directory: output.path, maxFileBytes: 10_000, minRotationInterval: .zero,
                                                         compression: .init(level: 6, delay: .seconds(60)), retention: .init(maxFiles: nil)))
        let bus = makeBus(sink, clock: clock)
        for batch in 0..<6 {
            emit(bus, 100, from: batch * 100)
            await bus.flush()
        }
        await settle(bus, sink)
        let plain = names(in: output.path).filter { $0 != "events.jsonl" }
        #expect(plain.count >= 3)
        #expect(!plain.contains { $0.hasSuffix(".gz") }, "nothing is compressed before the delay")
        let activeBefore = try #require(linkTarget(output.path + "/events.jsonl"))
        clock.advance(by: .seconds(61))
        emit(bus, 1, from: 600)
        await bus.flush()
        await eventually(interval: .milliseconds(10)) { names(in: output.path).filter { $0.hasSuffix(".gz") }.count >= plain.count - 1 }
        sink.waitForBackgroundWork()
        let after = names(in: output.path)
        #expect(after.contains(activeBefore), "the segment being written then, closed less than the delay ago, stays plain")
        for segment in plain where segment != activeBefore {
            #expect(after.contains(segment + ".gz"), "\(segment) compressed")
            #expect(!after.contains(segment))
            let test = try await ChildProcess.runDetached(["gzip", "-t", output.path + "/" + segment + ".gz"])
            #expect(test.status == 0, "\(test.stderr)")
        }
        await bus.shutdown()
        let events = LogReader().readAll(LogReader().logFiles(in: output.path)).events.filter { $0.seq > 0 }
        #expect(events.map(\.seq) == Array(1...UInt64(events.count)))
    }

    /// A tailer that reads one file, sleeps, and lists the directory again falls many segments
    /// behind; following `events-*.jsonl` it still gets every line exactly once.
    @Test func aTailerThatLagsManySegmentsGetsEveryLineExactlyOnce() async throws {
        let output = TestOutput.directory(named: "segments-slow-tailer")
        defer { output.finish() }
        let sink = RotatingFileSink(configuration: .init(directory: output.path, maxFileBytes: 8_000, minRotationInterval: .zero,
                                                         compression: .init(delay: .seconds(3600)), retention: .init(maxFiles: nil)))
        let bus = makeBus(sink)
        let tailer = Locked(GlobTailer(directory: output.path))
        let stop = Locked(false)
        let reader = Thread {
            while !stop.withLock({ $0 }) {
                if tailer.withLock({ $0.step() }) { usleep(30_000) } else { usleep(5_000) }
            }
        }
        reader.start()
        for batch in 0..<40 {
            emit(bus, 50, from: batch * 50)
            await bus.flush()
            try await Task.sleep(for: .milliseconds(5))
        }
        await bus.shutdown()
        stop.withLock { $0 = true }
        while reader.isExecuting || !reader.isFinished { usleep(1_000) }
        var finished = tailer.withLock { $0 }
        finished.catchUp()
        let segments = names(in: output.path).filter { $0.hasPrefix("events-") }.count
        #expect(segments >= 20)
        #expect(finished.maxFilesBehind >= 5, "the tailer lagged only \(finished.maxFilesBehind) segments")
        #expect(finished.vanished.isEmpty)
        var counts: [UInt64: Int] = [:]
        for line in finished.lines {
            let event = try JSONLineDecoder().decode(line)
            if event.seq > 0 { counts[event.seq, default: 0] += 1 }
        }
        let written = LogReader().readAll(LogReader().logFiles(in: output.path)).events.filter { $0.seq > 0 }.count
        #expect(counts.count == written, "\(written - counts.count) lines never arrived")
        #expect(counts.values.allSatisfy { $0 == 1 }, "lines arrived twice")
        #expect(counts.keys.max() == UInt64(written))
    }

    /// A glob over the directory names the `events.jsonl` link and the segment it points at;
    /// replay reads that file once.
    @Test func replayInputsReadALinkedSegmentOnce() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let sink = RotatingFileSink(configuration: .init(directory: directory.path, maxFileBytes: 4_000, minRotationInterval: .zero))
        let bus = makeBus(sink)
        for batch in 0..<4 {
            emit(bus, 40, from: batch * 40)
            await bus.flush()
        }
        await bus.shutdown()
        let fromGlob = ReplayInputs([directory.path + "/*"])
        #expect(fromGlob.files.count == LogReader().logFiles(in: directory.path).count)
        let both = ReplayInputs([directory.path + "/events.jsonl", directory.path])
        #expect(both.files.count == fromGlob.files.count, "the link and its target are one file")
        let events = LogReader().readAll(fromGlob.files).events.filter { $0.kind == .timingRecorded }
        #expect(events.count == 160)
    }

    /// Two copies of the same segments (a backup copied next to the logs): every event is
    /// counted once and the copies are reported, by the byte scanner and by the decoder alike.
    @Test func copiesOfASegmentAreCountedOnceAndReported() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let sink = RotatingFileSink(configuration: .init(directory: directory.path + "/logs", maxFileBytes: 8_000, minRotationInterval: .zero))
        let bus = makeBus(sink)
        for batch in 0..<5 {
            emit(bus, 50, from: batch * 50)
            await bus.flush()
        }
        await bus.shutdown()
        try FileManager.default.copyItem(atPath: directory.path + "/logs", toPath: directory.path + "/backup")
        let single = try Replay().run(ReplayInputs([directory.path + "/logs"]))
        let inputs = ReplayInputs([directory.path])
        #expect(inputs.files.count == 2 * single.input.files)
        let scanned = try Replay().run(inputs)
        var decodedEvents = 0
        let decoded = try Replay().run(inputs, onEvent: { _ in decodedEvents += 1 })
        for report in [scanned, decoded] {
            #expect(report.summary.json.jsonText == single.summary.json.jsonText, "each event once")
            #expect(report.input.duplicateEvents == Int64(single.summary.events), "every copy reported")
            #expect(report.text.contains("read twice (same run and seq; counted once)"))
        }
        #expect(single.input.duplicateEvents == 0)
        #expect(decodedEvents < 2 * Int(single.summary.events))
    }

    @Test func startupClosesWhatACrashLeftAndAdoptsAnOldLayoutActiveFile() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path
        let line = #"{"timestamp":"2026-11-29T00:00:00.000000Z","level":"info","event":"k","message":"","service":"s","host":"h","run":"00000000000000cc","seq":1,"attrs":{}}"#
        // The rename layout's active file from before an upgrade, a segment of a crashed run, a
        // segment created just before the crash (empty), a stale link and link temporary.
        try Data((line + "\n").utf8).write(to: URL(fileURLWithPath: path + "/events.jsonl"))
        try Data((line + "\n").utf8).write(to: URL(fileURLWithPath: path + "/events-20261128T000000Z-1.jsonl"))
        try Data().write(to: URL(fileURLWithPath: path + "/events-20261128T000001Z-1.jsonl"))
        #expect(symlink("events-20261128T000000Z-1.jsonl", path + "/events.jsonl.link.tmp") == 0)

        let sink = RotatingFileSink(configuration: .init(directory: path, compression: .init(delay: .zero)))
        let bus = makeBus(sink)
        emit(bus, 5)
        await bus.shutdown()
        sink.waitForBackgroundWork()
        let files = names(in: path)
        #expect(!files.contains { $0.hasSuffix(".tmp") })
        #expect(!files.contains("events-20261128T000001Z-1.jsonl"), "the empty segment is removed")
        #expect(files.contains("events-20261128T000000Z-1.jsonl.gz"), "the crashed run's segment is compressed")
        let target = try #require(linkTarget(path + "/events.jsonl"), "events.jsonl is now the link")
        let fresh = LogReader().readAll([path + "/" + target])
        #expect(fresh.events.filter { $0.kind == .timingRecorded }.count == 5)
        let all = LogReader().readAll(LogReader().logFiles(in: path)).events
        #expect(all.filter { $0.kind == "k" }.count == 2, "the old active file and the crashed segment are both kept, once each")
        #expect(all.contains { $0.kind == .fileRotated && $0.attrs["reason"] == "startup" })
    }

    @Test func aLinkPlantedAtTheStableNameIsReplacedNeverFollowed() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let target = directory.path + "/target.txt"
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: target))
        #expect(symlink(target, directory.path + "/events.jsonl") == 0)
        let sink = RotatingFileSink(configuration: .init(directory: directory.path))
        let bus = makeBus(sink)
        emit(bus, 10)
        await bus.shutdown()
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "precious\n")
        #expect(!sink.statistics.isFailing)
        #expect(sink.statistics.writtenEvents >= 10)
        #expect(linkTarget(directory.path + "/events.jsonl").flatMap(SegmentName.init) != nil)
    }

    @Test func gzipStreamSegmentsKeepTheActiveFileOutOfRetention() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let sink = RotatingFileSink(configuration: .init(directory: directory.path, format: .gzipStream, maxFileBytes: 1_000,
                                                         minRotationInterval: .zero, retention: .init(maxFiles: 1), flushInterval: .zero))
        let bus = makeBus(sink)
        for batch in 0..<12 {
            emit(bus, 60, from: batch * 60)
            await bus.flush()
        }
        await settle(bus, sink)
        let target = try #require(linkTarget(directory.path + "/events.jsonl.gz"))
        #expect(target.range(of: #"^events-\d{8}T\d{6}Z-\d{4}\.jsonl\.gz$"#, options: .regularExpression) != nil, "\(target)")
        let files = names(in: directory.path).filter { $0 != "events.jsonl.gz" }
        #expect(files.contains(target), "retention never deletes the file being written")
        #expect(files.count == 2, "one kept closed segment and the active one: \(files)")
        await bus.shutdown()
        #expect(sink.statistics.rotations >= 4)
    }

    @Test func segmentFilesAndDirectoriesHaveRestrictivePermissions() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let directory = root.path + "/nested/logs"
        let sink = RotatingFileSink(configuration: .init(directory: directory))
        let bus = makeBus(sink)
        emit(bus, 3)
        await bus.shutdown()
        let fileSystem = PosixFileSystem()
        #expect(try fileSystem.info(directory)?.permissions == 0o750)
        let target = try #require(linkTarget(directory + "/events.jsonl"))
        #expect(try fileSystem.info(directory + "/" + target)?.permissions == 0o640)
    }

    @Test(arguments: [
        ("events-20261129T000000Z-0001.jsonl", "events.jsonl", RotatingFileSink.Layout.segments, false),
        ("events-20261129T000000Z-0012.jsonl.gz", "events.jsonl", .segments, true),
        ("my-app-20261129T000000Z-12345.jsonl", "my-app.jsonl", .segments, false),
        ("events.jsonl.20261129T000000Z-1", "events.jsonl", .rename, false),
        ("events.jsonl.20261129T000000Z-2.gz", "events.jsonl", .rename, true),
    ])
    func segmentNamesParseInBothLayoutsAndFormatBack(name: String, base: String, layout: RotatingFileSink.Layout, compressed: Bool) throws {
        let parsed = try #require(SegmentName(name))
        #expect(parsed.baseName == base)
        #expect(parsed.layout == layout)
        #expect(parsed.isCompressed == compressed)
        #expect(SegmentName(name, baseName: base) == parsed)
        let time = try #require(Timestamp(rfc3339: "2026-11-29T00:00:00Z"))
        #expect(SegmentName(baseName: base, layout: layout, time: time, counter: parsed.counter, compressed: compressed).name == name)
    }

    @Test func namesThatAreNotSegmentsAreNotParsed() {
        for name in ["events.jsonl", "events.jsonl.gz", "events-2026-1.jsonl", "events-20261129T000000Z-x.jsonl",
                     "events-20261129T000000Z-1.jsonl.tmp", ".events-20261129T000000Z-1.jsonl", "notes.txt", "events.jsonl.link.tmp"] {
            #expect(SegmentName(name) == nil, "\(name)")
        }
    }
}
