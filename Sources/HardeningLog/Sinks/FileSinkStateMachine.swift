import Hardening

/// The file sink's decisions, apart from the system calls that carry them out (as
/// `BreakerStateMachine` is for the circuit breaker): when a file is opened, when and why the
/// active file rotates, when a closed segment is due for compression, and when retention runs.
///
/// A value type without I/O. The executor (``RotatingFileSink``) asks it what to do, passing the
/// time and what it observed (whether a file is open, how much is buffered), carries out the
/// returned ``Action``s in order, and tells it what happened (`opened`, `appended`, `rotated`).
/// Everything about rotation and compression timing is therefore testable with plain values.
package struct FileSinkStateMachine: Sendable {
    /// What the configuration says about rotation and compression.
    package struct Policy: Sendable, Hashable {
        /// Rotate once the active file would grow past this many bytes.
        package var maxFileBytes: Int64?
        /// Rotate once the active file is this old.
        package var maxFileAge: Duration?
        /// The shortest time between two rotations.
        package var minRotationInterval: Duration
        /// Whether the bytes still buffered count against `maxFileBytes` (plain files: a file
        /// never grows past the limit with a whole chunk; gzip-stream files rotate once what was
        /// written reaches it, since compressed sizes are known only after writing).
        package var countsBufferedBytes: Bool
        /// How long a closed plain segment stays plain before it is compressed; `nil`: never.
        package var compressionDelay: Duration?

        package init(maxFileBytes: Int64? = nil, maxFileAge: Duration? = nil, minRotationInterval: Duration = .zero,
                     countsBufferedBytes: Bool = true, compressionDelay: Duration? = nil) {
            self.maxFileBytes = maxFileBytes
            self.maxFileAge = maxFileAge
            self.minRotationInterval = minRotationInterval
            self.countsBufferedBytes = countsBufferedBytes
            self.compressionDelay = compressionDelay
        }

        /// The policy of a sink's configuration.
        package init(_ configuration: RotatingFileSink.Configuration) {
            self.init(maxFileBytes: configuration.maxFileBytes, maxFileAge: configuration.maxFileAge,
                      minRotationInterval: configuration.minRotationInterval,
                      countsBufferedBytes: configuration.format == .plain,
                      compressionDelay: configuration.format == .plain ? configuration.compression?.delay : nil)
        }
    }

    /// Why the active file was closed into a segment (the `reason` of `file.rotated`).
    package enum RotationReason: String, Sendable, Hashable {
        /// It reached `maxFileBytes`, or the file system refused to let it grow (`EFBIG`).
        case size
        /// It reached `maxFileAge`.
        case age
        /// An active file left by an earlier run, closed when the sink starts.
        case startup
    }

    /// What the executor does, in the order given.
    package enum Action: Sendable, Hashable {
        /// Open a new active file (a new segment, or the fixed active file of the rename layout)
        /// and write its header. If it cannot be opened, the remaining actions are dropped.
        case open
        /// Close the active file into a segment and report `file.rotated`.
        case rotate(RotationReason)
        /// Compress this closed plain segment (in the background).
        case compress(path: String)
        /// Apply retention to the compressed segments (in the background).
        case applyRetention
    }

    /// A closed segment waiting for its compression.
    package struct ScheduledCompression: Sendable, Hashable {
        package var due: Timestamp
        package var path: String
    }

    package let policy: Policy
    /// Lines in the active file, its header included (a file holding only its header never rotates).
    package private(set) var activeLines: Int64 = 0
    /// Bytes in the active file.
    package private(set) var activeSize: Int64 = 0
    /// When the active file was opened.
    package private(set) var openedAt = Timestamp(microsecondsSinceEpoch: 0)
    /// When the last rotation happened.
    package private(set) var lastRotation: Timestamp?
    /// Closed segments not yet handed to compression, oldest first.
    package private(set) var scheduled: [ScheduledCompression] = []

    package init(policy: Policy) {
        self.policy = policy
    }

    // MARK: - Questions

    /// Before writing `bufferedBytes`: open a file if none is open, or rotate first if the file
    /// would grow past its size limit (and a rotation is allowed now). `catchingUp`: more of one
    /// write (a backlog kept through an outage) follows a rotation made for it, and the size limit
    /// is kept without waiting for the minimum interval (the `segments` layout, where no tailer
    /// can miss a file for it).
    package func beforeWriting(isOpen: Bool, bufferedBytes: Int, now: Timestamp, catchingUp: Bool = false) -> [Action] {
        if !isOpen { return [.open] }
        if rotatesBySize(bufferedBytes: bufferedBytes), catchingUp || rotationAllowed(now: now) { return [.rotate(.size), .open] }
        return []
    }

    /// At a tick: rotate a file past its age (with more than its header), then hand the segments
    /// whose delay has passed to compression.
    package mutating func onTick(isOpen: Bool, now: Timestamp) -> [Action] {
        var actions: [Action] = []
        if let maxAge = policy.maxFileAge, isOpen, activeLines > 1, now.duration(since: openedAt) >= maxAge, rotationAllowed(now: now) {
            actions += [.rotate(.age), .open]
        }
        return actions + dueCompressions(now: now)
    }

    /// After the file system refused to let the file grow (`EFBIG`, a file size limit): a new
    /// file is the remedy, if the file holds more than its header and a rotation is allowed.
    package func afterFileTooLarge(now: Timestamp) -> [Action] {
        guard activeLines > 1, rotationAllowed(now: now) else { return [] }
        return [.rotate(.size), .open]
    }

    /// The scheduled compressions whose delay has passed, each followed by retention.
    package mutating func dueCompressions(now: Timestamp) -> [Action] {
        guard !scheduled.isEmpty else { return [] }
        var actions: [Action] = []
        var remaining: [ScheduledCompression] = []
        for item in scheduled {
            if item.due <= now {
                actions += [.compress(path: item.path), .applyRetention]
            } else {
                remaining.append(item)
            }
        }
        scheduled = remaining
        return actions
    }

    private func rotatesBySize(bufferedBytes: Int) -> Bool {
        guard let maxBytes = policy.maxFileBytes, activeLines > 1 else { return false }
        if !policy.countsBufferedBytes { return activeSize >= maxBytes }
        return activeSize + Int64(bufferedBytes) > maxBytes
    }

    /// At most one rotation a `minRotationInterval`; a clock that stepped back allows one.
    private func rotationAllowed(now: Timestamp) -> Bool {
        guard let last = lastRotation else { return true }
        return now.duration(since: last) >= policy.minRotationInterval || now < last
    }

    // MARK: - What happened

    /// A new active file was opened, already holding `size` bytes.
    package mutating func opened(size: Int64, at now: Timestamp) {
        activeSize = size
        activeLines = 0
        openedAt = now
    }

    /// Bytes and lines reached the active file.
    package mutating func appended(bytes: Int = 0, lines: Int = 0) {
        activeSize += Int64(bytes)
        activeLines += Int64(lines)
    }

    /// The active file was closed into `segmentPath`: schedules its compression, and returns the
    /// compressions now due and retention.
    package mutating func rotated(into segmentPath: String, at now: Timestamp) -> [Action] {
        lastRotation = now
        activeLines = 0
        activeSize = 0
        if let delay = policy.compressionDelay { schedule(segmentPath, closedAt: now, delay: delay) }
        return dueCompressions(now: now) + [.applyRetention]
    }

    /// A closed plain segment found at start-up, last modified at `modified`: compressed once
    /// the delay has passed since then.
    package mutating func found(closedSegment path: String, modified: Timestamp) {
        guard let delay = policy.compressionDelay else { return }
        schedule(path, closedAt: modified, delay: delay)
    }

    private mutating func schedule(_ path: String, closedAt: Timestamp, delay: Duration) {
        guard !scheduled.contains(where: { $0.path == path }) else { return }
        scheduled.append(ScheduledCompression(due: closedAt.advanced(by: delay), path: path))
    }
}
