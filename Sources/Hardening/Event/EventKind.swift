/// The dotted kind of an event (`"breaker.state_changed"`), from the closed, versioned list in
/// `schemas/`. Readers keep kinds they do not know, so the type is open: any string is a kind.
public struct EventKind: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    /// The kind as written in the `event` field.
    public let rawValue: String

    /// Creates a kind from its dotted name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Creates a kind from its dotted name.
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public init(stringLiteral value: String) { self.rawValue = value }

    public var description: String { rawValue }

    public static func < (lhs: EventKind, rhs: EventKind) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Whether `name` can be a kind: lowercase dotted words (`a-z 0-9 _`), such as `retry.succeeded`
    /// (what flags and configuration files that name kinds accept).
    package static func isWellFormed(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && !name.hasSuffix(".") && !name.contains("..")
            && name.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F || $0 == 0x2E }
    }

    /// Whether the kind is one of `EventKind.known`.
    public var isKnown: Bool { EventKind.known.contains(self) }

    /// The version of the kind list and of `schemas/`. Bumped when a kind or a required attr is
    /// added; readers accept any version. Version 2 added `timeout.fired`, `bulkhead.rejected`
    /// and `rate_limiter.rejected`; version 3 `metric.counted` and `metric.recorded`; version 4
    /// `sink.dropped` and `file.closed`; version 5 the production detail's `timing.window`,
    /// `health.window` and `events.repeated`, `timing.recorded`'s `in_window` and `file.opened`'s
    /// `min_level`.
    public static let schemaVersion = 5
}

extension EventKind {
    public static let retryAttemptFailed: EventKind = "retry.attempt_failed"
    public static let retrySucceeded: EventKind = "retry.succeeded"
    public static let retryExhausted: EventKind = "retry.exhausted"
    public static let breakerStateChanged: EventKind = "breaker.state_changed"
    public static let breakerRejected: EventKind = "breaker.rejected"
    public static let fallbackUsed: EventKind = "fallback.used"
    public static let timeoutFired: EventKind = "timeout.fired"
    public static let bulkheadRejected: EventKind = "bulkhead.rejected"
    public static let rateLimiterRejected: EventKind = "rate_limiter.rejected"
    public static let metricCounted: EventKind = "metric.counted"
    public static let metricRecorded: EventKind = "metric.recorded"
    public static let timingRecorded: EventKind = "timing.recorded"
    public static let errorRecorded: EventKind = "error.recorded"
    public static let healthProbed: EventKind = "health.probed"
    public static let healthChanged: EventKind = "health.changed"
    public static let configChecked: EventKind = "config.checked"
    public static let alertFired: EventKind = "alert.fired"
    public static let alertResolved: EventKind = "alert.resolved"
    public static let logMessage: EventKind = "log.message"
    public static let busDropped: EventKind = "bus.dropped"
    public static let sinkDropped: EventKind = "sink.dropped"
    public static let sinkFailed: EventKind = "sink.failed"
    public static let sinkRecovered: EventKind = "sink.recovered"
    public static let fileOpened: EventKind = "file.opened"
    public static let fileRotated: EventKind = "file.rotated"
    public static let fileClosed: EventKind = "file.closed"
    public static let timingWindow: EventKind = "timing.window"
    public static let healthWindow: EventKind = "health.window"
    public static let eventsRepeated: EventKind = "events.repeated"
}
