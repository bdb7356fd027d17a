#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Hardening

/// Writes events as JSON lines to rotating files (docs/design.md, "Files on disk").
///
/// - In the ``Layout/segments`` layout (the default) every file is created under its final,
///   sortable name, `events-<UTC time>-<nnnn>.jsonl` (`O_CREAT | O_EXCL | O_NOFOLLOW`), and never
///   renamed while plain; `events.jsonl` is a symbolic link to the file being written, replaced
///   atomically at each rotation. A tailer following `events-*.jsonl` cannot miss a file.
/// - In the ``Layout/rename`` layout the active name is fixed (`events.jsonl`), plain, never a
///   symlink (opened with `O_NOFOLLOW`); rotation is rename + create, to
///   `events.jsonl.<UTC time>-<n>`.
/// - Closed plain segments are compressed late (after ``Compression/delay``), on a background
///   thread, into a temporary name that is fsynced and renamed to `<segment>.gz` before the plain
///   file is removed.
/// - Every file starts with a `file.opened` header (seq 0). Each flush is one `write` of whole
///   lines on an `O_APPEND` descriptor; a short or failed write is cut back with `ftruncate`, so
///   no partial line stays on disk.
/// - In ``FileFormat/gzipStream`` the files are gzip from the start, one member per flush.
/// - Start-up finishes what a crash left: it removes temporaries and empty segments, closes a
///   leftover active file (renaming it in the `rename` layout, or an old-layout `events.jsonl`)
///   and schedules leftover plain segments for compression.
///
/// Failures (disk full, permission denied, a file size limit) never reach the application: the
/// sink reports `sink.failed`, keeps up to ``Configuration/maxRetainedBytesOnFailure`` bytes to
/// retry, counts what it drops, and reports `sink.recovered` once writes succeed.
public final class RotatingFileSink: EventSink {
    /// Counters of what the sink has done.
    public struct Statistics: Sendable, Hashable {
        /// Events written to disk.
        public var writtenEvents: Int64
        /// Events that could not be written and were dropped.
        public var lostEvents: Int64
        /// Rotations done.
        public var rotations: Int64
        /// Writes that failed.
        public var failedWrites: Int64
        /// Whether the last write failed.
        public var isFailing: Bool
        /// The last failure (operation, path and the system's reason), if any write ever failed.
        public var lastError: String?
    }

    struct State {
        var context: SinkContext?
        var descriptor: Int32?
        /// The path the descriptor writes (the segment's, or the fixed active path).
        var activeFile: String?
        /// When to open, rotate, compress and apply retention: the decisions, apart from the calls.
        var machine: FileSinkStateMachine
        var buffer = LineBuffer(reservingBytes: 0)
        var lastWrittenSeq: UInt64 = 0
        /// The highest `seq` handed to the sink, written or lost (for the closing record).
        var lastReceivedSeq: UInt64 = 0
        var output: [UInt8] = []
        var compressor: GzipCompressor?
        var failure = SinkFailureTracker()
        var refusal: String?
        /// The descriptor holding the directory's lock (``DirectoryLock``) while the sink runs.
        var lockDescriptor: Int32?
        var linkProblemReported = false
        /// A rotation waits for the directory to take a new file (reported once a wait).
        var rotationDeferred = false
        /// The newest segment name created or found (new names sort after it).
        var newestSegment: SegmentName?
        var writtenEvents: Int64 = 0
        var rotations: Int64 = 0
        var failedWrites: Int64 = 0
    }

    /// What the drain thread has encoded but not yet handed to the writer thread.
    struct Staging {
        var buffer: LineBuffer
        var lastHandOff = Timestamp(microsecondsSinceEpoch: 0)
        var context: SinkContext?
    }

    /// The configuration.
    public let configuration: Configuration
    public let name: String
    public var minimumLevel: EventLevel { configuration.minimumLevel }
    /// The record: never given up for being slow.
    public var isDurable: Bool { true }
    let fileSystem: any FileSystem
    let encoder: JSONLineEncoder
    let maintenance: SegmentMaintenance
    let state: Locked<State>
    let staging: Locked<Staging>
    let queue: WriterQueue

    /// Creates the sink. Nothing touches the disk until the bus starts it.
    public init(configuration: Configuration, fileSystem: any FileSystem = PosixFileSystem()) {
        self.configuration = configuration
        self.fileSystem = fileSystem
        self.name = configuration.sinkName
        self.encoder = JSONLineEncoder(maxLineBytes: configuration.maxLineBytes)
        self.maintenance = SegmentMaintenance(configuration: configuration, fileSystem: fileSystem)
        var initial = State(machine: FileSinkStateMachine(policy: .init(configuration)))
        if configuration.format == .gzipStream {
            initial.compressor = try? GzipCompressor(level: configuration.streamCompressionLevel)
        }
        self.state = Locked(initial)
        self.staging = Locked(Staging(buffer: LineBuffer(reservingBytes: min(configuration.maxBufferBytes, 1 << 20) + 64 << 10)))
        self.queue = WriterQueue(maxPendingBytes: max(2 << 20, configuration.maxBufferBytes * 2))
    }

    /// What the sink has done so far.
    public var statistics: Statistics {
        state.withLock {
            Statistics(writtenEvents: $0.writtenEvents, lostEvents: $0.failure.totalLost, rotations: $0.rotations,
                       failedWrites: $0.failedWrites, isFailing: $0.failure.isFailing, lastError: $0.failure.lastError)
        }
    }

    /// Blocks until background compression and retention have caught up (for tests and tools).
    public func waitForBackgroundWork() {
        maintenance.waitUntilIdle()
    }

    // MARK: - EventSink (called on the bus's drain thread)
    //
    // The drain thread only encodes; a writer thread owned by the sink does every file operation
    // (and, in gzip-stream mode, the compression), so encoding and compressing run on different
    // cores and never wait on each other, and the drain never blocks on the disk unless the
    // writer falls more than `maxPendingBytes` behind.

    public func start(context: SinkContext) {
        maintenance.start(context: context)
        let now = context.clock.now()
        state.withLock { state in
            state.context = context
            recoverAtStartup(&state, now: now)
        }
        staging.withLock {
            $0.context = context
            $0.lastHandOff = now
        }
        queue.start { [self] message, lines in self.process(message, lines: &lines) }
    }

    public func write(_ events: [Event]) {
        staging.withLock { staging in
            events.withUnsafeBufferPointer { events in
                for index in 0..<events.count { staging.buffer.append(events[index], encoder: encoder) }
            }
            if configuration.flushInterval <= .zero || staging.buffer.byteCount >= configuration.maxBufferBytes {
                handOff(&staging)
            }
        }
    }

    public func flush() {
        staging.withLock { handOff(&$0) }
        queue.sendAndWait(.flush)
    }

    public func tick(now: Timestamp) {
        staging.withLock { staging in
            if !staging.buffer.isEmpty, now.duration(since: staging.lastHandOff) >= configuration.flushInterval {
                handOff(&staging)
            }
        }
        queue.sendTick(now)
    }

    public func close() {
        staging.withLock { handOff(&$0) }
        queue.sendAndWait(.close)
        queue.stop()
        maintenance.stop()
        // The directory is free for the next writer once every file of this one is done.
        state.withLock { state in
            guard let descriptor = state.lockDescriptor else { return }
            DirectoryLock.release(descriptor, path: lockPath, fileSystem: fileSystem)
            state.lockDescriptor = nil
        }
    }

    func handOff(_ staging: inout Staging) {
        staging.lastHandOff = staging.context?.clock.now() ?? staging.lastHandOff
        guard !staging.buffer.isEmpty else { return }
        var lines = queue.reusableBuffer() ?? LineBuffer(reservingBytes: min(configuration.maxBufferBytes, 1 << 20) + 64 << 10)
        swap(&lines, &staging.buffer)
        queue.send(lines: lines)
    }

    // MARK: - The writer thread

    func process(_ message: WriterQueue.Message, lines: inout LineBuffer) {
        state.withLock { state in
            let now = state.context?.clock.now() ?? SystemWallClock().now()
            switch message {
            case .lines:
                take(&lines, into: &state)
                writeBuffer(&state, now: now)
            case .tick(let tickTime):
                tick(&state, now: tickTime)
            case .flush:
                writeBuffer(&state, now: now)
                if configuration.fsync == .everyFlush, let descriptor = state.descriptor {
                    try? fileSystem.sync(descriptor, path: state.activeFile ?? configuration.activePath)
                }
            case .close:
                closeFiles(&state, now: now)
            }
        }
    }

    /// Adds handed-off lines to the writer's buffer. While writes fail, the oldest lines are kept
    /// up to the retention limit and newer ones are counted as lost.
    func take(_ lines: inout LineBuffer, into state: inout State) {
        if let last = lines.lastSeq { state.lastReceivedSeq = max(state.lastReceivedSeq, last) }
        if state.buffer.isEmpty {
            // Swap, so both buffers stay uniquely owned; the emptied one goes back for reuse.
            swap(&state.buffer, &lines)
        } else {
            state.buffer.append(contentsOf: lines)
        }
        if state.failure.isFailing {
            state.failure.lost(events: state.buffer.trim(toBytes: configuration.maxRetainedBytesOnFailure))
        }
    }

    func tick(_ state: inout State, now: Timestamp) {
        if !state.buffer.isEmpty, state.failure.isFailing {
            writeBuffer(&state, now: now)
        }
        // Refused: nothing in the directory is this sink's to rotate, compress or delete.
        guard state.refusal == nil else { return }
        let actions = state.machine.onTick(isOpen: state.descriptor != nil, now: now)
        execute(actions, &state, now: now, firstSeq: state.lastWrittenSeq + 1)
    }

    /// Carries out the state machine's actions in order; returns `false` (and drops the rest) if
    /// a file could not be opened.
    @discardableResult
    func execute(_ actions: [FileSinkStateMachine.Action], _ state: inout State, now: Timestamp, firstSeq: UInt64) -> Bool {
        var index = actions.startIndex
        while index < actions.endIndex {
            let action = actions[index]
            index += 1
            switch action {
            case .open:
                openActive(&state, now: now, firstSeq: firstSeq)
                if state.descriptor == nil { return false }
            case .rotate(let reason) where configuration.layout == .segments && state.descriptor != nil
                && index < actions.endIndex && actions[index] == .open:
                // The next segment first: if the directory cannot take a new file, the current
                // one stays open and takes the events.
                index += 1
                rotateIntoNewSegment(&state, now: now, reason: reason, firstSeq: firstSeq)
            case .rotate(let reason):
                rotate(&state, now: now, reason: reason)
            case .compress(let path):
                maintenance.submit(.compress(path: path))
            case .applyRetention:
                maintenance.submit(.retention)
            }
        }
        return true
    }

    func closeFiles(_ state: inout State, now: Timestamp) {
        writeBuffer(&state, now: now)
        if let firstSeq = state.buffer.firstSeq, state.descriptor == nil, state.refusal == nil {
            // No file could be opened (the inodes used up): the reserve takes what it can.
            adoptReserve(&state, now: now, firstSeq: firstSeq)
            if state.descriptor != nil { writeBuffer(&state, now: now) }
        }
        if !state.buffer.isEmpty {
            // Still failing at shutdown: what could not be written is lost, and counted.
            state.failure.lost(events: state.buffer.count)
            state.buffer.removeAll()
        }
        writeClosingRecord(&state, now: now)
        guard state.refusal == nil || state.lockDescriptor != nil else { return }
        try? fileSystem.remove(reservePath)
        if let descriptor = state.descriptor {
            if configuration.fsync != .never { try? fileSystem.sync(descriptor, path: state.activeFile ?? configuration.activePath) }
            fileSystem.close(descriptor)
            state.descriptor = nil
        }
        execute(state.machine.dueCompressions(now: now), &state, now: now, firstSeq: 0)
    }
}
