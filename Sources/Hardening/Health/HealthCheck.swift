/// The state of a dependency (or of the whole service), with the names events use.
public enum HealthStatus: String, Sendable, Hashable, Comparable, CaseIterable {
    /// Works.
    case healthy
    /// Works, but slow or partly failing; the service still serves.
    case degraded
    /// Does not work.
    case unhealthy

    private var rank: Int {
        switch self {
        case .healthy: 0
        case .degraded: 1
        case .unhealthy: 2
        }
    }

    public static func < (lhs: HealthStatus, rhs: HealthStatus) -> Bool { lhs.rank < rhs.rank }
}

/// What one probe found.
public struct HealthResult: Sendable, Hashable {
    /// The verdict.
    public var status: HealthStatus
    /// How long the probe took.
    public var latency: Duration
    /// A sentence for people (never a secret).
    public var message: String
    /// Values the probe read (free bytes, a vector count, …).
    public var observed: Attributes

    /// Creates a result.
    public init(status: HealthStatus, latency: Duration = .zero, message: String, observed: Attributes = Attributes()) {
        self.status = status
        self.latency = latency
        self.message = message
        self.observed = observed
    }
}

/// A check of one external dependency or resource.
public protocol HealthCheck: Sendable {
    /// The check's name in reports and events.
    var name: String { get }
    /// Whether a failure makes the whole service unhealthy (`true`) or only degraded.
    var isCritical: Bool { get }
    /// Probes once. Never throws: a failure is an `unhealthy` result that says why.
    func check() async -> HealthResult
}

extension HealthStatus {
    /// The overall status of a set of results: unhealthy if a critical check is unhealthy;
    /// degraded if any check is degraded or a non-critical one is unhealthy (it degrades, never
    /// fails, the whole); healthy otherwise (and with no checks).
    public static func overall(_ results: [(isCritical: Bool, status: HealthStatus)]) -> HealthStatus {
        var overall = HealthStatus.healthy
        for result in results {
            switch result.status {
            case .healthy: continue
            case .degraded: overall = max(overall, .degraded)
            case .unhealthy: overall = max(overall, result.isCritical ? .unhealthy : .degraded)
            }
        }
        return overall
    }
}
