import Hardening

extension RotatingFileSink {
    /// How the active file is written.
    public enum FileFormat: String, Sendable, Hashable {
        /// Plain JSON lines in `events.jsonl`, compressed only after rotation (what log agents tail).
        case plain
        /// The active file `events.jsonl.gz` is gzip too: one member per flush, so a crash leaves a
        /// file that decodes up to the last flush.
        case gzipStream = "gzip_stream"
    }

    /// When the sink calls `fsync`.
    public enum FsyncPolicy: String, Sendable, Hashable {
        /// Never; the OS writes back when it likes.
        case never
        /// When a file is closed by rotation or shutdown (the default).
        case onRotation = "on_rotation"
        /// After every flush (durable, slow).
        case everyFlush = "every_flush"
    }

    /// Late, atomic compression of rotated plain segments.
    public struct Compression: Sendable, Hashable {
        /// zlib level 0…9.
        public var level: Int
        /// How long a rotated segment stays plain, so that agents finish reading it (Datadog reads
        /// a rotated file for up to 60 s, Fluent Bit 5 s).
        public var delay: Duration

        /// Creates the settings.
        public init(level: Int = 6, delay: Duration = .seconds(60)) {
            self.level = level
            self.delay = delay
        }
    }

    /// Which compressed segments are kept. Only compressed segments are ever deleted, oldest first.
    public struct Retention: Sendable, Hashable {
        /// The most compressed segments kept.
        public var maxFiles: Int?
        /// The most bytes of compressed segments kept.
        public var maxTotalBytes: Int64?
        /// The oldest (by modification time) compressed segment kept.
        public var maxAge: Duration?

        /// Creates the settings.
        public init(maxFiles: Int? = 50, maxTotalBytes: Int64? = nil, maxAge: Duration? = nil) {
            self.maxFiles = maxFiles
            self.maxTotalBytes = maxTotalBytes
            self.maxAge = maxAge
        }
    }

    /// How a rotating file sink behaves. The defaults follow DESIGN.md "Files on disk".
    public struct Configuration: Sendable {
        /// The directory of the files (created 0750 if missing).
        public var directory: String
        /// The active file's name (`events.jsonl`; `events.jsonl.gz` in ``FileFormat/gzipStream``).
        public var baseName: String
        /// Plain or gzip-stream active file.
        public var format: FileFormat
        /// Rotate when the active file would grow past this size.
        public var maxFileBytes: Int64?
        /// Rotate when the active file is older than this.
        public var maxFileAge: Duration?
        /// The shortest time between two rotations (tailers poll; faster rotation loses files).
        public var minRotationInterval: Duration
        /// Compression of rotated plain segments; `nil` keeps them plain.
        public var compression: Compression?
        /// Which compressed segments are kept.
        public var retention: Retention
        /// The longest line, newline included (default 32 KiB).
        public var maxLineBytes: Int
        /// How long encoded events may wait in memory before they are written; `.zero` writes
        /// every batch at once. In gzip-stream mode each write is one gzip member.
        public var flushInterval: Duration
        /// Write as soon as this many bytes wait, whatever the interval.
        public var maxBufferBytes: Int
        /// zlib level of gzip-stream members.
        public var streamCompressionLevel: Int
        /// When to fsync.
        public var fsync: FsyncPolicy
        /// Permission bits of created files.
        public var fileMode: UInt32
        /// Permission bits of created directories.
        public var directoryMode: UInt32
        /// While writes fail, at most this many encoded bytes are kept to retry; more are dropped
        /// and counted as lost.
        public var maxRetainedBytesOnFailure: Int

        /// Creates a configuration for files in `directory`.
        public init(
            directory: String,
            baseName: String = "events.jsonl",
            format: FileFormat = .plain,
            maxFileBytes: Int64? = 64 << 20,
            maxFileAge: Duration? = nil,
            minRotationInterval: Duration = .seconds(5),
            compression: Compression? = Compression(),
            retention: Retention = Retention(),
            maxLineBytes: Int = 32 * 1024,
            flushInterval: Duration? = nil,
            maxBufferBytes: Int = 1 << 20,
            streamCompressionLevel: Int = 6,
            fsync: FsyncPolicy = .onRotation,
            fileMode: UInt32 = 0o640,
            directoryMode: UInt32 = 0o750,
            maxRetainedBytesOnFailure: Int = 4 << 20
        ) {
            self.directory = directory
            self.baseName = baseName
            self.format = format
            self.maxFileBytes = maxFileBytes
            self.maxFileAge = maxFileAge
            self.minRotationInterval = minRotationInterval
            self.compression = compression
            self.retention = retention
            self.maxLineBytes = maxLineBytes
            self.flushInterval = flushInterval ?? (format == .gzipStream ? .seconds(1) : .zero)
            self.maxBufferBytes = maxBufferBytes
            self.streamCompressionLevel = streamCompressionLevel
            self.fsync = fsync
            self.fileMode = fileMode
            self.directoryMode = directoryMode
            self.maxRetainedBytesOnFailure = maxRetainedBytesOnFailure
        }

        /// The active file's name.
        public var activeName: String { format == .gzipStream ? baseName + ".gz" : baseName }
        /// The active file's path.
        public var activePath: String { directory + "/" + activeName }
    }
}

/// A rotated segment's name, `events.jsonl.<UTC time>-<n>` (or with `.gz`), parsed for ordering.
public struct SegmentName: Hashable, Sendable, Comparable {
    /// The file name.
    public var name: String
    /// The compact UTC time in the name.
    public var time: String
    /// The counter after the time.
    public var counter: Int
    /// Whether the name ends in `.gz`.
    public var isCompressed: Bool

    /// Parses `name` as a segment of `baseName`; `nil` if it is not one.
    public init?(_ name: String, baseName: String) {
        guard name.hasPrefix(baseName + "."), !name.hasSuffix(".tmp") else { return nil }
        var rest = name.dropFirst(baseName.count + 1)
        isCompressed = rest.hasSuffix(".gz")
        if isCompressed { rest = rest.dropLast(3) }
        guard let dash = rest.lastIndex(of: "-"), let counter = Int(rest[rest.index(after: dash)...]) else { return nil }
        let time = rest[..<dash]
        guard time.count == 16, time.hasSuffix("Z") else { return nil }
        self.name = name
        self.time = String(time)
        self.counter = counter
    }

    public static func < (lhs: SegmentName, rhs: SegmentName) -> Bool {
        (lhs.time, lhs.counter, lhs.name) < (rhs.time, rhs.counter, rhs.name)
    }
}
