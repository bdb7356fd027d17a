/// `retry.attempt_failed`: one attempt failed and another will follow after `delayMs`.
public struct RetryAttemptFailed: EventPayload {
    public static let kind = EventKind.retryAttemptFailed
    /// The operation being retried.
    public var operation: String
    /// The attempt that failed, from 1.
    public var attempt: Int64
    /// The delay before the next attempt, in milliseconds.
    public var delayMs: Double
    /// The type of the error.
    public var errorType: String
    /// The error's description (redacted).
    public var error: String

    /// Creates the payload.
    public init(operation: String, attempt: Int64, delayMs: Double, errorType: String, error: String) {
        self.operation = operation
        self.attempt = attempt
        self.delayMs = delayMs
        self.errorType = errorType
        self.error = error
    }

    public var defaultLevel: EventLevel { .warning }
    public var message: String { "\(operation) attempt \(attempt) failed (\(errorType)); retrying in \(millisecondsText(delayMs)) ms" }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [
            ("operation", .string(operation)), ("attempt", .int(attempt)), ("delay_ms", .double(delayMs)),
            ("error_type", .string(errorType)), ("error", .string(error)),
        ])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        operation = try reader.string("operation")
        attempt = try reader.int("attempt")
        delayMs = try reader.double("delay_ms")
        errorType = try reader.string("error_type")
        error = try reader.string("error")
    }
}

/// `retry.succeeded`: the operation succeeded after `attempts` attempts.
public struct RetrySucceeded: EventPayload {
    public static let kind = EventKind.retrySucceeded
    /// The operation.
    public var operation: String
    /// Attempts made, including the successful one.
    public var attempts: Int64
    /// Time from the first attempt to success, in milliseconds.
    public var elapsedMs: Double

    /// Creates the payload.
    public init(operation: String, attempts: Int64, elapsedMs: Double) {
        self.operation = operation
        self.attempts = attempts
        self.elapsedMs = elapsedMs
    }

    public var message: String { "\(operation) succeeded after \(attempts) attempt(s)" }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [
            ("operation", .string(operation)), ("attempts", .int(attempts)), ("elapsed_ms", .double(elapsedMs)),
        ])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        operation = try reader.string("operation")
        attempts = try reader.int("attempts")
        elapsedMs = try reader.double("elapsed_ms")
    }
}

/// `retry.exhausted`: retrying stopped without success.
public struct RetryExhausted: EventPayload {
    public static let kind = EventKind.retryExhausted
    /// The operation.
    public var operation: String
    /// Attempts made.
    public var attempts: Int64
    /// Time from the first attempt until retrying stopped, in milliseconds.
    public var elapsedMs: Double
    /// Why retrying stopped: `exhausted`, `deadline`, `budget`, `not_retryable`, `cancelled`.
    public var reason: String
    /// The type of the last error.
    public var errorType: String
    /// The last error's description (redacted).
    public var error: String

    /// Creates the payload.
    public init(operation: String, attempts: Int64, elapsedMs: Double, reason: String, errorType: String, error: String) {
        self.operation = operation
        self.attempts = attempts
        self.elapsedMs = elapsedMs
        self.reason = reason
        self.errorType = errorType
        self.error = error
    }

    public var defaultLevel: EventLevel { .error }
    public var message: String { "\(operation) gave up after \(attempts) attempt(s): \(reason)" }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [
            ("operation", .string(operation)), ("attempts", .int(attempts)), ("elapsed_ms", .double(elapsedMs)),
            ("reason", .string(reason)), ("error_type", .string(errorType)), ("error", .string(error)),
        ])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        operation = try reader.string("operation")
        attempts = try reader.int("attempts")
        elapsedMs = try reader.double("elapsed_ms")
        reason = try reader.string("reason")
        errorType = try reader.string("error_type")
        error = try reader.string("error")
    }
}

// MARK: - Folds (the one place where each kind changes a summary)

extension RetryAttemptFailed {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.retries[operation, default: Summary.Retries()].record(self)
    }
}

extension RetrySucceeded {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.retries[operation, default: Summary.Retries()].succeededAfterRetry += 1
    }
}

extension RetryExhausted {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.retries[operation, default: Summary.Retries()].exhausted.add(reason)
    }
}
