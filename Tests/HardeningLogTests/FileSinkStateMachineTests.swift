import Hardening
import HardeningLog
import Testing

/// The file sink's decisions as plain values: no file, no clock, no thread.
@Suite struct FileSinkStateMachineTests {
    typealias Machine = FileSinkStateMachine

    static func at(_ seconds: Int64) -> Timestamp { Timestamp(microsecondsSinceEpoch: 1_800_000_000_000_000 + seconds * 1_000_000) }

    /// A machine with an open file of `lines` lines (header included) and `size` bytes.
    static func open(_ policy: Machine.Policy, lines: Int = 10, size: Int = 0, at time: Timestamp = at(0)) -> Machine {
        var machine = Machine(policy: policy)
        machine.opened(size: 0, at: time)
        machine.appended(bytes: size, lines: lines)
        return machine
    }

    @Test func theFirstWriteOpensAFileAndAFileWithRoomTakesTheWrite() {
        let machine = Machine(policy: .init(maxFileBytes: 1000))
        #expect(machine.beforeWriting(isOpen: false, bufferedBytes: 10, now: Self.at(0)) == [.open])
        let open = Self.open(.init(maxFileBytes: 1000), size: 500)
        #expect(open.beforeWriting(isOpen: true, bufferedBytes: 500, now: Self.at(0)) == [], "exactly at the limit: no rotation")
        #expect(open.beforeWriting(isOpen: true, bufferedBytes: 501, now: Self.at(0)) == [.rotate(.size), .open])
    }

    @Test func aFileHoldingOnlyItsHeaderNeverRotatesHoweverBigTheWrite() {
        let headerOnly = Self.open(.init(maxFileBytes: 100), lines: 1, size: 90)
        #expect(headerOnly.beforeWriting(isOpen: true, bufferedBytes: 1 << 20, now: Self.at(0)) == [])
        #expect(headerOnly.afterFileTooLarge(now: Self.at(0)) == [], "EFBIG on a header-only file: a new file would not help")
    }

    @Test func gzipStreamFilesRotateOnWhatWasWrittenNotOnWhatIsBuffered() {
        let policy = Machine.Policy(maxFileBytes: 1000, countsBufferedBytes: false)
        #expect(Self.open(policy, size: 999).beforeWriting(isOpen: true, bufferedBytes: 1 << 20, now: Self.at(0)) == [])
        #expect(Self.open(policy, size: 1000).beforeWriting(isOpen: true, bufferedBytes: 1, now: Self.at(0)) == [.rotate(.size), .open])
    }

    @Test func rotationsAreAtLeastTheMinimumIntervalApartUnlessTheClockSteppedBack() {
        var machine = Self.open(.init(maxFileBytes: 100, minRotationInterval: .seconds(5)), size: 100)
        _ = machine.rotated(into: "/logs/a", at: Self.at(10))
        machine.opened(size: 0, at: Self.at(10))
        machine.appended(bytes: 100, lines: 5)
        #expect(machine.beforeWriting(isOpen: true, bufferedBytes: 1, now: Self.at(14)) == [], "4 s after the last rotation")
        #expect(machine.afterFileTooLarge(now: Self.at(14)) == [])
        #expect(machine.beforeWriting(isOpen: true, bufferedBytes: 1, now: Self.at(15)) == [.rotate(.size), .open])
        #expect(machine.beforeWriting(isOpen: true, bufferedBytes: 1, now: Self.at(3)) == [.rotate(.size), .open], "the clock stepped back")
    }

    @Test func anOldFileRotatesByAgeAtATickWithMoreThanItsHeader() {
        let policy = Machine.Policy(maxFileAge: .seconds(60))
        var young = Self.open(policy, at: Self.at(0))
        #expect(young.onTick(isOpen: true, now: Self.at(59)) == [])
        #expect(young.onTick(isOpen: true, now: Self.at(60)) == [.rotate(.age), .open])
        var headerOnly = Self.open(policy, lines: 1, at: Self.at(0))
        #expect(headerOnly.onTick(isOpen: true, now: Self.at(600)) == [])
        var closed = Self.open(policy, at: Self.at(0))
        #expect(closed.onTick(isOpen: false, now: Self.at(600)) == [], "no file open: nothing to rotate")
    }

    @Test func aFileSizeLimitIsRemediedByANewFile() {
        let machine = Self.open(.init(), lines: 3)
        #expect(machine.afterFileTooLarge(now: Self.at(0)) == [.rotate(.size), .open])
    }

    @Test func aClosedSegmentIsCompressedOnlyAfterTheDelayThenRetentionRuns() {
        var machine = Self.open(.init(compressionDelay: .seconds(60)))
        #expect(machine.rotated(into: "/logs/a", at: Self.at(0)) == [.applyRetention])
        #expect(machine.activeLines == 0 && machine.scheduled.map(\.path) == ["/logs/a"])
        #expect(machine.onTick(isOpen: false, now: Self.at(59)) == [])
        #expect(machine.onTick(isOpen: false, now: Self.at(60)) == [.compress(path: "/logs/a"), .applyRetention])
        #expect(machine.onTick(isOpen: false, now: Self.at(120)) == [], "handed over once")
        // A zero delay compresses at the rotation itself.
        var immediate = Self.open(.init(compressionDelay: .zero))
        #expect(immediate.rotated(into: "/logs/b", at: Self.at(0)) == [.compress(path: "/logs/b"), .applyRetention, .applyRetention])
    }

    @Test func withoutCompressionNothingIsScheduled() {
        var machine = Self.open(.init(compressionDelay: nil))
        #expect(machine.rotated(into: "/logs/a", at: Self.at(0)) == [.applyRetention])
        machine.found(closedSegment: "/logs/old", modified: Self.at(-3600))
        #expect(machine.scheduled.isEmpty)
    }

    @Test func segmentsFoundAtStartUpAreDueAfterTheDelaySinceTheirLastChangeAndScheduledOnce() {
        var machine = Machine(policy: .init(compressionDelay: .seconds(60)))
        machine.found(closedSegment: "/logs/old", modified: Self.at(-3600))
        machine.found(closedSegment: "/logs/recent", modified: Self.at(-10))
        machine.found(closedSegment: "/logs/old", modified: Self.at(-3600))
        #expect(machine.scheduled.count == 2)
        #expect(machine.dueCompressions(now: Self.at(0)) == [.compress(path: "/logs/old"), .applyRetention])
        #expect(machine.dueCompressions(now: Self.at(50)) == [.compress(path: "/logs/recent"), .applyRetention])
    }

    @Test func thePolicyFollowsTheConfiguration() {
        var plain = RotatingFileSink.Configuration(directory: "/logs")
        plain.maxFileBytes = 5000
        plain.compression = .init(level: 6, delay: .seconds(30))
        let policy = Machine.Policy(plain)
        #expect(policy.maxFileBytes == 5000 && policy.countsBufferedBytes && policy.compressionDelay == .seconds(30))
        var stream = plain
        stream.format = .gzipStream
        #expect(Machine.Policy(stream).compressionDelay == nil && !Machine.Policy(stream).countsBufferedBytes)
    }
}
