import ArgumentParser
import Hardening
import HardeningLog

/// The rotating file sink's settings as flags, shared by the commands that write files. The
/// agent's YAML (`events:`) has the same settings under the same names in snake case.
struct FileSinkOptions: ParsableArguments {
    @Option(name: .customLong("file-layout"), help: """
        segments (files created as events-<time>-<n>.jsonl and never renamed while plain, events.jsonl a link to the active one; \
        what tailers that fall behind need) or rename (events.jsonl renamed at rotation; for tools that follow one fixed file).
        """)
    var fileLayout: FileLayoutOption = .segments

    @Option(name: .customLong("file-format"), help: "plain (JSON lines, compressed after rotation) or gzip-stream (gzip from the start, one member per flush).")
    var fileFormat: FileFormatOption = .plain

    @Option(name: .customLong("compression-level"), help: "zlib level 0-9 for gzip output.")
    var compressionLevel: Int = 6

    @Option(name: .customLong("compression-delay"), help: "Seconds a closed segment stays plain before it is compressed (tailers must finish it by then).")
    var compressionDelay: Double = 60

    @Option(name: .customLong("max-file-bytes"), help: "Rotate the active file at this size.")
    var maxFileBytes: Int64 = 64 << 20

    @Option(name: .customLong("max-file-age"), help: "Rotate the active file when it is this many seconds old (default: never by age).")
    var maxFileAge: Double?

    @Option(name: .customLong("min-rotation-interval"), help: "Minimum seconds between two rotations.")
    var minRotationInterval: Double = 5

    @Option(name: .customLong("max-files"), help: "Compressed segments kept (oldest deleted first).")
    var maxFiles: Int = 50

    @Option(name: .customLong("max-total-bytes"), help: "Bytes of compressed segments kept (oldest deleted first; default: no limit).")
    var maxTotalBytes: Int64?

    @Option(name: .customLong("retention-max-age"), help: "Seconds a compressed segment is kept (default: no limit).")
    var retentionMaxAge: Double?

    @Option(name: .customLong("flush-interval"), help: "Seconds encoded events may wait before a write (default: 0 for plain, 1 for gzip-stream).")
    var flushInterval: Double?

    @Option(help: "When to fsync: never, on-rotation or every-flush.")
    var fsync: FsyncOption = .onRotation

    @Option(name: .customLong("max-line-bytes"), help: "The longest line in the files, newline included; longer events are shortened and marked truncated.")
    var maxLineBytes: Int = 32 * 1024

    func validate() throws {
        guard (0...9).contains(compressionLevel) else { throw ValidationError("--compression-level must be 0…9, not \(compressionLevel).") }
        guard maxFileBytes >= 1024 else { throw ValidationError("--max-file-bytes must be at least 1024.") }
        guard maxFiles >= 0 else { throw ValidationError("--max-files must be 0 or more.") }
        guard compressionDelay >= 0, compressionDelay.isFinite else { throw ValidationError("--compression-delay must be 0 or more seconds.") }
        guard minRotationInterval >= 0, minRotationInterval.isFinite else { throw ValidationError("--min-rotation-interval must be 0 or more seconds.") }
        for (flag, value) in [("--max-file-age", maxFileAge), ("--retention-max-age", retentionMaxAge), ("--flush-interval", flushInterval)] {
            if let value, !(value >= 0 && value.isFinite) { throw ValidationError("\(flag) must be 0 or more seconds.") }
        }
        guard maxLineBytes >= 1024 else { throw ValidationError("--max-line-bytes must be at least 1024.") }
    }

    /// The sink's configuration for files in `directory`, writing `minimumLevel` and above.
    func configuration(directory: String, minimumLevel: EventLevel) -> RotatingFileSink.Configuration {
        RotatingFileSink.Configuration(
            directory: directory,
            format: fileFormat.format,
            layout: fileLayout.layout,
            maxFileBytes: maxFileBytes,
            maxFileAge: maxFileAge.map(Self.duration),
            minRotationInterval: Self.duration(minRotationInterval),
            compression: .init(level: compressionLevel, delay: Self.duration(compressionDelay)),
            retention: .init(maxFiles: maxFiles, maxTotalBytes: maxTotalBytes, maxAge: retentionMaxAge.map(Self.duration)),
            maxLineBytes: maxLineBytes,
            flushInterval: flushInterval.map(Self.duration),
            streamCompressionLevel: compressionLevel,
            fsync: fsync.policy,
            minimumLevel: minimumLevel
        )
    }

    /// After a run: if the file sink lost events, says why (the path and the system's reason) on
    /// stderr and exits 1: a run whose events did not reach the disk never looks like success.
    static func failIfLost(_ sink: RotatingFileSink, command: String) throws {
        let statistics = sink.statistics
        guard statistics.lostEvents > 0 else { return }
        FileHandleStandardError.write("hardening \(command): \(statistics.lostEvents) event(s) could not be written to "
                                      + "\(sink.configuration.directory): \(statistics.lastError ?? "the file sink failed")\n")
        throw ExitCode(1)
    }

    /// Before anything starts: if another process writes the files' directory, says so on stderr
    /// and exits 1 (a directory has one writer; the sink would refuse it anyway, and count every
    /// event as lost).
    static func refuseIfWritten(_ configuration: RotatingFileSink.Configuration, command: String) throws {
        let holder = DirectoryLock.holder(of: DirectoryLock.path(directory: configuration.directory, baseName: configuration.baseName))
        guard holder.held else { return }
        FileHandleStandardError.write("hardening \(command): \(DirectoryLock.refusal(directory: configuration.directory, holder: holder.pid))\n")
        throw ExitCode(1)
    }

    private static func duration(_ seconds: Double) -> Duration { .microseconds(Int64((seconds * 1_000_000).rounded())) }
}

enum FileLayoutOption: String, ExpressibleByArgument, CaseIterable {
    case segments, rename

    var layout: RotatingFileSink.Layout { self == .segments ? .segments : .rename }
}

enum FileFormatOption: String, ExpressibleByArgument, CaseIterable {
    case plain
    case gzipStream = "gzip-stream"

    var format: RotatingFileSink.FileFormat { self == .plain ? .plain : .gzipStream }
}

enum FsyncOption: String, ExpressibleByArgument, CaseIterable {
    case never
    case onRotation = "on-rotation"
    case everyFlush = "every-flush"

    var policy: RotatingFileSink.FsyncPolicy {
        switch self {
        case .never: .never
        case .onRotation: .onRotation
        case .everyFlush: .everyFlush
        }
    }
}
