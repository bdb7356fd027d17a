/// `health.probed`: one health check ran.
public struct HealthProbed: EventPayload {
    public static let kind = EventKind.healthProbed
    /// The check's name.
    public var check: String
    /// `healthy`, `degraded` or `unhealthy`.
    public var status: String
    /// How long the probe took, in milliseconds.
    public var latencyMs: Double
    /// What the probe said.
    public var detail: String
    /// Observed values (for example a vector count).
    public var observed: Attributes

    /// Creates the payload.
    public init(check: String, status: String, latencyMs: Double, detail: String, observed: Attributes = Attributes()) {
        self.check = check
        self.status = status
        self.latencyMs = latencyMs
        self.detail = detail
        self.observed = observed
    }

    public var defaultLevel: EventLevel { status == "healthy" ? .debug : .warning }
    public var message: String { "health check \(check): \(status) in \(millisecondsText(latencyMs)) ms" }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [
            ("check", .string(check)), ("status", .string(status)), ("latency_ms", .double(latencyMs)),
            ("detail", .string(detail)), ("observed", .object(observed)),
        ])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        check = try reader.string("check")
        status = try reader.string("status")
        latencyMs = try reader.double("latency_ms")
        detail = try reader.optionalString("detail") ?? ""
        observed = try reader.details("observed")
    }
}

/// `health.changed`: a check's (or the overall, `check` = `overall`) status changed.
public struct HealthChanged: EventPayload {
    public static let kind = EventKind.healthChanged
    /// The check's name, or `overall`.
    public var check: String
    /// The previous status.
    public var from: String
    /// The new status.
    public var to: String
    /// Why.
    public var detail: String

    /// Creates the payload.
    public init(check: String, from: String, to: String, detail: String) {
        self.check = check
        self.from = from
        self.to = to
        self.detail = detail
    }

    public var defaultLevel: EventLevel { to == "healthy" ? .notice : .warning }
    public var message: String { "health of \(check) changed \(from) -> \(to)" }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [
            ("check", .string(check)), ("from", .string(from)), ("to", .string(to)), ("detail", .string(detail)),
        ])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        check = try reader.string("check")
        from = try reader.string("from")
        to = try reader.string("to")
        detail = try reader.optionalString("detail") ?? ""
    }
}

/// `config.checked`: one configuration rule was checked.
public struct ConfigChecked: EventPayload {
    public static let kind = EventKind.configChecked
    /// The key as the user wrote it (environment variable or file key).
    public var key: String
    /// Where the value came from (`environment`, `.env`, `config file`, `default`, `missing`).
    public var source: String
    /// `ok` or `problem`.
    public var status: String
    /// What was expected and what to do (never the secret's value).
    public var detail: String

    /// Creates the payload.
    public init(key: String, source: String, status: String, detail: String) {
        self.key = key
        self.source = source
        self.status = status
        self.detail = detail
    }

    public var defaultLevel: EventLevel { status == "ok" ? .info : .error }
    /// "config OPENAI_API_KEY ok (environment)": no `KEY: value` shape, which redaction would
    /// take for a secret's value and replace the status word of.
    public var message: String { "config \(key) \(status) (\(source))" }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [
            ("key", .string(key)), ("source", .string(source)), ("status", .string(status)), ("detail", .string(detail)),
        ])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        key = try reader.string("key")
        source = try reader.string("source")
        status = try reader.string("status")
        detail = try reader.optionalString("detail") ?? ""
    }
}

/// `alert.fired`: an alert rule started firing.
public struct AlertFired: EventPayload {
    public static let kind = EventKind.alertFired
    /// The rule's name.
    public var rule: String
    /// The check it watches.
    public var check: String
    /// Why it fired.
    public var reason: String
    /// Consecutive failures seen.
    public var consecutiveFailures: Int64

    /// Creates the payload.
    public init(rule: String, check: String, reason: String, consecutiveFailures: Int64) {
        self.rule = rule
        self.check = check
        self.reason = reason
        self.consecutiveFailures = consecutiveFailures
    }

    public var defaultLevel: EventLevel { .error }
    public var message: String { "alert \(rule) fired for \(check): \(reason)" }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [
            ("rule", .string(rule)), ("check", .string(check)), ("reason", .string(reason)),
            ("consecutive_failures", .int(consecutiveFailures)),
        ])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        rule = try reader.string("rule")
        check = try reader.string("check")
        reason = try reader.string("reason")
        consecutiveFailures = try reader.int("consecutive_failures")
    }
}

/// `alert.resolved`: a firing alert rule resolved.
public struct AlertResolved: EventPayload {
    public static let kind = EventKind.alertResolved
    /// The rule's name.
    public var rule: String
    /// The check it watches.
    public var check: String
    /// Consecutive successes seen.
    public var consecutiveSuccesses: Int64
    /// How long it fired, in milliseconds.
    public var firedForMs: Double

    /// Creates the payload.
    public init(rule: String, check: String, consecutiveSuccesses: Int64, firedForMs: Double) {
        self.rule = rule
        self.check = check
        self.consecutiveSuccesses = consecutiveSuccesses
        self.firedForMs = firedForMs
    }

    public var defaultLevel: EventLevel { .notice }
    public var message: String { "alert \(rule) resolved for \(check)" }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [
            ("rule", .string(rule)), ("check", .string(check)),
            ("consecutive_successes", .int(consecutiveSuccesses)), ("fired_for_ms", .double(firedForMs)),
        ])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        rule = try reader.string("rule")
        check = try reader.string("check")
        consecutiveSuccesses = try reader.int("consecutive_successes")
        firedForMs = try reader.double("fired_for_ms")
    }
}

// MARK: - Folds (the one place where each kind changes a summary)

extension HealthProbed {
    /// Its observed values are not summarised.
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.health[check, default: Summary.Health()].record(self, at: position)
    }

    public func record(into timeline: inout Timeline, at position: StreamPosition) {
        timeline.recordProbe(at: position.timestamp, check: check, status: status, detail: detail)
    }
}

extension HealthChanged {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.health[check, default: Summary.Health()].changes += 1
    }
}

extension ConfigChecked {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.config[key] = status
    }
}

extension AlertFired {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.alertsFired.add("\(rule)/\(check)")
    }

    public func record(into timeline: inout Timeline, at position: StreamPosition) {
        timeline.recordAlert(at: position.timestamp, rule: rule, check: check, fired: true, reason: reason)
    }
}

extension AlertResolved {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.alertsResolved.add("\(rule)/\(check)")
    }

    public func record(into timeline: inout Timeline, at position: StreamPosition) {
        timeline.recordAlert(at: position.timestamp, rule: rule, check: check, fired: false, reason: "")
    }
}
