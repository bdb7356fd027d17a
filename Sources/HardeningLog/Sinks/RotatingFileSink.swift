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

    private struct State {
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
    private struct Staging {
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
    private let fileSystem: any FileSystem
    private let encoder: JSONLineEncoder
    private let maintenance: SegmentMaintenance
    private let state: Locked<State>
    private let staging: Locked<Staging>
    private let queue: WriterQueue

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

    private func handOff(_ staging: inout Staging) {
        staging.lastHandOff = staging.context?.clock.now() ?? staging.lastHandOff
        guard !staging.buffer.isEmpty else { return }
        var lines = queue.reusableBuffer() ?? LineBuffer(reservingBytes: min(configuration.maxBufferBytes, 1 << 20) + 64 << 10)
        swap(&lines, &staging.buffer)
        queue.send(lines: lines)
    }

    // MARK: - The writer thread

    private func process(_ message: WriterQueue.Message, lines: inout LineBuffer) {
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
    private func take(_ lines: inout LineBuffer, into state: inout State) {
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

    private func tick(_ state: inout State, now: Timestamp) {
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
    private func execute(_ actions: [FileSinkStateMachine.Action], _ state: inout State, now: Timestamp, firstSeq: UInt64) -> Bool {
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

    private func closeFiles(_ state: inout State, now: Timestamp) {
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

    // MARK: - Writing

    /// The most bytes of whole lines handed to one `write` (or one gzip member): small enough
    /// that a file near a size limit still takes whole chunks before it rotates, large enough
    /// that gzip members compress well.
    private var maxChunkBytes: Int {
        if configuration.format == .gzipStream { return 1 << 20 }
        // A quarter of a small file, so that a backlog fills files to their limit, chunk by chunk.
        return min(64 << 10, max(4 << 10, Int(clamping: (configuration.maxFileBytes ?? .max) / 4)))
    }

    /// The most rotations one write makes past the minimum interval to keep a backlog within
    /// the size limit (a `maxFileBytes` far below the backlog makes larger files beyond them).
    private static let maxRotationsCatchingUp = 64

    private func writeBuffer(_ state: inout State, now: Timestamp) {
        guard let firstSeq = state.buffer.firstSeq else { return }
        if let refusal = state.refusal {
            fail(&state, now: now, error: refusal, errno: ELOOP)
            return
        }
        let before = state.machine.beforeWriting(isOpen: state.descriptor != nil, bufferedBytes: state.buffer.byteCount, now: now)
        guard execute(before, &state, now: now, firstSeq: firstSeq) else { return }
        var rotatedForSpace = false
        var chunksWritten = 0
        var rotationsCatchingUp = 0
        while !state.buffer.isEmpty {
            let chunk = state.buffer.prefix(maxBytes: maxChunkBytes)
            if chunksWritten > 0, let nextSeq = state.buffer.firstSeq {
                // More than one chunk: a backlog. Each chunk keeps the size limit.
                let catchingUp = configuration.layout == .segments && rotationsCatchingUp < Self.maxRotationsCatchingUp
                let next = state.machine.beforeWriting(isOpen: state.descriptor != nil, bufferedBytes: chunk.bytes, now: now,
                                                       catchingUp: catchingUp)
                if !next.isEmpty { rotationsCatchingUp += 1 }
                guard execute(next, &state, now: now, firstSeq: nextSeq) else { return }
            }
            state.output.removeAll(keepingCapacity: true)
            let bytes: [UInt8]
            if let compressor = state.compressor {
                state.buffer.bytes.withUnsafeBytes {
                    compressor.compressMember(UnsafeRawBufferPointer(rebasing: $0[0..<chunk.bytes]), into: &state.output)
                }
                bytes = state.output
            } else if chunk.bytes == state.buffer.byteCount {
                bytes = state.buffer.bytes
            } else {
                bytes = Array(state.buffer.bytes[0..<chunk.bytes])
            }
            if let error = append(&state, bytes) {
                fail(&state, now: now, error: error.description, errno: error.code)
                // A file at its size limit (RLIMIT_FSIZE, EFBIG): a new file is the remedy.
                if error.code == EFBIG, !rotatedForSpace, let nextSeq = state.buffer.firstSeq {
                    let remedy = state.machine.afterFileTooLarge(now: now)
                    if !remedy.isEmpty {
                        rotatedForSpace = true
                        if execute(remedy, &state, now: now, firstSeq: nextSeq) { continue }
                    }
                }
                return
            }
            state.machine.appended(lines: chunk.lines)
            state.writtenEvents += Int64(chunk.lines)
            state.lastWrittenSeq = chunk.lastSeq
            state.buffer.removeFirst(lines: chunk.lines)
            chunksWritten += 1
            rotatedForSpace = false  // progress was made: a further full file may rotate again
            if let recovered = state.failure.succeeded(at: now, sink: name) { state.context?.report(recovered) }
        }
    }

    /// Counts a failed write; keeps the buffer to retry, trimmed to the retention limit by
    /// dropping the newest whole lines.
    private func fail(_ state: inout State, now: Timestamp, error: String, errno: Int32) {
        state.failedWrites += 1
        if let payload = state.failure.failed(at: now, sink: name, error: error, errno: errno, events: state.buffer.count) {
            state.context?.report(payload)
        }
        let dropped = state.buffer.trim(toBytes: configuration.maxRetainedBytesOnFailure)
        state.failure.lost(events: dropped)
    }

    /// Appends bytes with one `write`. A short write is continued (POSIX allows them); if the
    /// rest fails, the file is cut back to where it was, so no partial line remains.
    private func append(_ state: inout State, _ bytes: [UInt8]) -> FileSystemError? {
        let path = state.activeFile ?? configuration.activePath
        guard let descriptor = state.descriptor else {
            return FileSystemError(code: EBADF, operation: "write", path: path)
        }
        var offset = 0
        var failure: FileSystemError?
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                do throws(FileSystemError) {
                    let written = try fileSystem.write(descriptor, UnsafeRawBufferPointer(rebasing: raw[offset...]), path: path)
                    guard written > 0 else {
                        failure = FileSystemError(code: ENOSPC, operation: "write (no progress)", path: path)
                        return
                    }
                    offset += written
                } catch {
                    failure = error
                    return
                }
            }
        }
        guard let failure else {
            state.machine.appended(bytes: bytes.count)
            return nil
        }
        // The write may have appended part of the bytes: cut back to the last whole line.
        try? fileSystem.truncate(descriptor, to: state.machine.activeSize, path: path)
        if failure.code == EBADF || failure.code == EIO || failure.code == ESTALE {
            fileSystem.close(descriptor)
            state.descriptor = nil
        }
        return failure
    }

    // MARK: - Files

    private func openActive(_ state: inout State, now: Timestamp, firstSeq: UInt64) {
        do throws(FileSystemError) {
            let (descriptor, path) = try createActiveFile(&state, now: now)
            try adopt(descriptor, path: path, &state, now: now, firstSeq: firstSeq)
        } catch {
            if let descriptor = state.descriptor { fileSystem.close(descriptor) }
            state.descriptor = nil
            if error.code == ELOOP { state.refusal = error.description }
            fail(&state, now: now, error: error.description, errno: error.code)
        }
    }

    /// Opens the file to write next: the fixed active file (rename layout) or a new segment.
    private func createActiveFile(_ state: inout State, now: Timestamp) throws(FileSystemError) -> (descriptor: Int32, path: String) {
        try fileSystem.makeDirectory(configuration.directory, mode: configuration.directoryMode)
        switch configuration.layout {
        case .rename:
            let path = configuration.activePath
            if let existing = try fileSystem.info(path), existing.isSymbolicLink {
                throw FileSystemError(code: ELOOP, operation: "open (refusing to follow a symlink)", path: path)
            }
            return (try fileSystem.open(path, flags: O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, mode: configuration.fileMode), path)
        case .segments:
            // A name that is new, so a tailer that saw the previous file sees a new one.
            let segment = newSegment(&state, now: now)
            let path = configuration.directory + "/" + segment.name
            // Named before it exists, so retention never takes it for a closed segment.
            maintenance.setActiveSegment(segment.name)
            return (try fileSystem.open(path, flags: O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW, mode: configuration.fileMode), path)
        }
    }

    /// Makes an opened file the active one and writes its header.
    private func adopt(_ descriptor: Int32, path: String, _ state: inout State, now: Timestamp, firstSeq: UInt64) throws(FileSystemError) {
        try? fileSystem.changeMode(descriptor, configuration.fileMode, path: path)
        state.descriptor = descriptor
        state.activeFile = path
        state.machine.opened(size: try fileSystem.info(path)?.size ?? 0, at: now)
        if configuration.fsync != .never { try? fileSystem.syncDirectory(configuration.directory) }
        writeHeader(&state, now: now, firstSeq: firstSeq)
        if configuration.layout == .segments {
            if state.machine.activeLines == 1 { pointStableName(&state, at: Self.fileName(path)) }
            maintenance.submit(.retention)
        }
    }

    /// Rotation in the `segments` layout: the next segment is created before the current one is
    /// closed. A directory that cannot take a new file (its inodes or the quota used up) keeps
    /// the current file open past its limit, rather than losing every event until it can: the
    /// problem is reported once, and the rotation is tried again at the next write.
    private func rotateIntoNewSegment(_ state: inout State, now: Timestamp, reason: FileSinkStateMachine.RotationReason, firstSeq: UInt64) {
        let current = state.activeFile.map(Self.fileName)
        let next: (descriptor: Int32, path: String)
        do throws(FileSystemError) {
            next = try createActiveFile(&state, now: now)
        } catch {
            if let current { maintenance.setActiveSegment(current) }
            if !state.rotationDeferred {
                state.rotationDeferred = true
                let into = current ?? "the current file"
                state.context?.report(SinkFailed(sink: name, error: "no new file can be made (\(error)); events go on into \(into) past its size limit",
                                                 errno: Int64(error.code), failedEvents: 0))
            }
            return
        }
        state.rotationDeferred = false
        rotate(&state, now: now, reason: reason)
        do throws(FileSystemError) {
            try adopt(next.descriptor, path: next.path, &state, now: now, firstSeq: firstSeq)
        } catch {
            fileSystem.close(next.descriptor)
            state.descriptor = nil
            fail(&state, now: now, error: error.description, errno: error.code)
        }
    }

    /// Points the stable name (`events.jsonl`) at `segment`: a new link under a temporary name,
    /// renamed over the old one, so that the name always resolves. It is a convenience for
    /// `tail -F` and people; if it cannot be made, events are still written (and the problem is
    /// reported once).
    private func pointStableName(_ state: inout State, at segment: String) {
        let temporary = configuration.activePath + ".link.tmp"
        do throws(FileSystemError) {
            try fileSystem.remove(temporary)
            try fileSystem.makeSymbolicLink(segment, at: temporary)
            try fileSystem.rename(temporary, to: configuration.activePath)
        } catch {
            try? fileSystem.remove(temporary)
            guard !state.linkProblemReported else { return }
            state.linkProblemReported = true
            state.context?.report(SinkFailed(sink: name, error: "events are written, but \(configuration.activePath) cannot point at "
                                                 + "\(segment): \(error)", errno: Int64(error.code), failedEvents: 0))
        }
    }

    private static func fileName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    private func writeHeader(_ state: inout State, now: Timestamp, firstSeq: UInt64) {
        guard let context = state.context else { return }
        var random = SystemRandomNumberGenerator()
        let payload = FileOpened(fileID: RunID.hex(random.next()), firstSeq: Int64(firstSeq),
                                 path: configuration.layout == .segments ? Self.fileName(state.activeFile ?? "") : configuration.activeName,
                                 format: configuration.format == .gzipStream ? "jsonl.gz" : "jsonl",
                                 layout: configuration.layout.rawValue,
                                 minLevel: configuration.minimumLevel > .trace ? configuration.minimumLevel.name : nil)
        let header = Event(timestamp: now, level: .info, kind: FileOpened.kind, message: payload.message,
                           service: context.service, host: context.host, run: context.run, seq: 0,
                           attrs: payload.attributes)
        if let error = appendRecord(header, &state) {
            fail(&state, now: now, error: error.description, errno: error.code)
        } else {
            state.machine.appended(lines: 1)
        }
    }

    // MARK: - The closing record and its reserve

    /// A hidden file of ``reserveBytes`` kept while the sink runs; removed at shutdown to make
    /// room for the closing record when the disk is full.
    private var reservePath: String { configuration.directory + "/." + configuration.baseName + ".reserve" }
    /// The directory's lock file (``DirectoryLock``).
    private var lockPath: String { DirectoryLock.path(directory: configuration.directory, baseName: configuration.baseName) }
    private static let reserveBytes = 64 << 10

    private func makeReserve() {
        guard let descriptor = try? fileSystem.open(reservePath, flags: O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: configuration.fileMode)
        else { return }
        defer { fileSystem.close(descriptor) }
        let zeros = [UInt8](repeating: 0, count: Self.reserveBytes)
        _ = zeros.withUnsafeBytes { try? fileSystem.write(descriptor, $0, path: reservePath) }
    }

    /// The last line of the run's last file (`file.closed`, seq 0): the highest `seq` written and
    /// received and the events lost, so that `replay` sees a lost tail. On a full disk the reserve
    /// is given up to make room for it.
    private func writeClosingRecord(_ state: inout State, now: Timestamp) {
        guard let context = state.context, state.lastReceivedSeq > 0, state.refusal == nil else { return }
        if state.descriptor == nil {
            openActive(&state, now: now, firstSeq: state.lastReceivedSeq + 1)
            if state.descriptor == nil { adoptReserve(&state, now: now, firstSeq: state.lastReceivedSeq + 1) }
            guard state.descriptor != nil else { return }
        }
        let payload = FileClosed(lastSeqWritten: Int64(state.lastWrittenSeq), lastSeqReceived: Int64(state.lastReceivedSeq),
                                 lostEvents: state.failure.totalLost, reason: "shutdown")
        let record = Event(timestamp: now, level: payload.lostEvents > 0 ? .error : .info, kind: FileClosed.kind, message: payload.message,
                           service: context.service, host: context.host, run: context.run, seq: 0, attrs: payload.attributes)
        if appendRecord(record, &state) != nil {
            try? fileSystem.remove(reservePath)
            if state.descriptor != nil { _ = appendRecord(record, &state) }
        }
    }

    /// The closing record's last resort when no file can be created (the inodes used up): the
    /// reserve becomes the next file by a rename (which takes no inode), emptied of its zeros.
    private func adoptReserve(_ state: inout State, now: Timestamp, firstSeq: UInt64) {
        let path: String
        switch configuration.layout {
        case .rename:
            guard ((try? fileSystem.info(configuration.activePath)) ?? nil) == nil else { return }
            path = configuration.activePath
        case .segments:
            let segment = newSegment(&state, now: now)
            path = configuration.directory + "/" + segment.name
            maintenance.setActiveSegment(segment.name)
        }
        do throws(FileSystemError) {
            try fileSystem.rename(reservePath, to: path)
            let descriptor = try fileSystem.open(path, flags: O_WRONLY | O_APPEND | O_NOFOLLOW, mode: configuration.fileMode)
            do throws(FileSystemError) {
                try fileSystem.truncate(descriptor, to: 0, path: path)
            } catch {
                fileSystem.close(descriptor)
                throw error
            }
            try adopt(descriptor, path: path, &state, now: now, firstSeq: firstSeq)
        } catch {
            if let descriptor = state.descriptor { fileSystem.close(descriptor) }
            state.descriptor = nil
            // Zeros under a log file's name would read as damage: back to the hidden name.
            if ((try? fileSystem.info(path)) ?? nil)?.size == Int64(Self.reserveBytes) { try? fileSystem.rename(path, to: reservePath) }
        }
    }

    /// Appends one line the sink writes itself (a header or a closing record), as one gzip
    /// member in gzip-stream files.
    private func appendRecord(_ record: Event, _ state: inout State) -> FileSystemError? {
        var line: [UInt8] = []
        encoder.append(record, to: &line)
        guard let compressor = state.compressor else { return append(&state, line) }
        var member: [UInt8] = []
        compressor.compressMember(line, into: &member)
        return append(&state, member)
    }

    /// Closes the file being written: it becomes a closed segment, compressed after the delay.
    /// In the `rename` layout (and for a leftover active file of that layout found at start-up)
    /// the fixed active file is first renamed to a new segment name.
    private func rotate(_ state: inout State, now: Timestamp, reason: FileSinkStateMachine.RotationReason, renamingActiveFile: Bool? = nil) {
        let current = state.activeFile ?? configuration.activePath
        if let descriptor = state.descriptor {
            if configuration.fsync != .never { try? fileSystem.sync(descriptor, path: current) }
            fileSystem.close(descriptor)
            state.descriptor = nil
        }
        let size = (try? fileSystem.info(current))??.size ?? state.machine.activeSize
        let segmentPath: String
        if renamingActiveFile ?? (configuration.layout == .rename) {
            segmentPath = configuration.directory + "/" + newSegment(&state, now: now).name
            do throws(FileSystemError) {
                try fileSystem.rename(current, to: segmentPath)
            } catch {
                fail(&state, now: now, error: error.description, errno: error.code)
                return
            }
            if configuration.fsync != .never { try? fileSystem.syncDirectory(configuration.directory) }
        } else {
            segmentPath = current
        }
        state.activeFile = nil
        state.rotations += 1
        state.context?.report(FileRotated(segment: Self.fileName(segmentPath), reason: reason.rawValue, bytes: size,
                                          lines: state.machine.activeLines))
        execute(state.machine.rotated(into: segmentPath, at: now), &state, now: now, firstSeq: 0)
    }

    /// A segment name never used in the directory: free (plain and compressed), and after every
    /// segment this sink created or found at start-up, so that names are never reused (a tailer
    /// remembers offsets by name) and sort in creation order even if the clock steps back.
    private func newSegment(_ state: inout State, now: Timestamp) -> SegmentName {
        var time = now.compactDescription
        var counter = 1
        if let newest = state.newestSegment, newest.time >= time {
            time = newest.time
            counter = newest.counter + 1
        }
        while true {
            let candidate = SegmentName(baseName: configuration.baseName, layout: configuration.layout, compactTime: time, counter: counter,
                                        compressed: configuration.format == .gzipStream)
            let path = configuration.directory + "/" + candidate.name
            let taken = ((try? fileSystem.info(path)) ?? nil) != nil || ((try? fileSystem.info(path + ".gz")) ?? nil) != nil
            if !taken {
                state.newestSegment = candidate
                return candidate
            }
            counter += 1
        }
    }

    // MARK: - Start-up recovery

    private func recoverAtStartup(_ state: inout State, now: Timestamp) {
        let directory = configuration.directory
        do throws(FileSystemError) {
            try fileSystem.makeDirectory(directory, mode: configuration.directoryMode)
        } catch {
            fail(&state, now: now, error: error.description, errno: error.code)
            return
        }
        // One writer a directory: a second is refused before it touches a file (its recovery and
        // retention would rename and delete the first's segments).
        switch DirectoryLock.acquire(lockPath, mode: configuration.fileMode, fileSystem: fileSystem) {
        case .acquired(let descriptor):
            state.lockDescriptor = descriptor
        case .heldBy(let holder):
            state.refusal = DirectoryLock.refusal(directory: directory, holder: holder)
            if let payload = state.failure.failed(at: now, sink: name, error: state.refusal!, errno: EWOULDBLOCK, events: 0) {
                state.context?.report(payload)
            }
            return
        case .unavailable:
            break
        }
        var names = (try? fileSystem.contentsOfDirectory(directory)) ?? []
        for name in names where name.hasPrefix(configuration.baseName) && name.hasSuffix(".tmp") {
            try? fileSystem.remove(directory + "/" + name)
        }
        state.newestSegment = names.compactMap { SegmentName($0, baseName: configuration.baseName) }
            .filter { $0.layout == configuration.layout }.max()
        if let active = (try? fileSystem.info(configuration.activePath)) ?? nil {
            if active.isSymbolicLink {
                // The segments layout's own link is replaced when the first file opens; in the
                // rename layout a link at the active name is refused, never followed.
                if configuration.layout == .rename {
                    state.refusal = FileSystemError(code: ELOOP, operation: "open (refusing to follow a symlink)",
                                                    path: configuration.activePath).description
                    if let payload = state.failure.failed(at: now, sink: name, error: state.refusal!, errno: ELOOP, events: 0) {
                        state.context?.report(payload)
                    }
                }
            } else if active.isRegularFile, active.size > 0 {
                // The active file of a crashed run (or of the rename layout before an upgrade).
                rotate(&state, now: now, reason: .startup, renamingActiveFile: true)
                names = (try? fileSystem.contentsOfDirectory(directory)) ?? names
            } else if active.isRegularFile {
                try? fileSystem.remove(configuration.activePath)
            }
        }
        for name in names {
            guard let segment = SegmentName(name, baseName: configuration.baseName) else { continue }
            let path = directory + "/" + name
            guard let info = (try? fileSystem.info(path)) ?? nil, info.isRegularFile else { continue }
            if info.size == 0 {
                // Created by a run that died before its header was written: nothing to keep.
                try? fileSystem.remove(path)
                continue
            }
            if !segment.isCompressed { state.machine.found(closedSegment: path, modified: info.modified) }
        }
        execute(state.machine.dueCompressions(now: now) + [.applyRetention], &state, now: now, firstSeq: 0)
        makeReserve()
    }
}
