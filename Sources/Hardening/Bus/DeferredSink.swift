/// A sink whose target is given after the bus is made: for a sink that itself needs the bus
/// (an alert webhook emits its retries on the bus it listens to). Events before ``set(_:)`` go
/// nowhere.
public final class DeferredSink: EventSink, Sendable {
    public let name: String
    private let target = Locked<(any EventSink)?>(nil)

    /// An empty slot.
    public init(name: String = "deferred") { self.name = name }

    /// Sends every later batch to `sink`.
    public func set(_ sink: any EventSink) { target.withLock { $0 = sink } }

    private var current: (any EventSink)? { target.withLock { $0 } }

    public func start(context: SinkContext) { current?.start(context: context) }
    public func write(_ events: [Event]) { current?.write(events) }
    public func flush() { current?.flush() }
    public func tick(now: Timestamp) { current?.tick(now: now) }
    public func close() { current?.close() }
}
