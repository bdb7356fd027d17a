/// `breaker.state_changed`: a circuit breaker moved between `closed`, `open`, `half_open` (and
/// the manual states `isolated`, `disabled`).
public struct BreakerStateChanged: EventPayload {
    public static let kind = EventKind.breakerStateChanged
    /// The breaker's name.
    public var breaker: String
    /// The state left.
    public var from: String
    /// The state entered.
    public var to: String
    /// Why, in a few words (`failure_threshold`, `failure_rate`, `recovery_timeout`, `trial_succeeded`, …).
    public var reason: String
    /// Failures counted before the reset that came with the change.
    public var failures: Int64
    /// Successes counted before the reset.
    public var successes: Int64

    /// Creates the payload.
    public init(breaker: String, from: String, to: String, reason: String, failures: Int64, successes: Int64) {
        self.breaker = breaker
        self.from = from
        self.to = to
        self.reason = reason
        self.failures = failures
        self.successes = successes
    }

    public var defaultLevel: EventLevel { to == "open" ? .warning : .notice }
    public var message: String { "breaker \(breaker) \(from) -> \(to) (\(reason))" }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [
            ("breaker", .string(breaker)), ("from", .string(from)), ("to", .string(to)), ("reason", .string(reason)),
            ("failures", .int(failures)), ("successes", .int(successes)),
        ])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        breaker = try reader.string("breaker")
        from = try reader.string("from")
        to = try reader.string("to")
        reason = try reader.string("reason")
        failures = try reader.int("failures")
        successes = try reader.int("successes")
    }
}

/// `breaker.rejected`: a call was refused without being made.
public struct BreakerRejected: EventPayload {
    public static let kind = EventKind.breakerRejected
    /// The breaker's name.
    public var breaker: String
    /// The state that refused the call.
    public var state: String
    /// When a call may be admitted again, in milliseconds from now.
    public var retryAfterMs: Double

    /// Creates the payload.
    public init(breaker: String, state: String, retryAfterMs: Double) {
        self.breaker = breaker
        self.state = state
        self.retryAfterMs = retryAfterMs
    }

    public var defaultLevel: EventLevel { .warning }
    public var message: String { "breaker \(breaker) rejected a call (\(state)); retry in \(millisecondsText(retryAfterMs)) ms" }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [
            ("breaker", .string(breaker)), ("state", .string(state)), ("retry_after_ms", .double(retryAfterMs)),
        ])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        breaker = try reader.string("breaker")
        state = try reader.string("state")
        retryAfterMs = try reader.double("retry_after_ms")
    }
}

/// `fallback.used`: an operation failed and a fallback answered instead.
public struct FallbackUsed: EventPayload {
    public static let kind = EventKind.fallbackUsed
    /// The operation.
    public var operation: String
    /// The fallback's name (`value`, `cache`, …).
    public var fallback: String
    /// The type of the error that triggered it.
    public var errorType: String
    /// The type of the error under the wrappers (a retry's last error) when it differs from
    /// ``errorType`` (`root_error_type`, absent otherwise).
    public var rootErrorType: String?
    /// The error's description (redacted).
    public var error: String

    /// Creates the payload.
    public init(operation: String, fallback: String, errorType: String, rootErrorType: String? = nil, error: String) {
        self.operation = operation
        self.fallback = fallback
        self.errorType = errorType
        self.rootErrorType = rootErrorType == errorType ? nil : rootErrorType
        self.error = error
    }

    public var defaultLevel: EventLevel { .warning }
    public var message: String { "\(operation) degraded to fallback \(fallback) after \(errorType)" }
    public var attributes: Attributes {
        var attributes = Attributes(uniqueKeysWithValues: [
            ("operation", .string(operation)), ("fallback", .string(fallback)), ("error_type", .string(errorType)),
        ])
        if let rootErrorType { attributes.appendUnchecked("root_error_type", .string(rootErrorType)) }
        attributes.appendUnchecked("error", .string(error))
        return attributes
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        operation = try reader.string("operation")
        fallback = try reader.string("fallback")
        errorType = try reader.string("error_type")
        rootErrorType = try reader.optionalString("root_error_type")
        error = try reader.string("error")
    }
}

// MARK: - Folds (the one place where each kind changes a summary)

extension BreakerStateChanged {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.breakers[breaker, default: Summary.Breaker()].record(self, at: position)
    }

    public func record(into timeline: inout Timeline, at position: StreamPosition) {
        timeline.recordStateChange(at: position.timestamp, run: position.run, breaker: breaker, to: to)
    }
}

extension BreakerRejected {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.breakers[breaker, default: Summary.Breaker()].rejected += 1
    }
}

extension FallbackUsed {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.fallbacks[operation, default: [:]].add(fallback)
    }
}
