/// `timeout.fired`: an operation ran out of time and was cancelled (a timeout, told apart from
/// the caller's own cancellation, which emits nothing).
public struct TimeoutFired: EventPayload {
    public static let kind = EventKind.timeoutFired
    /// The operation.
    public var operation: String
    /// `attempt` (one try) or `total` (the whole call, retries included).
    public var scope: String
    /// The limit that was reached.
    public var timeoutMs: Double

    /// Creates the payload.
    public init(operation: String, scope: String, timeoutMs: Double) {
        self.operation = operation
        self.scope = scope
        self.timeoutMs = timeoutMs
    }

    public var defaultLevel: EventLevel { .warning }
    public var message: String { "\(operation) timed out after \(millisecondsText(timeoutMs)) ms (\(scope))" }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [
            ("operation", .string(operation)), ("scope", .string(scope)), ("timeout_ms", .double(timeoutMs)),
        ])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        operation = try reader.string("operation")
        scope = try reader.string("scope")
        timeoutMs = try reader.double("timeout_ms")
    }
}

/// `bulkhead.rejected`: a call was refused because the concurrency limit and its queue were
/// full, or because it waited in the queue too long.
public struct BulkheadRejected: EventPayload {
    public static let kind = EventKind.bulkheadRejected
    /// The bulkhead's name.
    public var bulkhead: String
    /// `full` (no slot and no room in the queue) or `queue_timeout` (waited too long).
    public var reason: String
    /// Calls running when it was refused.
    public var inFlight: Int64
    /// Calls waiting when it was refused.
    public var queued: Int64
    /// The concurrency limit.
    public var maxConcurrent: Int64
    /// The queue's size.
    public var maxQueue: Int64

    /// Creates the payload.
    public init(bulkhead: String, reason: String, inFlight: Int64, queued: Int64, maxConcurrent: Int64, maxQueue: Int64) {
        self.bulkhead = bulkhead
        self.reason = reason
        self.inFlight = inFlight
        self.queued = queued
        self.maxConcurrent = maxConcurrent
        self.maxQueue = maxQueue
    }

    public var defaultLevel: EventLevel { .warning }
    public var message: String { "bulkhead \(bulkhead) rejected a call (\(reason)): \(inFlight) running, \(queued) waiting" }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [
            ("bulkhead", .string(bulkhead)), ("reason", .string(reason)), ("in_flight", .int(inFlight)),
            ("queued", .int(queued)), ("max_concurrent", .int(maxConcurrent)), ("max_queue", .int(maxQueue)),
        ])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        bulkhead = try reader.string("bulkhead")
        reason = try reader.string("reason")
        inFlight = try reader.int("in_flight")
        queued = try reader.int("queued")
        maxConcurrent = try reader.int("max_concurrent")
        maxQueue = try reader.int("max_queue")
    }
}

/// `rate_limiter.rejected`: a call was refused because the token bucket could not give it a
/// permit within the time it was willing to wait.
public struct RateLimiterRejected: EventPayload {
    public static let kind = EventKind.rateLimiterRejected
    /// The limiter's name.
    public var limiter: String
    /// Permits per second.
    public var ratePerSecond: Double
    /// The bucket's size (the largest burst).
    public var burst: Int64
    /// How long until a permit would be free, in milliseconds.
    public var retryAfterMs: Double

    /// Creates the payload.
    public init(limiter: String, ratePerSecond: Double, burst: Int64, retryAfterMs: Double) {
        self.limiter = limiter
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.retryAfterMs = retryAfterMs
    }

    public var defaultLevel: EventLevel { .warning }
    public var message: String { "rate limiter \(limiter) rejected a call; a permit is free in \(millisecondsText(retryAfterMs)) ms" }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [
            ("limiter", .string(limiter)), ("rate_per_second", .double(ratePerSecond)), ("burst", .int(burst)),
            ("retry_after_ms", .double(retryAfterMs)),
        ])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        limiter = try reader.string("limiter")
        ratePerSecond = try reader.double("rate_per_second")
        burst = try reader.int("burst")
        retryAfterMs = try reader.double("retry_after_ms")
    }
}

// MARK: - Folds (the one place where each kind changes a summary)

extension TimeoutFired {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.timeouts[operation, default: [:]].add(scope)
    }
}

extension BulkheadRejected {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.bulkheads[bulkhead, default: [:]].add(reason)
    }
}

extension RateLimiterRejected {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.rateLimiters.add(limiter)
    }
}
