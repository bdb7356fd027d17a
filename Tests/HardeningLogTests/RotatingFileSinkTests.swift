import Dispatch
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

/// The `rename` layout, kept as an option (SegmentsLayoutTests covers the default layout).
@Suite struct RotatingFileSinkTests {
    private func makeBus(_ sink: RotatingFileSink, clock: any WallClock = SystemWallClock(), capacity: Int = 65_536) -> EventBus {
        EventBus(configuration: .init(service: "rotation-test", host: "test-host", run: "00000000000000aa", capacity: capacity,
                                      overflowPolicy: .block, tickInterval: .milliseconds(5), volume: .full),
                 sinks: [sink], clock: clock)
    }

    /// The log files and links (hidden files, such as the sink's space reserve, left out).
    private func names(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    private func runEvents(_ events: [Event]) -> [Event] { events.filter { $0.seq > 0 } }

    private func emit(_ bus: EventBus, _ count: Int, from start: Int = 0) {
        for index in start..<(start + count) {
            bus.emit(TimingRecorded(operation: "op", durationMs: Double(index), outcome: "success"))
        }
    }

    @Test func rotatesBySizeIntoNamesOutsideTheActiveGlobAndCompressesThem() async throws {
        let output = TestOutput.directory(named: "rotation-size")
        defer { output.finish() }
        let sink = RotatingFileSink(configuration: .init(directory: output.path, layout: .rename, maxFileBytes: 20_000, minRotationInterval: .zero,
                                                         compression: .init(level: 6, delay: .zero)))
        let bus = makeBus(sink)
        for batch in 0..<20 {
            emit(bus, 100, from: batch * 100)
            await bus.flush()
        }
        await bus.shutdown()
        sink.waitForBackgroundWork()
        let files = names(in: output.path)
        #expect(files.contains("events.jsonl"))
        let segments = files.filter { $0 != "events.jsonl" }
        #expect(segments.count >= 5)
        for segment in segments {
            #expect(segment.range(of: #"^events\.jsonl\.\d{8}T\d{6}Z-\d+\.gz$"#, options: .regularExpression) != nil, "\(segment)")
            #expect(!segment.hasSuffix(".jsonl"), "a rotated name must not match *.jsonl")
            let test = try await ChildProcess.runDetached(["gzip", "-t", output.path + "/" + segment])
            #expect(test.status == 0, "\(segment): \(test.stderr)")
        }
        // Every file starts with its own header, whose first_seq is the first event's seq.
        let reader = LogReader()
        for path in reader.logFiles(in: output.path) {
            let events = reader.readAll([path]).events
            #expect(events.first?.kind == .fileOpened)
            #expect(events.first?.seq == 0)
            let header = try #require(try events.first?.payload(as: FileOpened.self))
            #expect(UInt64(header.firstSeq) == events.dropFirst().first?.seq ?? UInt64(header.firstSeq))
        }
        // zcat of all segments plus the active file gives every event once, in seq order.
        let ordered = reader.logFiles(in: output.path)
        let zcat = try await ChildProcess.runDetached(["sh", "-c", "zcat -f " + ordered.map { "'\($0)'" }.joined(separator: " ")])
        let lines = String(decoding: zcat.stdout, as: UTF8.self).split(separator: "\n")
        let decoded = try lines.map { try JSONLineDecoder().decode(String($0)) }
        let seqs = decoded.map(\.seq).filter { $0 > 0 }
        #expect(seqs == Array(1...UInt64(seqs.count)))
        #expect(decoded.filter { $0.kind == .timingRecorded }.count == 2000)
        #expect(sink.statistics.rotations == Int64(segments.count))
        #expect(decoded.filter { $0.kind == .fileRotated }.count == segments.count)
    }

    @Test func concurrentProducersDuringRotationLandExactlyOnce() async throws {
        let output = TestOutput.directory(named: "rotation-concurrent")
        defer { output.finish() }
        let sink = RotatingFileSink(configuration: .init(directory: output.path, layout: .rename, maxFileBytes: 64 << 10, minRotationInterval: .zero,
                                                         compression: .init(level: 1, delay: .zero), retention: .init(maxFiles: nil)))
        let bus = makeBus(sink, capacity: 1024)
        let producers = 4
        let perProducer = 5000
        DispatchQueue.concurrentPerform(iterations: producers) { producer in
            for index in 0..<perProducer {
                bus.emit(.info, "load.test", message: "p\(producer)", attrs: ["producer": .int(Int64(producer)), "index": .int(Int64(index))])
            }
        }
        await bus.shutdown()
        sink.waitForBackgroundWork()
        #expect(sink.statistics.rotations >= 5)
        let result = LogReader().readAll(LogReader().logFiles(in: output.path))
        #expect(result.issues.isEmpty)
        let events = runEvents(result.events)
        #expect(events.map(\.seq) == Array(1...UInt64(events.count)))
        var next = [Int64](repeating: 0, count: producers)
        for event in events where event.kind == "load.test" {
            let producer = Int(event.attrs["producer"]!.intValue!)
            #expect(event.attrs["index"]?.intValue == next[producer])
            next[producer] += 1
        }
        #expect(next == [Int64](repeating: Int64(perProducer), count: producers))
    }

    @Test func minimumIntervalAndAgeRotationFollowTheInjectedClock() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualWallClock()
        let sink = RotatingFileSink(configuration: .init(directory: directory.path, layout: .rename, maxFileBytes: 15_000, maxFileAge: .seconds(3600),
                                                         minRotationInterval: .seconds(10), compression: nil))
        let bus = makeBus(sink, clock: clock)
        emit(bus, 50)
        await bus.flush()
        #expect(sink.statistics.rotations == 0, "the first file may grow while no rotation happened yet")
        emit(bus, 50)
        await bus.flush()
        #expect(sink.statistics.rotations == 1)
        emit(bus, 50)
        await bus.flush()
        #expect(sink.statistics.rotations == 1, "no second rotation within 10 s")
        clock.advance(by: .seconds(11))
        emit(bus, 50)
        await bus.flush()
        #expect(sink.statistics.rotations == 2)
        // By age: an hour later, a tick rotates even without size pressure.
        clock.advance(by: .seconds(3601))
        await eventually(interval: .milliseconds(5)) { sink.statistics.rotations >= 3 }
        #expect(sink.statistics.rotations == 3)
        await bus.shutdown()
        let segments = names(in: directory.path).filter { $0 != "events.jsonl" }
        #expect(segments.count == 3)
        #expect(segments.allSatisfy { !$0.hasSuffix(".gz") }, "compression is off")
    }

    @Test func compressionWaitsForTheDelayThenReplacesAtomically() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualWallClock()
        let sink = RotatingFileSink(configuration: .init(directory: directory.path, layout: .rename, maxFileBytes: 30_000, minRotationInterval: .zero,
                                                         compression: .init(level: 9, delay: .seconds(60))))
        let bus = makeBus(sink, clock: clock)
        emit(bus, 100)
        await bus.flush()
        emit(bus, 100)
        await bus.flush()
        await bus.flush()  // the file.rotated report is written by the batch after the rotation
        sink.waitForBackgroundWork()
        let plain = names(in: directory.path).filter { $0 != "events.jsonl" }
        #expect(plain.count == 1)
        #expect(!plain[0].hasSuffix(".gz"), "still plain: agents may be reading it")
        let plainBytes = try Data(contentsOf: URL(fileURLWithPath: directory.path + "/" + plain[0]))
        clock.advance(by: .seconds(61))
        await eventually(interval: .milliseconds(5)) {
            sink.waitForBackgroundWork()
            return names(in: directory.path).contains(plain[0] + ".gz")
        }
        let after = names(in: directory.path)
        #expect(after == ["events.jsonl", plain[0] + ".gz"])
        let unzipped = try await ChildProcess.runDetached(["zcat", directory.path + "/" + plain[0] + ".gz"])
        #expect(unzipped.stdout == plainBytes)
        await bus.shutdown()
    }

    /// A compression that fails (a full disk) keeps the plain segment, says so, and is tried
    /// again while the sink runs, not only at the next start.
    @Test func aFailedCompressionIsTriedAgainWhileRunning() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let fileSystem = FaultInjectingFileSystem()
        fileSystem.setOpenFault(ENOSPC, forPathsEndingWith: ".gz.tmp")
        let sink = RotatingFileSink(configuration: .init(directory: directory.path, maxFileBytes: 30_000, minRotationInterval: .zero,
                                                         compression: .init(level: 6, delay: .zero, retryDelay: .milliseconds(200))),
                                    fileSystem: fileSystem)
        let memory = InMemorySink()
        let bus = EventBus(configuration: .init(service: "s", run: "00000000000000ee", tickInterval: .milliseconds(5), volume: .full), sinks: [sink, memory])
        emit(bus, 300)
        await bus.flush()
        emit(bus, 300, from: 300)
        await bus.flush()
        sink.waitForBackgroundWork()
        let plain = names(in: directory.path).filter { $0.hasPrefix("events-") && !$0.hasSuffix(".gz") }
        #expect(plain.count >= 2, "a closed segment and the active one: \(plain)")
        await eventually(interval: .milliseconds(5)) { memory.events.contains { $0.kind == .sinkFailed } }
        let failure = try #require(try memory.events.first { $0.kind == .sinkFailed }?.payload(as: SinkFailed.self))
        #expect(failure.errno == Int64(ENOSPC) && failure.error.contains("original kept, tried again in 200 ms"), "\(failure.error)")
        #expect(failure.sink == sink.name && sink.name == "file:" + directory.path + "/events.jsonl",
                "the background maintenance reports under the sink's one name")
        // The disk has room again: without a restart, the closed segment is compressed.
        fileSystem.setOpenFault(nil)
        let closed = plain[0]
        // Failures double the retry delay (200 ms, 400 ms, …, at most 10 min): a loaded machine
        // that let several pass before the fault was cleared would wait minutes for the next
        // timed try. A compression that works (the next segment's) means the disk has room
        // again: the waiting segments are tried at once.
        emit(bus, 300, from: 600)
        await bus.flush()
        await eventually(timeout: .seconds(90), interval: .milliseconds(5)) { names(in: directory.path).contains(closed + ".gz") }
        #expect(names(in: directory.path).contains(closed + ".gz"))
        #expect(!names(in: directory.path).contains(closed), "the plain copy is gone once the .gz is complete")
        await bus.shutdown()
    }

    /// A compression that works again (the disk has room) retries the segments still waiting
    /// at once: they do not wait out a delay that failures doubled.
    @Test func aCompressionThatWorksRetriesTheWaitingOnesAtOnce() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let fileSystem = FaultInjectingFileSystem()
        fileSystem.setOpenFault(ENOSPC, forPathsEndingWith: ".gz.tmp")
        let sink = RotatingFileSink(configuration: .init(directory: directory.path, maxFileBytes: 30_000, minRotationInterval: .zero,
                                                         compression: .init(level: 6, delay: .zero, retryDelay: .seconds(3600))),
                                    fileSystem: fileSystem)
        let memory = InMemorySink()
        let bus = EventBus(configuration: .init(service: "s", run: "00000000000000ef", tickInterval: .milliseconds(5), volume: .full),
                           sinks: [sink, memory])
        emit(bus, 300)
        await bus.flush()
        sink.waitForBackgroundWork()
        let failed = names(in: directory.path).filter { $0.hasPrefix("events-") && !$0.hasSuffix(".gz") }.sorted()
        #expect(failed.count >= 2, "a closed segment that failed to compress and the active one: \(failed)")
        #expect(await eventually { memory.events.contains { $0.kind == .sinkFailed } })
        fileSystem.setOpenFault(nil)
        emit(bus, 300, from: 300)
        await bus.flush()
        // Its next timed try is an hour away: only the rule can compress it in this test's time.
        #expect(await eventually(timeout: .seconds(60), interval: .milliseconds(5)) { names(in: directory.path).contains(failed[0] + ".gz") })
        #expect(!names(in: directory.path).contains(failed[0]))
        await bus.shutdown()
    }

    @Test func retentionDeletesOnlyCompressedSegmentsOldestFirst() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualWallClock()
        let sink = RotatingFileSink(configuration: .init(directory: directory.path, layout: .rename, maxFileBytes: 1500, minRotationInterval: .zero,
                                                         compression: .init(delay: .zero), retention: .init(maxFiles: 3)))
        let bus = makeBus(sink, clock: clock)
        for _ in 0..<8 {
            emit(bus, 30)
            await bus.flush()
            clock.advance(by: .seconds(2))
        }
        await bus.shutdown()
        sink.waitForBackgroundWork()
        let segments = names(in: directory.path).filter { $0 != "events.jsonl" }
        #expect(segments.count == 3)
        #expect(sink.statistics.rotations >= 6)
        // The newest are kept: their first seq is the highest.
        let reader = LogReader()
        let kept = reader.readAll(reader.logFiles(in: directory.path))
        let maxSeq = runEvents(kept.events).map(\.seq).max() ?? 0
        #expect(maxSeq >= 240)
    }

    @Test func retentionByTotalBytesAndByAge() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualWallClock(start: SystemWallClock().now())
        let sink = RotatingFileSink(configuration: .init(directory: directory.path, layout: .rename, maxFileBytes: 3000, minRotationInterval: .zero,
                                                         compression: .init(delay: .zero),
                                                         retention: .init(maxFiles: nil, maxTotalBytes: 2500, maxAge: .seconds(86_400))))
        let bus = makeBus(sink, clock: clock)
        for _ in 0..<6 {
            emit(bus, 30)
            await bus.flush()
        }
        await bus.flush()
        sink.waitForBackgroundWork()
        let compressed = names(in: directory.path).filter { $0.hasSuffix(".gz") }
        let total = try compressed.reduce(0) { $0 + (try PosixFileSystem().info(directory.path + "/" + $1)?.size ?? 0) }
        #expect(!compressed.isEmpty)
        #expect(total <= 2500, "oldest deleted until the rest fits")
        #expect(sink.statistics.rotations > Int64(compressed.count))
        // Two days later every compressed segment is past the age limit; plain files are never deleted.
        clock.advance(by: .seconds(2 * 86_400))
        emit(bus, 30)
        await bus.flush()
        emit(bus, 30)
        await bus.flush()
        await bus.shutdown()
        sink.waitForBackgroundWork()
        let left = names(in: directory.path)
        #expect(left.contains("events.jsonl"))
        #expect(left.filter { $0.hasSuffix(".gz") }.allSatisfy { !compressed.contains($0) }, "the old ones are gone")
    }

    @Test func flushIntervalHoldsLinesUntilDueOrFlushed() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualWallClock()
        let sink = RotatingFileSink(configuration: .init(directory: directory.path, layout: .rename, flushInterval: .seconds(5)))
        let bus = makeBus(sink, clock: clock)
        emit(bus, 10)
        // First proof that the sink was handed the events; only then that it holds them.
        #expect(await eventually { bus.statistics.delivered >= 10 })
        #expect(FileManager.default.contents(atPath: directory.path + "/events.jsonl") == nil, "held in memory")
        clock.advance(by: .seconds(6))
        await eventually(interval: .milliseconds(5)) { LogReader().readAll([directory.path + "/events.jsonl"]).events.count >= 11 }
        #expect(LogReader().readAll([directory.path + "/events.jsonl"]).events.count == 11, "header and ten events")
        emit(bus, 5)
        await bus.flush()
        #expect(LogReader().readAll([directory.path + "/events.jsonl"]).events.count == 16, "flush() writes at once")
        await bus.shutdown()
    }

    @Test(arguments: [RotatingFileSink.FsyncPolicy.never, .onRotation, .everyFlush])
    func fsyncFollowsThePolicy(policy: RotatingFileSink.FsyncPolicy) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let fileSystem = FaultInjectingFileSystem()
        let sink = RotatingFileSink(configuration: .init(directory: directory.path, layout: .rename, maxFileBytes: 20_000, minRotationInterval: .zero,
                                                         compression: nil, fsync: policy), fileSystem: fileSystem)
        let bus = makeBus(sink)
        for _ in 0..<4 {
            emit(bus, 5)
            await bus.flush()
        }
        let beforeRotation = fileSystem.syncCount
        #expect(sink.statistics.rotations == 0)
        emit(bus, 60)
        await bus.flush()
        await bus.shutdown()
        #expect(sink.statistics.rotations >= 1)
        switch policy {
        case .never: #expect(fileSystem.syncCount == 0)
        case .onRotation:
            #expect(beforeRotation == 0)
            #expect(fileSystem.syncCount >= 2, "on rotation and on close")
        case .everyFlush: #expect(beforeRotation >= 4)
        }
    }

    @Test func gzipStreamWritesOneMemberPerFlushAndSurvivesATornTail() async throws {
        let output = TestOutput.directory(named: "gzip-stream")
        defer { output.finish() }
        let sink = RotatingFileSink(configuration: .init(directory: output.path, format: .gzipStream, layout: .rename, maxFileBytes: nil,
                                                         flushInterval: .seconds(3600)))
        let bus = makeBus(sink)
        var sizes: [Int] = []
        for round in 0..<5 {
            emit(bus, 100, from: round * 100)
            await bus.flush()
            sizes.append(try Data(contentsOf: URL(fileURLWithPath: output.path + "/events.jsonl.gz")).count)
        }
        await bus.shutdown()
        #expect(names(in: output.path) == ["events.jsonl.gz"])
        #expect(Set(sizes).count == 5, "each flush appends a member")
        let path = output.path + "/events.jsonl.gz"
        #expect(try await ChildProcess.runDetached(["gzip", "-t", path]).status == 0)
        let all = LogReader().readAll([path])
        #expect(all.issues.isEmpty)
        #expect(all.events.filter { $0.kind == .timingRecorded }.count == 500)
        // A crash mid-member: everything up to the last complete flush is readable.
        let torn = TemporaryDirectory()
        defer { torn.remove() }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(sizes[3] + (sizes[4] - sizes[3]) / 2).write(to: URL(fileURLWithPath: torn.path + "/events.jsonl.gz"))
        let partial = LogReader().readAll([torn.path + "/events.jsonl.gz"])
        #expect(partial.events.filter { $0.kind == .timingRecorded }.count >= 400)
        #expect(partial.issues.contains { $0.kind == .truncatedGzip })
    }

    @Test func oversizedEventsAreTruncatedToTheLineCap() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let sink = RotatingFileSink(configuration: .init(directory: directory.path, layout: .rename, maxLineBytes: 4096))
        let bus = makeBus(sink)
        bus.emit(.info, "big.event", message: String(repeating: "x", count: 100_000), attrs: ["blob": .string(String(repeating: "y", count: 100_000))])
        await bus.shutdown()
        let data = try Data(contentsOf: URL(fileURLWithPath: directory.path + "/events.jsonl"))
        let lines = data.split(separator: 0x0A)
        #expect(lines.allSatisfy { $0.count < 4096 })
        let event = try JSONLineDecoder().decode(Array(lines[1]))
        #expect(event.truncated)
        #expect(event.kind == "big.event")
    }

    @Test func createsFilesAndDirectoriesWithRestrictivePermissions() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let directory = root.path + "/nested/logs"
        let sink = RotatingFileSink(configuration: .init(directory: directory, layout: .rename))
        let bus = makeBus(sink)
        emit(bus, 3)
        await bus.shutdown()
        let fileSystem = PosixFileSystem()
        #expect(try fileSystem.info(directory)?.permissions == 0o750)
        #expect(try fileSystem.info(root.path + "/nested")?.permissions == 0o750)
        #expect(try fileSystem.info(directory + "/events.jsonl")?.permissions == 0o640)
    }

    @Test func refusesToFollowASymlinkAtTheActivePath() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let target = directory.path + "/target.txt"
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: target))
        #expect(symlink(target, directory.path + "/events.jsonl") == 0)
        let sink = RotatingFileSink(configuration: .init(directory: directory.path, layout: .rename))
        let memory = InMemorySink()
        let bus = EventBus(configuration: .init(service: "s", run: "00000000000000bb", volume: .full), sinks: [sink, memory])
        emit(bus, 10)
        await bus.shutdown()
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "precious\n")
        #expect(sink.statistics.isFailing)
        #expect(sink.statistics.lostEvents >= 10)
        let failure = try #require(memory.events.first { $0.kind == .sinkFailed })
        #expect(failure.attrs["error"]?.stringValue?.contains("symlink") == true)
    }

    @Test func startupFinishesWhatACrashLeftUndone() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path
        // A leftover active file with a torn tail, a plain segment never compressed, a temporary
        // from an interrupted compression, and a segment whose .gz was complete before the crash.
        try Data((#"{"timestamp":"2026-11-29T00:00:00.000000Z","level":"info","event":"k","message":"","service":"s","host":"h","run":"00000000000000cc","seq":1,"attrs":{}}"# + "\n{\"torn").utf8)
            .write(to: URL(fileURLWithPath: path + "/events.jsonl"))
        try Data("plain segment\n".utf8).write(to: URL(fileURLWithPath: path + "/events.jsonl.20261128T000000Z-1"))
        try Data("half written".utf8).write(to: URL(fileURLWithPath: path + "/events.jsonl.20261128T000001Z-1.gz.tmp"))
        try Data("done twice\n".utf8).write(to: URL(fileURLWithPath: path + "/events.jsonl.20261128T000002Z-1"))
        let compressor = try GzipCompressor()
        var gz: [UInt8] = []
        compressor.compressMember(Array("done twice\n".utf8), into: &gz)
        try Data(gz).write(to: URL(fileURLWithPath: path + "/events.jsonl.20261128T000002Z-1.gz"))

        let sink = RotatingFileSink(configuration: .init(directory: path, layout: .rename, compression: .init(delay: .zero)))
        let bus = makeBus(sink)
        emit(bus, 5)
        await bus.shutdown()
        sink.waitForBackgroundWork()
        let files = names(in: path)
        #expect(!files.contains { $0.hasSuffix(".tmp") })
        #expect(files.contains("events.jsonl.20261128T000000Z-1.gz"))
        #expect(!files.contains("events.jsonl.20261128T000000Z-1"))
        #expect(!files.contains("events.jsonl.20261128T000002Z-1"))
        #expect(files.contains("events.jsonl.20261128T000002Z-1.gz"))
        // The old active file was rotated (and compressed), not appended to.
        let rotated = files.filter { $0.hasPrefix("events.jsonl.") && !$0.contains("20261128") }
        #expect(rotated.count == 1)
        let old = LogReader().readAll([path + "/" + rotated[0]])
        #expect(old.events.count == 1)
        #expect(old.issues.map(\.kind) == [.tornLine])
        let fresh = LogReader().readAll([path + "/events.jsonl"])
        #expect(fresh.events.first?.kind == .fileOpened)
        #expect(fresh.events.filter { $0.kind == .timingRecorded }.count == 5)
        #expect(fresh.events.contains { $0.kind == .fileRotated && $0.attrs["reason"] == "startup" })
    }

    @Test func failingWritesAreReportedCountedAndRecovered() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let fileSystem = FaultInjectingFileSystem()
        let sink = RotatingFileSink(configuration: .init(directory: directory.path, layout: .rename, maxRetainedBytesOnFailure: 8 << 10), fileSystem: fileSystem)
        let memory = InMemorySink()
        let bus = EventBus(configuration: .init(service: "s", run: "00000000000000dd", tickInterval: .milliseconds(5), volume: .full), sinks: [sink, memory])
        emit(bus, 10)
        await bus.flush()
        fileSystem.setWriteFault(.fail(errno: ENOSPC))
        emit(bus, 10, from: 10)  // retained: fits in 8 KiB
        await bus.flush()
        #expect(sink.statistics.isFailing)
        emit(bus, 200, from: 20)  // exceeds the retention: dropped and counted
        await bus.flush()
        let lostWhileFailing = sink.statistics.lostEvents
        #expect(lostWhileFailing > 0)
        fileSystem.setWriteFault(.shortThenFail(bytes: 10, errno: ENOSPC))  // still failing, after a partial write
        emit(bus, 5, from: 220)
        await bus.flush()
        fileSystem.setWriteFault(.none)
        emit(bus, 5, from: 225)
        await bus.flush()
        await bus.shutdown()
        #expect(!sink.statistics.isFailing)
        let failed = memory.events.filter { $0.kind == .sinkFailed }
        #expect(failed.count == 1, "reported once per outage, not per batch")
        #expect(failed.first?.attrs["errno"] == .int(Int64(ENOSPC)))
        let recovered = try #require(try memory.events.first { $0.kind == .sinkRecovered }?.payload(as: SinkRecovered.self))
        #expect(recovered.lostEvents == sink.statistics.lostEvents)
        #expect(recovered.failedWrites >= 3)
        // On disk: whole lines only, and every event either written or counted as lost.
        let result = LogReader().readAll(LogReader().logFiles(in: directory.path))
        #expect(result.issues.isEmpty, "a short write must not leave a partial line")
        let written = runEvents(result.events)
        let memoryRun = runEvents(memory.events)
        #expect(Int64(written.count) + sink.statistics.lostEvents == Int64(memoryRun.count))
        #expect(written.contains { $0.kind == .sinkRecovered })
        // The first ten and the retained ten arrived.
        let timings = written.filter { $0.kind == .timingRecorded }.map { $0.attrs["duration_ms"]!.doubleValue! }
        #expect(Array(timings.prefix(20)) == (0..<20).map(Double.init))
    }
}
