/// The health of a dependency as its circuit breaker sees it: an open, half-open or isolated
/// breaker makes the dependency degraded (the service still answers, through fallbacks); a closed
/// or disabled one is healthy. Never calls the dependency.
public struct BreakerHealthCheck<C: Clock>: HealthCheck where C.Duration == Duration {
    public var name: String
    public var isCritical: Bool
    /// The breaker watched.
    public let breaker: CircuitBreaker<C>

    /// Watches `breaker`; the check is named after it unless `name` is given.
    public init(breaker: CircuitBreaker<C>, name: String? = nil, isCritical: Bool = false) {
        self.breaker = breaker
        self.name = name ?? "breaker:\(breaker.name)"
        self.isCritical = isCritical
    }

    public func check() async -> HealthResult {
        let snapshot = breaker.snapshot
        let observed: Attributes = ["state": .string(snapshot.state.rawValue), "failures": .int(Int64(snapshot.failures))]
        switch snapshot.state {
        case .closed, .disabled:
            return HealthResult(status: .healthy, message: "breaker \(breaker.name) is \(snapshot.state.rawValue)", observed: observed)
        case .open, .halfOpen, .isolated:
            var message = "breaker \(breaker.name) is \(snapshot.state.rawValue)"
            if let retryAfter = snapshot.retryAfter { message += ", trials in \(Int64(retryAfter.milliseconds)) ms" }
            return HealthResult(status: .degraded, message: message, observed: observed)
        }
    }
}

/// Whether the configuration still passes its rules (a `.env` file edited under a running
/// service, a variable removed): unhealthy with the keys at fault, never their values.
public struct ConfigHealthCheck: HealthCheck {
    public var name: String
    public var isCritical: Bool
    /// The rules.
    public let validator: ConfigValidator
    /// Reads the sources afresh for every probe; an error it throws (a `.env` that exists but
    /// cannot be read now: out of descriptors, permission) makes the probe degraded with the
    /// reason, never a list of keys that only look missing.
    public let sources: @Sendable () throws -> ConfigSources

    /// Checks `validator`'s rules against `sources()` on every probe.
    public init(name: String = "config", validator: ConfigValidator, isCritical: Bool = true,
                sources: @escaping @Sendable () throws -> ConfigSources) {
        self.name = name
        self.validator = validator
        self.isCritical = isCritical
        self.sources = sources
    }

    public func check() async -> HealthResult {
        let current: ConfigSources
        do {
            current = try sources()
        } catch {
            return HealthResult(status: .degraded, message: "the configuration could not be read again: \(error)")
        }
        let report = validator.validate(current)
        let observed: Attributes = ["rules": .int(Int64(report.findings.count)), "problems": .int(Int64(report.problems.count + report.fileProblems.count))]
        if report.passed { return HealthResult(status: .healthy, message: "\(report.findings.count) configuration rules pass", observed: observed) }
        let keys = report.problems.map(\.key) + (report.fileProblems.isEmpty ? [] : ["\(report.fileProblems.count) unreadable line(s)"])
        return HealthResult(status: .unhealthy, message: "configuration problems: \(keys.joined(separator: ", "))", observed: observed)
    }
}
