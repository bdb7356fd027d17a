/// A round of probes as people and tools read it: the guide's report (`overall_status`, and per
/// service its status, message, latency and observed values), and `application/health+json` (IETF
/// draft-inadarei-api-health-check: `status` pass / warn / fail, `checks`, `observedValue`, `time`,
/// `output`), in one document.
public struct HealthReport: Sendable {
    /// The checks' results, in order.
    public var probes: [(name: String, isCritical: Bool, result: HealthResult)]
    /// The verdict.
    public var overall: HealthStatus
    /// When the probes ran.
    public var time: Timestamp

    /// Why the verdict is worse than the probes say (a stale snapshot, no probe yet).
    public var note: String?

    /// A report of `probes` taken at `time`; `overall` overrides the verdict of the probes (a
    /// monitor's snapshot is unhealthy when stale, whatever its probes said), with `note` saying why.
    public init(probes: [(name: String, isCritical: Bool, result: HealthResult)], time: Timestamp, overall: HealthStatus? = nil,
                note: String? = nil) {
        self.probes = probes
        self.overall = overall ?? HealthStatus.overall(probes.map { ($0.isCritical, $0.result.status) })
        self.time = time
        self.note = note
    }

    /// The draft's word for a status.
    public static func draftStatus(_ status: HealthStatus) -> String {
        switch status {
        case .healthy: "pass"
        case .degraded: "warn"
        case .unhealthy: "fail"
        }
    }

    /// The guide's report: a block per check (status, message, latency, observed values), then
    /// the verdict (`✅ System is healthy!`, or what is wrong).
    public var text: String {
        var out = ""
        for probe in probes {
            let mark = probe.result.status == .healthy ? "✅" : probe.result.status == .degraded ? "⚠️" : "❌"
            out += "\(mark) \(probe.name): \(probe.result.status.rawValue.uppercased())\(probe.isCritical ? "" : " (non-critical)")\n"
            out += "   \(probe.result.message)\n"
            out += "   Latency: \(Self.milliseconds(probe.result.latency))ms\n"
            for (key, value) in probe.result.observed.pairs {
                out += "   \(key): \(value.stringValue ?? value.jsonText)\n"
            }
            out += "\n"
        }
        switch overall {
        case .healthy: out += "✅ System is healthy!\n"
        case .degraded: out += "⚠️ System is degraded: \(failing.joined(separator: ", ")) failing (non-critical)\n"
        case .unhealthy: out += "❌ System is unhealthy\(failing.isEmpty ? "" : ": \(failing.joined(separator: ", ")) failing")\n"
        }
        if let note { out += "(\(note))\n" }
        return out
    }

    /// The checks that are not healthy, by name.
    private var failing: [String] { probes.filter { $0.result.status != .healthy }.map(\.name) }

    /// The `application/health+json` document.
    public var json: AttributeValue {
        var checks = Attributes()
        for probe in probes {
            var entry: Attributes = [
                "status": .string(Self.draftStatus(probe.result.status)), "time": .string(time.description),
                "observedValue": .double(Self.milliseconds(probe.result.latency)), "observedUnit": "ms",
                "componentType": "component",
            ]
            if probe.result.status != .healthy { entry["output"] = .string(probe.result.message) }
            if !probe.result.observed.isEmpty { entry["observed"] = .object(probe.result.observed) }
            checks["\(probe.name):responseTime"] = .array([.object(entry)])
        }
        var services = Attributes()
        for probe in probes {
            var entry: Attributes = [
                "status": .string(probe.result.status.rawValue), "message": .string(probe.result.message),
                "latency_ms": .double(Self.milliseconds(probe.result.latency)), "critical": .bool(probe.isCritical),
            ]
            for (key, value) in probe.result.observed.pairs where entry[key] == nil { entry[key] = value }
            services[probe.name] = .object(entry)
        }
        var document: Attributes = [
            "status": .string(Self.draftStatus(overall)), "overall_status": .string(overall.rawValue),
            "timestamp": .string(time.description), "checks": .object(checks), "services": .object(services),
        ]
        if let note { document["notes"] = .array([.string(note)]) }
        return .object(document)
    }

    /// The verdict alone: the draft's `status` and the guide's `overall_status` (what `/health`
    /// answers when it does not list the checks).
    public var verdictJSON: AttributeValue {
        var document: Attributes = ["status": .string(Self.draftStatus(overall)), "overall_status": .string(overall.rawValue)]
        if let note { document["notes"] = .array([.string(note)]) }
        return .object(document)
    }

    /// The HTTP status of a health endpoint for this report, as the guide answers: 200 only when
    /// healthy, 503 otherwise; `degradedIsHealthy` answers 200 when degraded too.
    public func httpStatusCode(degradedIsHealthy: Bool = false) -> Int {
        switch overall {
        case .healthy: 200
        case .degraded: degradedIsHealthy ? 200 : 503
        case .unhealthy: 503
        }
    }

    private static func milliseconds(_ duration: Duration) -> Double { (duration.milliseconds * 10).rounded() / 10 }
}
