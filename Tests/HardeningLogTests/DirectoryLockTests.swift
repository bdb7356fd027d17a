import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Testing

/// A log directory has one writer: a second file sink on it is refused, touches none of the
/// first's files, counts what it was given as lost and says why; once the first is done, the
/// directory is free again.
@Suite struct DirectoryLockTests {
    @Test func aSecondWriterIsRefusedAndTouchesNothing() async throws {
        let directory = TemporaryDirectory(prefix: "one-writer")
        defer { directory.remove() }
        let configuration = RotatingFileSink.Configuration(directory: directory.path, maxFileBytes: 2_048, minRotationInterval: .zero,
                                                           compression: .init(delay: .zero), retention: .init(maxFiles: 1))
        let first = RotatingFileSink(configuration: configuration)
        let firstBus = EventBus(configuration: .init(service: "first", volume: .full), sinks: [first])
        for index in 0..<200 { firstBus.emit(.info, "test.first", message: "first \(index)") }
        await firstBus.flush()
        first.waitForBackgroundWork()
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))

        let second = RotatingFileSink(configuration: configuration)
        let reports = InMemorySink()
        let secondBus = EventBus(configuration: .init(service: "second", volume: .full), sinks: [second, reports])
        for index in 0..<50 { secondBus.emit(.info, "test.second", message: "second \(index)") }
        await secondBus.shutdown()
        #expect(second.statistics.lostEvents >= 50 && second.statistics.writtenEvents == 0, "\(second.statistics)")
        let failure = try #require(reports.events.first { $0.kind == .sinkFailed })
        #expect(failure.message.contains("is written by another process (pid \(getpid()))"), "\(failure.message)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: directory.path)) == before, "the second writer touched nothing")

        await firstBus.shutdown()
        first.waitForBackgroundWork()
        let third = RotatingFileSink(configuration: configuration)
        let thirdBus = EventBus(configuration: .init(service: "third", volume: .full), sinks: [third])
        thirdBus.emit(.info, "test.third", message: "third")
        await thirdBus.shutdown()
        #expect(third.statistics.writtenEvents == 1 && third.statistics.lostEvents == 0, "free once the first is done")
    }
}
