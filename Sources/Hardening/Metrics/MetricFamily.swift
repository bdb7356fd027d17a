/// One Prometheus metric family: its name, type, help text and label names, declared once in
/// ``MetricCatalogue`` and used by every exposition (the agent's live `/metrics` and
/// `hardening replay --format prometheus`).
public struct MetricFamily: Sendable, Hashable {
    /// The Prometheus metric type.
    public enum MetricType: String, Sendable, Hashable {
        case counter, gauge, histogram
    }

    /// The family's name (`hardening_…`; counters end in `_total`).
    public let name: String
    /// Its type.
    public let type: MetricType
    /// The `# HELP` text.
    public let help: String
    /// The label names every sample carries, in order.
    public let labels: [String]

    /// Creates a family.
    public init(_ name: String, _ type: MetricType, help: String, labels: [String] = []) {
        self.name = name
        self.type = type
        self.help = help
        self.labels = labels
    }
}
