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

/// A directory that cannot take a new file (inodes used up) and a backlog kept through a full
/// disk: events go on into the file that can still grow, replay tells every loss, and a backlog
/// keeps the size limit once the disk frees.
@Suite struct FileSinkOutOfSpaceTests {
    private func makeBus(_ sink: RotatingFileSink, clock: any WallClock = SystemWallClock(), extra: [any EventSink] = []) -> EventBus {
        EventBus(configuration: .init(service: "space-test", host: "test-host", run: "00000000000000ee", capacity: 65_536,
                                      overflowPolicy: .block, tickInterval: .milliseconds(5), volume: .full),
                 sinks: [sink] + extra, clock: clock)
    }

    private func emit(_ bus: EventBus, _ count: Int, from start: Int = 0) {
        for index in start..<(start + count) {
            bus.emit(TimingRecorded(operation: "op", durationMs: Double(index), outcome: "success"))
        }
    }

    private func segments(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("events-") }.sorted()
    }

    @Test(arguments: [RotatingFileSink.FileFormat.plain, .gzipStream])
    func withNoInodeLeftEventsGoOnIntoTheCurrentFileAndRotationResumesLater(format: RotatingFileSink.FileFormat) async throws {
        let directory = TemporaryDirectory(prefix: "no-inodes")
        defer { directory.remove() }
        let fileSystem = FaultInjectingFileSystem()
        let sink = RotatingFileSink(configuration: .init(directory: directory.path, format: format, maxFileBytes: 8 << 10,
                                                         minRotationInterval: .zero, compression: nil, flushInterval: .zero),
                                    fileSystem: fileSystem)
        let memory = InMemorySink()
        let bus = makeBus(sink, extra: [memory])
        emit(bus, 50)
        await bus.flush()
        let before = segments(in: directory.path).count
        fileSystem.setOpenFault(ENOSPC, onlyCreating: true)
        for batch in 0..<20 {
            emit(bus, 100, from: 50 + batch * 100)
            await bus.flush()
        }
        #expect(segments(in: directory.path).count == before, "no file could be made")
        #expect(sink.statistics.lostEvents == 0 && !sink.statistics.isFailing, "the current file took every event")
        let reports = memory.events.filter { $0.kind == .sinkFailed }
        #expect(reports.count == 1, "told once: \(reports.map(\.message))")
        #expect(reports.first?.message.contains("no new file can be made") == true, "\(reports.map(\.message))")
        fileSystem.setOpenFault(nil)
        for batch in 0..<5 {
            emit(bus, 100, from: 2_050 + batch * 100)
            await bus.flush()
        }
        #expect(segments(in: directory.path).count > before, "rotation resumed")
        await bus.shutdown()
        let report = try Replay().run(ReplayInputs([directory.path]))
        #expect(report.summary.missingEvents == 0 && report.summary.lostTailEvents == 0 && report.input.issueCount == 0)
        #expect(report.summary.byKind["timing.recorded"] == 2_550)
    }

    @Test func whenNoFileCanBeMadeAtAllTheReserveCarriesTheClosingRecordAndReplayTellsTheLoss() async throws {
        let directory = TemporaryDirectory(prefix: "no-inodes-at-all")
        defer { directory.remove() }
        let fileSystem = FaultInjectingFileSystem()
        let sink = RotatingFileSink(configuration: .init(directory: directory.path, maxFileBytes: 8 << 10, minRotationInterval: .zero,
                                                         compression: nil, flushInterval: .zero, maxRetainedBytesOnFailure: 8 << 10),
                                    fileSystem: fileSystem)
        let bus = makeBus(sink)
        emit(bus, 10)
        await bus.flush()
        // No new file can be made from now on, and the file being written breaks (EIO closes it).
        fileSystem.setOpenFault(ENOSPC, onlyCreating: true)
        fileSystem.setWriteFault(.fail(errno: EIO))
        emit(bus, 5, from: 10)
        await bus.flush()
        fileSystem.setWriteFault(.none)
        emit(bus, 300, from: 15)
        await bus.flush()
        #expect(sink.statistics.lostEvents > 0, "more than the 8 KiB kept to retry")
        await bus.shutdown()
        let lost = sink.statistics.lostEvents
        let report = try Replay().run(ReplayInputs([directory.path]))
        #expect(report.summary.lostTailEvents > 0, "the closing record says what the files could not take")
        #expect(report.summary.missingEvents + report.summary.lostTailEvents == UInt64(lost))
        let written = report.summary.byKind["timing.recorded"] ?? 0
        #expect(written > 10, "the reserve took what was kept to retry: \(written)")
        #expect(report.input.issueCount == 0)
        let hidden = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".reserve") }
        #expect(hidden.isEmpty, "the reserve became the last file")
    }

    @Test func aBacklogWrittenAfterTheDiskFreesKeepsTheSizeLimit() async throws {
        let directory = TemporaryDirectory(prefix: "backlog")
        defer { directory.remove() }
        let fileSystem = FaultInjectingFileSystem()
        let clock = ManualWallClock(start: Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000))
        let maxFileBytes: Int64 = 16 << 10
        let sink = RotatingFileSink(configuration: .init(directory: directory.path, maxFileBytes: maxFileBytes, minRotationInterval: .seconds(5),
                                                         compression: nil, flushInterval: .zero, maxRetainedBytesOnFailure: 1 << 20),
                                    fileSystem: fileSystem)
        let bus = makeBus(sink, clock: clock)
        emit(bus, 20)
        await bus.flush()
        fileSystem.setWriteFault(.fail(errno: ENOSPC))
        emit(bus, 2_000, from: 20)  // about 400 KB, kept to retry
        await bus.flush()
        #expect(sink.statistics.isFailing && sink.statistics.lostEvents == 0)
        fileSystem.setWriteFault(.none)
        emit(bus, 1, from: 2_020)
        await bus.flush()
        #expect(!sink.statistics.isFailing)
        await bus.shutdown()
        let sizes = segments(in: directory.path).map { name in
            (name, ((try? FileManager.default.attributesOfItem(atPath: directory.path + "/" + name))?[.size] as? Int64) ?? 0)
        }
        #expect(sizes.count > 20, "\(sizes)")
        // The last file also takes the sink's reports of those rotations, written within the
        // minimum interval (the clock stands still here), so it may pass the limit by them.
        let oversized = sizes.dropLast().filter { $0.1 > maxFileBytes + 1_024 }
        #expect(oversized.isEmpty, "the backlog keeps the size limit: \(oversized) of \(sizes)")
        let report = try Replay().run(ReplayInputs([directory.path]))
        #expect(report.summary.missingEvents == 0 && report.summary.lostTailEvents == 0)
        #expect(report.summary.byKind["timing.recorded"] == 2_021)
    }
}
