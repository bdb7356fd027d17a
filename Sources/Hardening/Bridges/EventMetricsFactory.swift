import CoreMetrics

/// A swift-metrics `MetricsFactory` whose metrics become events, and so live in the `Summary`,
/// in replay and in `/metrics`: libraries instrumented with swift-metrics show up unchanged.
///
/// Timers become `timing.recorded` (the operation is the label, with its dimensions as
/// `label{key=value}`), counters `metric.counted`, recorders and gauges (and the meters and
/// floating-point counters swift-metrics builds on them) `metric.recorded`. The application
/// bootstraps it, once: `MetricsSystem.bootstrap(EventMetricsFactory(bus: bus))`.
public struct EventMetricsFactory: MetricsFactory {
    /// Where the metrics go.
    public let bus: EventBus

    /// Creates a factory.
    public init(bus: EventBus) { self.bus = bus }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        EventCounter(bus: bus, name: label, dimensions: Self.attributes(dimensions))
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        EventRecorder(bus: bus, name: label, dimensions: Self.attributes(dimensions), aggregate: aggregate)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        EventTimer(bus: bus, operation: Attributes.series(label, Self.attributes(dimensions)))
    }

    public func destroyCounter(_ handler: any CounterHandler) {}
    public func destroyRecorder(_ handler: any RecorderHandler) {}
    public func destroyTimer(_ handler: any TimerHandler) {}

    static func attributes(_ dimensions: [(String, String)]) -> Attributes {
        var attributes = Attributes()
        for (key, value) in dimensions { attributes[key] = .string(value) }
        return attributes
    }
}

final class EventCounter: CounterHandler {
    let bus: EventBus
    let name: String
    let dimensions: Attributes

    init(bus: EventBus, name: String, dimensions: Attributes) {
        self.bus = bus
        self.name = name
        self.dimensions = dimensions
    }

    func increment(by amount: Int64) { bus.emit(MetricCounted(name: name, dimensions: dimensions, delta: amount)) }

    /// A reset is not a change of the total the events add up; it is recorded as a zero step.
    func reset() { bus.emit(MetricCounted(name: name, dimensions: dimensions, delta: 0)) }
}

final class EventRecorder: RecorderHandler {
    let bus: EventBus
    let name: String
    let dimensions: Attributes
    let aggregate: Bool

    init(bus: EventBus, name: String, dimensions: Attributes, aggregate: Bool) {
        self.bus = bus
        self.name = name
        self.dimensions = dimensions
        self.aggregate = aggregate
    }

    func record(_ value: Int64) { record(Double(value)) }

    func record(_ value: Double) {
        guard value.isFinite else { return }
        bus.emit(MetricRecorded(name: name, dimensions: dimensions, value: value, aggregate: aggregate))
    }
}

final class EventTimer: TimerHandler {
    let bus: EventBus
    let operation: String

    init(bus: EventBus, operation: String) {
        self.bus = bus
        self.operation = operation
    }

    func recordNanoseconds(_ duration: Int64) {
        bus.emit(TimingRecorded(operation: operation, durationMs: Double(max(0, duration)) / 1_000_000, outcome: "success"))
    }
}
