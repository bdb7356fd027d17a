/// A sink whose target is given after the bus is made: for a sink that itself needs the bus
/// (an alert webhook emits its retries on the bus it listens to). Events before ``set(_:)`` go
/// nowhere.
package final class DeferredSink: EventSink, Sendable {
    package let name: String
    private let target = Locked<(any EventSink)?>(nil)

    /// An empty slot.
    package init(name: String = "deferred") { self.name = name }

    /// Sends every later batch to `sink`.
    package func set(_ sink: any EventSink) { target.withLock { $0 = sink } }

    private var current: (any EventSink)? { target.withLock { $0 } }

    package func start(context: SinkContext) { current?.start(context: context) }
    package func write(_ events: [Event]) { current?.write(events) }
    package func flush() { current?.flush() }
    package func tick(now: Timestamp) { current?.tick(now: now) }
    package func close() { current?.close() }
}
