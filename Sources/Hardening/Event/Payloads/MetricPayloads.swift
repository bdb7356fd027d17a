/// `metric.counted`: a swift-metrics counter moved (``EventMetricsFactory``).
public struct MetricCounted: EventPayload {
    public static let kind = EventKind.metricCounted
    /// The metric's label.
    public var name: String
    /// Its dimensions.
    public var dimensions: Attributes
    /// How much it moved.
    public var delta: Int64

    /// Creates the payload.
    public init(name: String, dimensions: Attributes = Attributes(), delta: Int64) {
        self.name = name
        self.dimensions = dimensions
        self.delta = delta
    }

    public var defaultLevel: EventLevel { .trace }
    public var message: String { "\(name) += \(delta)" }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [("name", .string(name)), ("dimensions", .object(dimensions)), ("delta", .int(delta))])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        name = try reader.string("name")
        dimensions = try reader.object("dimensions")
        delta = try reader.int("delta")
    }
}

/// `metric.recorded`: a swift-metrics recorder or gauge took a value (``EventMetricsFactory``).
public struct MetricRecorded: EventPayload {
    public static let kind = EventKind.metricRecorded
    /// The metric's label.
    public var name: String
    /// Its dimensions.
    public var dimensions: Attributes
    /// The value.
    public var value: Double
    /// `true` for a distribution (a recorder), `false` for a gauge (only the last value counts).
    public var aggregate: Bool

    /// Creates the payload.
    public init(name: String, dimensions: Attributes = Attributes(), value: Double, aggregate: Bool) {
        self.name = name
        self.dimensions = dimensions
        self.value = value
        self.aggregate = aggregate
    }

    public var defaultLevel: EventLevel { .trace }
    public var message: String { "\(name) = \(value)" }
    public var attributes: Attributes {
        Attributes(uniqueKeysWithValues: [
            ("name", .string(name)), ("dimensions", .object(dimensions)), ("value", .double(value)), ("aggregate", .bool(aggregate)),
        ])
    }
    public init(reading reader: inout some PayloadReader) throws(PayloadDecodingError) {
        name = try reader.string("name")
        dimensions = try reader.object("dimensions")
        value = try reader.double("value")
        aggregate = try reader.bool("aggregate")
    }
}

extension Attributes {
    /// The series a metric event belongs to: `name`, or `name{key=value,…}` with the dimensions
    /// sorted by key (the `Summary`'s and Prometheus' key).
    public static func series(_ name: String, _ dimensions: Attributes) -> String {
        guard !dimensions.isEmpty else { return name }
        let pairs = dimensions.pairs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.stringValue ?? $0.value.jsonText)" }
        return name + "{" + pairs.joined(separator: ",") + "}"
    }
}

// MARK: - Folds (the one place where each kind changes a summary)

extension MetricCounted {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.counters.add(Attributes.series(name, dimensions), delta)
    }
}

extension MetricRecorded {
    public func fold(into summary: inout Summary, at position: StreamPosition) {
        summary.recorders[Attributes.series(name, dimensions), default: Summary.Recorded()].record(value, at: position)
    }
}
