#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import DequeModule
import Hardening

/// The file sink's background thread: compresses rotated segments (late, atomically) and
/// enforces retention, off the drain thread so that the hot path never waits on zlib.
final class SegmentMaintenance: Sendable {
    enum Job: Sendable, Equatable {
        case compress(path: String)
        case retention
    }

    private struct State {
        var jobs: Deque<Job> = []
        var busy = false
        var stopping = false
        var thread: OSThread?
        var context: SinkContext?
        /// The segment being written (never deleted by retention).
        var activeSegment: String?
        /// Compressions that failed, by path: when to try again and the wait after that.
        var retries: [String: (due: ContinuousClock.Instant, nextDelay: Duration)] = [:]
    }

    /// The longest wait between two tries of a failed compression.
    static let longestRetryDelay: Duration = .seconds(600)

    private let configuration: RotatingFileSink.Configuration
    private let fileSystem: any FileSystem
    private let state: ConditionLock<State>

    init(configuration: RotatingFileSink.Configuration, fileSystem: any FileSystem) {
        self.configuration = configuration
        self.fileSystem = fileSystem
        self.state = ConditionLock(State())
    }

    func start(context: SinkContext) {
        let thread = OSThread(name: "hardening-gzip") { [self] in self.loop() }
        state.withLock {
            $0.context = context
            $0.thread = thread
        }
    }

    /// Names the segment being written, which retention must keep.
    func setActiveSegment(_ name: String?) {
        state.withLock { $0.activeSegment = name }
    }

    func submit(_ job: Job) {
        state.withLock { state in
            // Retention must run after every compression queued before it: move it to the end.
            if job == .retention { state.jobs.removeAll { $0 == .retention } }
            if !state.jobs.contains(job) { state.jobs.append(job) }
        }
        state.signal(.first)
    }

    /// Blocks until every submitted job is done.
    func waitUntilIdle() {
        state.withLockAndWaiter { state, waiter in
            while (!state.pointee.jobs.isEmpty || state.pointee.busy) && state.pointee.thread != nil {
                waiter.wait(.second, nanoseconds: 50_000_000)
            }
        }
    }

    /// Finishes the queued jobs and stops the thread.
    func stop() {
        let thread = state.withLock { state -> OSThread? in
            state.stopping = true
            return state.thread
        }
        state.signal(.first)
        thread?.join()
        state.withLock { $0.thread = nil }
    }

    private func loop() {
        while true {
            let job = state.withLockAndWaiter { state, waiter -> Job? in
                state.pointee.busy = false
                while state.pointee.jobs.isEmpty && !state.pointee.stopping {
                    // Failed compressions whose time has come are tried again.
                    let now = ContinuousClock.now
                    for (path, retry) in state.pointee.retries where retry.due <= now {
                        state.pointee.jobs.append(.compress(path: path))
                    }
                    if !state.pointee.jobs.isEmpty { break }
                    self.state.broadcast(.second)
                    let nextRetry = state.pointee.retries.values.map(\.due).min().map { now.duration(to: $0) } ?? .seconds(1)
                    waiter.wait(.first, nanoseconds: min(1_000_000_000, max(1_000_000, nextRetry.nanoseconds)))
                }
                if state.pointee.jobs.isEmpty { return nil }
                state.pointee.busy = true
                return state.pointee.jobs.removeFirst()
            }
            state.broadcast(.second)
            guard let job else {
                state.broadcast(.second)
                return
            }
            switch job {
            case .compress(let path): compress(path)
            case .retention: applyRetention()
            }
        }
    }

    private func report(_ payload: SinkFailed) {
        let context = state.withLock { $0.context }
        context?.report(payload)
    }

    // MARK: - Compression

    /// Compresses `path` to `path.gz`: into a temporary name, fsynced, renamed, and only then is
    /// the plain file removed. A failure removes the temporary and keeps the original.
    func compress(_ path: String) {
        let target = path + ".gz"
        let temporary = target + ".tmp"
        do throws(FileSystemError) {
            try compress(path, into: target, through: temporary)
            // One compression worked: the disk has room again, so the segments waiting for a
            // retry are tried now, not after their doubled delays (which a long outage, or a
            // busy machine that let many tries pass, makes minutes long).
            let base = max(.milliseconds(1), configuration.compression?.retryDelay ?? .seconds(10))
            state.withLock { state in
                _ = state.retries.removeValue(forKey: path)
                let now = ContinuousClock.now
                for waiting in state.retries.keys { state.retries[waiting] = (now, base) }
            }
        } catch {
            try? fileSystem.remove(temporary)
            let retryIn = state.withLock { state -> Duration in
                let delay = state.retries[path]?.nextDelay ?? max(.milliseconds(1), configuration.compression?.retryDelay ?? .seconds(10))
                state.retries[path] = (ContinuousClock.now.advanced(by: delay), min(delay * 2, Self.longestRetryDelay))
                return delay
            }
            report(SinkFailed(sink: configuration.sinkName,
                              error: "compression of \(path) failed, original kept, tried again in \(Self.describe(retryIn)): \(error)",
                              errno: Int64(error.code), failedEvents: 0))
        }
    }

    private static func describe(_ duration: Duration) -> String {
        duration < .seconds(1) ? "\(duration.nanoseconds / 1_000_000) ms" : "\(duration.components.seconds) s"
    }

    private func compress(_ path: String, into target: String, through temporary: String) throws(FileSystemError) {
        if try fileSystem.info(target) != nil {
            // A crash came after the rename and before the unlink: the .gz is complete.
            try fileSystem.remove(path)
            return
        }
        guard try fileSystem.info(path) != nil else { return }
        try fileSystem.remove(temporary)
        let source = try fileSystem.open(path, flags: O_RDONLY | O_NOFOLLOW, mode: 0)
        defer { fileSystem.close(source) }
        let destination = try fileSystem.open(temporary, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
                                              mode: configuration.fileMode)
        var closed = false
        defer { if !closed { fileSystem.close(destination) } }
        try fileSystem.changeMode(destination, configuration.fileMode, path: temporary)
        guard let compressor = try? GzipCompressor(level: configuration.compression?.level ?? 6) else {
            throw FileSystemError(code: ENOMEM, operation: "deflateInit", path: path)
        }
        var input = [UInt8](repeating: 0, count: 256 << 10)
        var output: [UInt8] = []
        output.reserveCapacity(128 << 10)
        while true {
            let count = try input.withUnsafeMutableBytes { buffer in
                Result { () throws(FileSystemError) in try fileSystem.read(source, into: buffer, path: path) }
            }.get()
            if count == 0 { break }
            input.withUnsafeBytes { compressor.append(UnsafeRawBufferPointer(rebasing: $0[0..<count]), into: &output) }
            try writeAll(destination, &output, path: temporary)
        }
        compressor.finishMember(into: &output)
        try writeAll(destination, &output, path: temporary)
        try fileSystem.sync(destination, path: temporary)
        fileSystem.close(destination)
        closed = true
        try fileSystem.rename(temporary, to: target)
        try? fileSystem.syncDirectory(configuration.directory)
        try fileSystem.remove(path)
    }

    private func writeAll(_ descriptor: Int32, _ bytes: inout [UInt8], path: String) throws(FileSystemError) {
        var offset = 0
        while offset < bytes.count {
            let written = try bytes.withUnsafeBytes { raw in
                Result { () throws(FileSystemError) in
                    try fileSystem.write(descriptor, UnsafeRawBufferPointer(rebasing: raw[offset...]), path: path)
                }
            }.get()
            guard written > 0 else { throw FileSystemError(code: ENOSPC, operation: "write", path: path) }
            offset += written
        }
        bytes.removeAll(keepingCapacity: true)
    }

    // MARK: - Retention

    /// Deletes compressed segments, oldest first, beyond the count, byte and age limits.
    func applyRetention() {
        let retention = configuration.retention
        guard retention.maxFiles != nil || retention.maxTotalBytes != nil || retention.maxAge != nil else { return }
        guard let names = try? fileSystem.contentsOfDirectory(configuration.directory) else { return }
        var segments: [(SegmentName, FileInfo)] = []
        let active = state.withLock { $0.activeSegment }
        for name in names where name != active {
            guard let segment = SegmentName(name, baseName: configuration.baseName), segment.isCompressed,
                let info = try? fileSystem.info(configuration.directory + "/" + name), info.isRegularFile
            else { continue }
            segments.append((segment, info))
        }
        segments.sort { $0.0 < $1.0 }
        var totalBytes = segments.reduce(Int64(0)) { $0 + $1.1.size }
        var count = segments.count
        let now = state.withLock { $0.context?.clock.now() } ?? SystemWallClock().now()
        for (segment, info) in segments {
            let tooMany = retention.maxFiles.map { count > $0 } ?? false
            let tooBig = retention.maxTotalBytes.map { totalBytes > $0 } ?? false
            let tooOld = retention.maxAge.map { now.duration(since: info.modified) > $0 } ?? false
            guard tooMany || tooBig || tooOld else { continue }
            do {
                try fileSystem.remove(configuration.directory + "/" + segment.name)
                count -= 1
                totalBytes -= info.size
            } catch {
                report(SinkFailed(sink: configuration.sinkName, error: "retention could not delete: \(error)",
                                  errno: Int64(error.code), failedEvents: 0))
            }
        }
    }
}
