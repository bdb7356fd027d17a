import Hardening

/// Which events replay keeps. Every condition given must hold; an empty filter keeps everything.
public struct ReplayFilter: Sendable {
    /// Events at or after this time.
    public var since: Timestamp?
    /// Events before this time.
    public var until: Timestamp?
    /// Events of these services.
    public var services: Set<String> = []
    /// Events of these hosts.
    public var hosts: Set<String> = []
    /// Kinds: exact (`breaker.rejected`) or a prefix ending in `*` (`breaker.*`).
    public var kinds: [String] = []
    /// Events about these operations: their `operation`, `breaker`, `check`, `bulkhead` or
    /// `limiter` attr.
    public var operations: Set<String> = []
    /// Events at this level or more severe.
    public var minimumLevel: EventLevel?
    /// Events of these runs.
    public var runs: Set<String> = []
    /// Events of these traces (one request's whole path, on every host).
    public var traceIDs: Set<String> = []

    /// A filter that keeps everything.
    public init() {}

    /// Whether nothing is filtered out.
    public var keepsEverything: Bool {
        since == nil && until == nil && services.isEmpty && hosts.isEmpty && kinds.isEmpty && operations.isEmpty && minimumLevel == nil
            && runs.isEmpty && traceIDs.isEmpty
    }

    /// Whether `event` passes.
    public func keeps(_ event: Event) -> Bool {
        if let since, event.timestamp < since { return false }
        if let until, event.timestamp >= until { return false }
        if !services.isEmpty, !services.contains(event.service) { return false }
        if !hosts.isEmpty, !hosts.contains(event.host) { return false }
        if !runs.isEmpty, !runs.contains(event.run) { return false }
        if !traceIDs.isEmpty { guard let trace = event.traceID, traceIDs.contains(trace) else { return false } }
        if let minimumLevel, event.level < minimumLevel { return false }
        if !kinds.isEmpty, !kinds.contains(where: { Self.matches(pattern: $0, kind: event.kind.rawValue) }) { return false }
        if !operations.isEmpty {
            let subject = Self.subjectKeys.lazy.compactMap { event.attrs[$0]?.stringValue }.first
            guard let subject, operations.contains(subject) else { return false }
        }
        return true
    }

    /// The attrs that name what an event is about.
    static let subjectKeys = ["operation", "breaker", "check", "bulkhead", "limiter"]

    static func matches(pattern: String, kind: String) -> Bool {
        guard pattern.hasSuffix("*") else { return pattern == kind }
        return kind.hasPrefix(pattern.dropLast())
    }
}

/// A point in time as the command line gives it: RFC 3339 (`2026-11-29T10:00:00Z`) or an age
/// before `now` (`90s`, `15m`, `2h`, `7d`).
package enum TimeArgument {
    /// The time `text` means, or `nil` if it is neither form.
    package static func parse(_ text: String, now: Timestamp) -> Timestamp? {
        if let exact = Timestamp(rfc3339: text) { return exact }
        guard let seconds = seconds(text) else { return nil }
        return Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch - Int64(min(seconds * 1e6, 9e18)))
    }

    /// The seconds of a span written `90s`, `15m`, `2h` or `7d`; `nil` otherwise.
    package static func seconds(_ text: String) -> Double? {
        guard let unit = text.last, let amount = Double(text.dropLast()), amount.isFinite, amount >= 0 else { return nil }
        switch unit {
        case "s": return amount
        case "m": return amount * 60
        case "h": return amount * 3600
        case "d": return amount * 86_400
        default: return nil
        }
    }
}
