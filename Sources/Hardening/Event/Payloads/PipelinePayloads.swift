/// `bus.dropped`: the event bus dropped events because its buffer was full.
public struct BusDropped: EventPayload {
    public static let kind = EventKind.busDropped
    /// Events dropped since the previous `bus.dropped` event.
    public var count: Int64
    /// Events dropped since the bus started.
    public var totalDropped: Int64
    /// The overflow policy (`drop_newest`, `drop_oldest`, `block`).
    public var policy: String

    /// Made up by `hardening generate` (`"synthetic": true`, written only when set): replay counts
    /// it apart and never as loss.
    public var synthetic: Bool

    /// Creates the payload.
    public init(count: Int64, totalDropped: Int64, policy: String, synthetic: Bool = false) {
        self.synthetic = synthetic
        self.count = count
        self.totalDropped = totalDropped
        self.policy = policy
    }

    public var defaultLevel: EventLevel { .warning }
    public var message: String { "event bus dropped \(count) event(s) (\(policy)); \(totalDropped) in total" }
    public var attributes: Attributes {
        var attributes = Attributes(uniqueKeysWithValues: [
            ("count", .int(count)), ("total_dropped", .int(totalDropped)), ("policy", .string(policy)),
        ])
        if synthetic { attributes.appendUnchecked("synthetic", .bool(true)) }
        return attributes
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        count = try reader.int("count")
        totalDropped = try reader.int("total_dropped")
        policy = try reader.string("policy")
        synthetic = try reader.optionalBool("synthetic") ?? false
    }
}

/// `sink.dropped`: one sink's own queue was full and its overflow policy dropped events for that
/// sink alone (the others got them; the events have their `seq`, so that sink's output has a
/// hole where they were).
public struct SinkDropped: EventPayload {
    public static let kind = EventKind.sinkDropped
    /// The sink's name.
    public var sink: String
    /// Events dropped since the previous `sink.dropped` of this sink.
    public var count: Int64
    /// Events this sink's queue dropped since the bus started.
    public var totalDropped: Int64
    /// The sink's overflow policy (`drop_newest`, `drop_oldest`, `block`, `block_unless_stalled`).
    public var policy: String

    /// Made up by `hardening generate` (`"synthetic": true`, written only when set): replay counts
    /// it apart and never as loss.
    public var synthetic: Bool

    /// Creates the payload.
    public init(sink: String, count: Int64, totalDropped: Int64, policy: String, synthetic: Bool = false) {
        self.synthetic = synthetic
        self.sink = sink
        self.count = count
        self.totalDropped = totalDropped
        self.policy = policy
    }

    public var defaultLevel: EventLevel { .warning }
    public var message: String { "sink \(sink) dropped \(count) event(s) (its queue was full, \(policy)); \(totalDropped) in total" }
    public var attributes: Attributes {
        var attributes = Attributes(uniqueKeysWithValues: [
            ("sink", .string(sink)), ("count", .int(count)), ("total_dropped", .int(totalDropped)), ("policy", .string(policy)),
        ])
        if synthetic { attributes.appendUnchecked("synthetic", .bool(true)) }
        return attributes
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        sink = try reader.string("sink")
        count = try reader.int("count")
        totalDropped = try reader.int("total_dropped")
        policy = try reader.string("policy")
        synthetic = try reader.optionalBool("synthetic") ?? false
    }
}

/// `sink.failed`: a sink could not write and is counting what it loses.
public struct SinkFailed: EventPayload {
    public static let kind = EventKind.sinkFailed
    /// The sink's name.
    public var sink: String
    /// What went wrong.
    public var error: String
    /// The `errno` of the failure, when there was one.
    public var errno: Int64?
    /// Events the sink could not write in the failed batch.
    public var failedEvents: Int64

    /// Made up by `hardening generate` (`"synthetic": true`, written only when set): replay counts
    /// it apart and never as loss.
    public var synthetic: Bool

    /// Creates the payload.
    public init(sink: String, error: String, errno: Int64? = nil, failedEvents: Int64, synthetic: Bool = false) {
        self.synthetic = synthetic
        self.sink = sink
        self.error = error
        self.errno = errno
        self.failedEvents = failedEvents
    }

    public var defaultLevel: EventLevel { .error }
    public var message: String { "sink \(sink) failed: \(error); \(failedEvents) event(s) not written" }
    public var attributes: Attributes {
        var attributes = Attributes(uniqueKeysWithValues: [("sink", .string(sink)), ("error", .string(error))])
        attributes.setIfPresent("errno", errno)
        attributes.appendUnchecked("failed_events", .int(failedEvents))
        if synthetic { attributes.appendUnchecked("synthetic", .bool(true)) }
        return attributes
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        sink = try reader.string("sink")
        error = try reader.string("error")
        errno = try reader.optionalInt("errno")
        failedEvents = try reader.int("failed_events")
        synthetic = try reader.optionalBool("synthetic") ?? false
    }
}

/// `sink.recovered`: a failed sink writes again.
public struct SinkRecovered: EventPayload {
    public static let kind = EventKind.sinkRecovered
    /// The sink's name.
    public var sink: String
    /// Events it could not write while failing.
    public var lostEvents: Int64
    /// Write attempts that failed.
    public var failedWrites: Int64
    /// How long it was failing, in milliseconds.
    public var downtimeMs: Double

    /// Made up by `hardening generate` (`"synthetic": true`, written only when set): replay counts
    /// it apart and never as loss.
    public var synthetic: Bool

    /// Creates the payload.
    public init(sink: String, lostEvents: Int64, failedWrites: Int64, downtimeMs: Double, synthetic: Bool = false) {
        self.synthetic = synthetic
        self.sink = sink
        self.lostEvents = lostEvents
        self.failedWrites = failedWrites
        self.downtimeMs = downtimeMs
    }

    public var defaultLevel: EventLevel { .notice }
    public var message: String { "sink \(sink) recovered after losing \(lostEvents) event(s)" }
    public var attributes: Attributes {
        var attributes = Attributes(uniqueKeysWithValues: [
            ("sink", .string(sink)), ("lost_events", .int(lostEvents)), ("failed_writes", .int(failedWrites)),
            ("downtime_ms", .double(downtimeMs)),
        ])
        if synthetic { attributes.appendUnchecked("synthetic", .bool(true)) }
        return attributes
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        sink = try reader.string("sink")
        lostEvents = try reader.int("lost_events")
        failedWrites = try reader.int("failed_writes")
        downtimeMs = try reader.double("downtime_ms")
        synthetic = try reader.optionalBool("synthetic") ?? false
    }
}

/// `file.opened`: the header line of every file a file sink writes. It belongs to the file, not
/// to the run's stream, so its `seq` is 0.
public struct FileOpened: EventPayload {
    public static let kind = EventKind.fileOpened
    /// A random id of this file.
    public var fileID: String
    /// The `seq` of the first run event written to this file.
    public var firstSeq: Int64
    /// The file's name when it was opened.
    public var path: String
    /// `jsonl` or `jsonl.gz` (one gzip member per flush).
    public var format: String
    /// The schema version of the writer.
    public var schemaVersion: Int64
    /// How the files are named: `segments` (created under their final name, never renamed
    /// while plain) or `rename` (the fixed active name renamed at rotation); `nil` in files of
    /// writers before the layouts were named (they renamed).
    public var layout: String?
    /// The lowest level the sink writes, when it leaves lower ones out (its
    /// ``EventSink/minimumLevel``): the run's holes in `seq` are then events below it, not
    /// losses. `nil`: every level.
    public var minLevel: String?

    /// Creates the payload.
    public init(fileID: String, firstSeq: Int64, path: String, format: String, schemaVersion: Int64 = Int64(EventKind.schemaVersion),
                layout: String? = nil, minLevel: String? = nil) {
        self.fileID = fileID
        self.firstSeq = firstSeq
        self.path = path
        self.format = format
        self.schemaVersion = schemaVersion
        self.layout = layout
        self.minLevel = minLevel
    }

    public var message: String { "opened \(path)" }
    public var attributes: Attributes {
        var attrs = Attributes(uniqueKeysWithValues: [
            ("file_id", .string(fileID)), ("first_seq", .int(firstSeq)), ("path", .string(path)),
            ("format", .string(format)), ("schema_version", .int(schemaVersion)),
        ])
        attrs.setIfPresent("layout", layout)
        attrs.setIfPresent("min_level", minLevel)
        return attrs
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        fileID = try reader.string("file_id")
        firstSeq = try reader.int("first_seq")
        path = try reader.string("path")
        format = try reader.string("format")
        schemaVersion = try reader.optionalInt("schema_version") ?? 1
        layout = try reader.optionalString("layout")
        minLevel = try reader.optionalString("min_level")
    }
}

/// `file.closed`: the last line a file sink writes when its run stops (seq 0, like the header):
/// how the run ended for the files, so that a reader sees a lost tail as loss, not only holes.
public struct FileClosed: EventPayload {
    public static let kind = EventKind.fileClosed
    /// The highest `seq` written to the files.
    public var lastSeqWritten: Int64
    /// The highest `seq` the sink was given (written or lost).
    public var lastSeqReceived: Int64
    /// Events the sink could not write during the run.
    public var lostEvents: Int64
    /// Why the file was closed: `shutdown`.
    public var reason: String

    /// Creates the payload.
    public init(lastSeqWritten: Int64, lastSeqReceived: Int64, lostEvents: Int64, reason: String) {
        self.lastSeqWritten = lastSeqWritten
        self.lastSeqReceived = lastSeqReceived
        self.lostEvents = lostEvents
        self.reason = reason
    }

    public var message: String {
        lostEvents > 0
            ? "closed at seq \(lastSeqWritten) (\(reason)); \(lostEvents) event(s) up to seq \(lastSeqReceived) could not be written"
            : "closed at seq \(lastSeqWritten) (\(reason))"
    }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [
            ("last_seq_written", .int(lastSeqWritten)), ("last_seq_received", .int(lastSeqReceived)),
            ("lost_events", .int(lostEvents)), ("reason", .string(reason)),
        ])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        lastSeqWritten = try reader.int("last_seq_written")
        lastSeqReceived = try reader.int("last_seq_received")
        lostEvents = try reader.int("lost_events")
        reason = try reader.string("reason")
    }
}

/// `file.rotated`: a file was closed and a new one created (in the `rename` layout the active
/// file was renamed to the segment first).
public struct FileRotated: EventPayload {
    public static let kind = EventKind.fileRotated
    /// The closed segment's name.
    public var segment: String
    /// Why: `size`, `age`, `startup`.
    public var reason: String
    /// The segment's size in bytes.
    public var bytes: Int64
    /// Lines in the segment, header included.
    public var lines: Int64

    /// Creates the payload.
    public init(segment: String, reason: String, bytes: Int64, lines: Int64) {
        self.segment = segment
        self.reason = reason
        self.bytes = bytes
        self.lines = lines
    }

    public var message: String { "rotated to \(segment) (\(reason), \(bytes) bytes)" }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [
            ("segment", .string(segment)), ("reason", .string(reason)), ("bytes", .int(bytes)), ("lines", .int(lines)),
        ])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        segment = try reader.string("segment")
        reason = try reader.string("reason")
        bytes = try reader.int("bytes")
        lines = try reader.int("lines")
    }
}

// MARK: - Folds (the one place where each kind changes a summary)
// `file.opened` and `file.closed` belong to the file, not the stream: `Summary.fold(_:)` handles
// them before any payload; `file.rotated` is counted only.

extension BusDropped {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        if synthetic { return summary.loss.syntheticEvents += 1 }
        summary.loss.droppedByBus.saturatingAdd(count)
    }
}

extension SinkDropped {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        if synthetic { return summary.loss.syntheticEvents += 1 }
        summary.loss.droppedBySinkQueues.add(sink, count)
    }
}

extension SinkFailed {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        if synthetic { return summary.loss.syntheticEvents += 1 }
        summary.loss.sinkFailures += 1
    }
}

extension SinkRecovered {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        if synthetic { return summary.loss.syntheticEvents += 1 }
        summary.loss.lostBySinks.saturatingAdd(lostEvents)
    }
}

extension FileOpened {
    public static var isCountedOnly: Bool { true }
}

extension FileClosed {
    public static var isCountedOnly: Bool { true }
}

extension FileRotated {
    public static var isCountedOnly: Bool { true }
}
