/// Checks configuration against rules and reports every problem at once, each with the key as
/// the user wrote it, where the value came from, what was expected and what to do. A secret's
/// value never appears in a finding, an event or an error, not even when it is wrong.
public struct ConfigValidator: Sendable {
    /// One key's result.
    public struct Finding: Sendable, Hashable {
        /// The key as written.
        public var key: String
        /// Where the value came from (`environment`, `.env:12`, `default`) or `missing`.
        public var source: String
        /// Whether it passed.
        public var ok: Bool
        /// For a passing key, what was found (masked for secrets); for a problem, what was
        /// expected and what to do.
        public var detail: String

        /// The finding as its `config.checked` event.
        public var event: ConfigChecked {
            ConfigChecked(key: key, source: source, status: ok ? "ok" : "problem", detail: detail)
        }
    }

    /// Every finding, in the rules' order, and the `.env` lines that could not be read.
    public struct Report: Sendable, Hashable {
        /// One per rule.
        public var findings: [Finding]
        /// Unreadable `.env` lines (file and line).
        public var fileProblems: [String]
        /// The connectivity checks not run (offline), by name: the report says so.
        public var connectivitySkipped: [String] = []

        /// The findings that failed.
        public var problems: [Finding] { findings.filter { !$0.ok } }
        /// Whether everything passed.
        public var passed: Bool { problems.isEmpty && fileProblems.isEmpty }

        /// The guide's report: `✅ All configuration checks passed!`, or every problem.
        public var text: String {
            var out = ""
            for finding in findings {
                out += "\(finding.ok ? "✅" : "❌") \(finding.key) (\(finding.source)): \(finding.detail)\n"
            }
            for problem in fileProblems { out += "❌ \(problem)\n" }
            if !connectivitySkipped.isEmpty {
                out += "⏭️ connectivity skipped (--offline): \(connectivitySkipped.joined(separator: ", "))\n"
            }
            if passed {
                out += "\n✅ All configuration checks passed!\n"
            } else {
                out += "\n❌ \(problems.count + fileProblems.count) configuration problem(s); fix them and run again.\n"
            }
            return out
        }

        /// The report as JSON: `passed`, the findings and the file problems.
        public var json: AttributeValue {
            .object([
                "passed": .bool(passed),
                "findings": .array(findings.map { finding in
                    .object(["key": .string(finding.key), "source": .string(finding.source), "ok": .bool(finding.ok),
                             "detail": .string(finding.detail)])
                }),
                "file_problems": .array(fileProblems.map { .string($0) }),
                "connectivity_skipped": .array(connectivitySkipped.map { .string($0) }),
            ])
        }
    }

    /// The rules.
    public var rules: [ConfigRule]
    /// Connectivity checks: health checks that must pass too (reaching the APIs the keys are
    /// for). Skipped offline.
    public var connectivity: [any HealthCheck]

    /// A validator of `rules` and `connectivity` checks.
    public init(rules: [ConfigRule], connectivity: [any HealthCheck] = []) {
        self.rules = rules
        self.connectivity = connectivity
    }

    /// Checks every rule, then (unless `offline`) probes every connectivity check concurrently
    /// within `timeout`; a failing probe is a problem named `connectivity:NAME`.
    public func validate(_ sources: ConfigSources, offline: Bool, timeout: Duration = .seconds(10), bus: EventBus? = nil) async -> Report {
        var report = validate(sources, bus: bus)
        if offline { report.connectivitySkipped = connectivity.map(\.name) }
        guard !offline, !connectivity.isEmpty else { return report }
        let probes = await HealthProber(checks: connectivity, timeout: timeout).probeAll()
        for probe in probes {
            let latency = Int64(probe.result.latency.milliseconds.rounded())
            let ok = probe.result.status != .unhealthy
            let finding = Finding(key: "connectivity:\(probe.name)", source: "network", ok: ok,
                                  detail: ok ? "\(probe.result.message) (\(latency) ms)"
                                      : "\(probe.result.message) (\(latency) ms); check the URL, the key and the network, or run with --offline")
            report.findings.append(finding)
            bus?.emit(finding.event)
        }
        return report
    }

    /// Checks every rule against `sources`; emits one `config.checked` per rule on `bus`.
    public func validate(_ sources: ConfigSources, bus: EventBus? = nil) -> Report {
        var findings: [Finding] = []
        let redactor = Redactor()
        for rule in rules {
            var finding: Finding
            if let found = sources.value(of: rule.key) {
                if let problem = rule.problem(with: found.value) {
                    finding = Finding(key: rule.key, source: found.source, ok: false, detail: "\(problem). \(rule.help)")
                } else {
                    finding = Finding(key: rule.key, source: found.source, ok: true, detail: Self.shown(found.value, rule))
                }
            } else if let defaultValue = rule.defaultValue {
                finding = Finding(key: rule.key, source: "default", ok: true, detail: Self.shown(defaultValue, rule))
            } else {
                finding = Finding(key: rule.key, source: "missing", ok: false,
                                  detail: "required but not set: set \(rule.key) in the environment or in \(sources.dotEnvName). \(rule.help)")
            }
            // A URL or text value that carries a credential is shown redacted (`https://admin:[REDACTED]@host`).
            if let redacted = redactor.redacted(finding.detail) { finding.detail = redacted }
            findings.append(finding)
            bus?.emit(finding.event)
        }
        return Report(findings: findings, fileProblems: sources.dotEnvProblems)
    }

    /// What a passing value looks like in a report: the value itself, or for a secret only that
    /// it is set and how long it is.
    static func shown(_ value: String, _ rule: ConfigRule) -> String {
        guard rule.isSecret else { return value }
        var hint = "set (\(value.count) characters"
        if case .secret(let prefixes) = rule.format, let prefix = prefixes.first(where: value.hasPrefix) { hint += ", starts with \(prefix)" }
        return hint + ")"
    }
}
