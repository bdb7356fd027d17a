/// `timing.recorded`: one timed call finished.
public struct TimingRecorded: EventPayload {
    public static let kind = EventKind.timingRecorded
    /// The operation.
    public var operation: String
    /// How long it took, in milliseconds.
    public var durationMs: Double
    /// `success`, `fallback` (a fallback answered for it), `error` or `cancelled` (``Outcome``).
    public var outcome: String
    /// Whether the call was slower than its threshold.
    public var slow: Bool
    /// Whether the call is counted in its operation's `timing.window` and written in full only
    /// as the context of a failure in its trace (production detail, ``EventVolume``): summaries
    /// count it as a line, not as a call again (attr `in_window`, present only when true).
    public var inWindow: Bool

    /// The outcomes ``Timing`` records.
    public enum Outcome {
        /// The call returned its own value.
        public static let success = "success"
        /// The call returned, but a fallback answered for it (or for a call inside it).
        public static let fallback = "fallback"
        /// The call threw.
        public static let error = "error"
        /// The call was cancelled.
        public static let cancelled = "cancelled"
    }

    /// Creates the payload.
    public init(operation: String, durationMs: Double, outcome: String, slow: Bool = false, inWindow: Bool = false) {
        self.operation = operation
        self.durationMs = durationMs
        self.outcome = outcome
        self.slow = slow
        self.inWindow = inWindow
    }

    public var defaultLevel: EventLevel { slow ? .warning : .debug }
    public var message: String { "\(operation) took \(millisecondsText(durationMs)) ms (\(outcome))" }
    public var attributes: Attributes {
        var attrs = Attributes(uniqueKeysWithValues: [
            ("operation", .string(operation)), ("duration_ms", .double(durationMs)),
            ("outcome", .string(outcome)), ("slow", .bool(slow)),
        ])
        if inWindow { attrs.appendUnchecked("in_window", .bool(true)) }
        return attrs
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        operation = try reader.string("operation")
        durationMs = try reader.double("duration_ms")
        outcome = try reader.string("outcome")
        // Lenient, as ever: a `slow` that is not a boolean reads as not slow.
        slow = (try? reader.optionalBool("slow")) ?? false
        inWindow = try reader.optionalBool("in_window") ?? false
    }
}

/// `error.recorded`: an error was recorded with its context.
public struct ErrorRecorded: EventPayload {
    public static let kind = EventKind.errorRecorded
    /// The operation that failed.
    public var operation: String
    /// The error's type.
    public var errorType: String
    /// The type of the error under the wrappers (a retry's last error) when it differs from
    /// ``errorType``: errors group by it (`root_error_type`, absent otherwise).
    public var rootErrorType: String?
    /// The error's description (redacted).
    public var error: String
    /// Caller-supplied context (redacted).
    public var context: Attributes

    /// Creates the payload.
    public init(operation: String, errorType: String, rootErrorType: String? = nil, error: String, context: Attributes = Attributes()) {
        self.operation = operation
        self.errorType = errorType
        self.rootErrorType = rootErrorType == errorType ? nil : rootErrorType
        self.error = error
        self.context = context
    }

    /// The type errors group by: the root cause's, or the error's own.
    package var rootCause: String { rootErrorType ?? errorType }

    public var defaultLevel: EventLevel { .error }
    public var message: String { "\(operation) failed: \(errorType): \(error)" }
    public var attributes: Attributes {
        var attributes = Attributes(uniqueKeysWithValues: [("operation", .string(operation)), ("error_type", .string(errorType))])
        if let rootErrorType { attributes.appendUnchecked("root_error_type", .string(rootErrorType)) }
        attributes.appendUnchecked("error", .string(error))
        attributes.appendUnchecked("context", .object(context))
        return attributes
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        operation = try reader.string("operation")
        errorType = try reader.string("error_type")
        rootErrorType = try reader.optionalString("root_error_type")
        error = try reader.string("error")
        context = try reader.details("context")
    }
}

/// `log.message`: a swift-log record carried on the bus.
public struct LogMessage: EventPayload {
    public static let kind = EventKind.logMessage
    /// The logger's label.
    public var logger: String
    /// The module that logged.
    public var source: String
    /// The record's metadata.
    public var metadata: Attributes
    /// The text of the record (also the event's message).
    public var text: String

    /// Creates the payload.
    public init(logger: String, source: String, text: String, metadata: Attributes = Attributes()) {
        self.logger = logger
        self.source = source
        self.text = text
        self.metadata = metadata
    }

    public var message: String { text }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [
            ("logger", .string(logger)), ("source", .string(source)), ("text", .string(text)),
            ("metadata", .object(metadata)),
        ])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        logger = try reader.string("logger")
        source = try reader.string("source")
        text = try reader.string("text")
        metadata = try reader.details("metadata")
    }
}

// MARK: - Folds (the one place where each kind changes a summary)

extension TimingRecorded {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        // A call written as a failure's context is already in its window.
        guard !inWindow else { return }
        summary.operations[operation, default: Summary.Operation()].record(self)
    }

    public func record(into timeline: inout Timeline, at position: StreamPosition) {
        guard !inWindow else { return timeline.recordEvent(at: position.timestamp) }
        timeline.recordTiming(at: position.timestamp, operation: operation, durationMs: durationMs, failed: outcome == "error")
    }
}

extension ErrorRecorded {
    /// Its context is not summarised; the latest errors are kept with their place in the stream.
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.errors.total += 1
        summary.errors.byOperation.add(operation)
        summary.errors.byType.add(errorType)
        summary.errors.byRootCause.add(rootCause)
        summary.errors.keep(Summary.RecentError(position: position, operation: operation, errorType: errorType, message: error),
                            limit: Summary.recentErrorLimit)
    }

    public func record(into timeline: inout Timeline, at position: StreamPosition) {
        timeline.recordError(at: position.timestamp)
    }
}

extension LogMessage {
    public static var isCountedOnly: Bool { true }
}
