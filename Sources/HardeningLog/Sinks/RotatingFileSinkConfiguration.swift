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
        /// How long after a failed compression (a full disk) it is tried again; each failure
        /// doubles the wait, up to ten minutes. The plain segment is kept meanwhile.
        public var retryDelay: Duration

        /// Creates the settings.
        public init(level: Int = 6, delay: Duration = .seconds(60), retryDelay: Duration = .seconds(10)) {
            self.level = level
            self.delay = delay
            self.retryDelay = retryDelay
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

    /// How a rotating file sink behaves. The defaults follow docs/design.md, "Files on disk".
    public struct Configuration: Sendable, Hashable {
        /// The directory of the files (created 0750 if missing).
        public var directory: String
        /// The stable name (`events.jsonl`; `events.jsonl.gz` in ``FileFormat/gzipStream``): a
        /// symbolic link to the segment being written in the ``Layout/segments`` layout, the active
        /// file itself in the ``Layout/rename`` layout. Segment names are made from it.
        public var baseName: String
        /// Plain or gzip-stream files.
        public var format: FileFormat
        /// How files are named and rotated (``Layout/segments`` by default: what tailers that
        /// fall behind need).
        public var layout: Layout
        /// Rotate when the active file would grow past this size.
        public var maxFileBytes: Int64?
        /// Rotate when the active file is older than this.
        public var maxFileAge: Duration?
        /// The shortest time between two rotations (tailers poll; faster rotation loses files in
        /// the ``Layout/rename`` layout). In the ``Layout/segments`` layout a backlog written after
        /// an outage keeps the size limit regardless (at most 64 more rotations a write).
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
        /// The lowest level written (``EventSink/minimumLevel``; default `trace`, every event).
        /// Higher, the files no longer rebuild the live summary, and each file's header says so
        /// (`min_level`), so that replay counts the holes as events below it, not as losses.
        public var minimumLevel: EventLevel

        /// Creates a configuration for files in `directory`.
        public init(
            directory: String,
            baseName: String = "events.jsonl",
            format: FileFormat = .plain,
            layout: Layout = .segments,
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
            maxRetainedBytesOnFailure: Int = 4 << 20,
            minimumLevel: EventLevel = .trace
        ) {
            self.minimumLevel = minimumLevel
            self.directory = directory
            self.baseName = baseName
            self.format = format
            self.layout = layout
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

        /// The stable name: the active file (``Layout/rename``) or the link to it (``Layout/segments``).
        public var activeName: String { format == .gzipStream ? baseName + ".gz" : baseName }
        /// The stable name's path.
        public var activePath: String { directory + "/" + activeName }
        /// The sink's one name, in every event it reports (`file:` and the stable name's path),
        /// whether the writer or the background maintenance (compression, retention) reports.
        public var sinkName: String { "file:" + activePath }
    }
}
