import Hardening
import Synchronization

/// The health of the event pipeline itself: unhealthy while the file sink cannot write (events
/// are being lost), degraded when the bus dropped events since the last probe or its buffer is
/// more than 80% full, healthy otherwise. Observed: delivered, dropped, pending, written, lost.
public final class SinkHealthCheck: HealthCheck, Sendable {
    public let name: String
    public let isCritical: Bool
    private let bus: EventBus
    private let fileSink: RotatingFileSink?
    private let lastDropped = Atomic<Int64>(0)

    /// Watches `bus` and, if given, its file sink.
    public init(name: String = "events", bus: EventBus, fileSink: RotatingFileSink?, isCritical: Bool = false) {
        self.name = name
        self.bus = bus
        self.fileSink = fileSink
        self.isCritical = isCritical
    }

    public func check() async -> HealthResult {
        let statistics = bus.statistics
        var observed: Attributes = [
            "delivered": .int(statistics.delivered), "dropped": .int(statistics.dropped), "pending": .int(Int64(statistics.pending)),
        ]
        let droppedSince = statistics.dropped - lastDropped.exchange(statistics.dropped, ordering: .relaxed)
        if let fileSink {
            let file = fileSink.statistics
            observed["written"] = .int(file.writtenEvents)
            observed["lost"] = .int(file.lostEvents)
            if file.isFailing {
                return HealthResult(status: .unhealthy, message: "the file sink cannot write (\(file.failedWrites) failed writes)", observed: observed)
            }
        }
        if droppedSince > 0 {
            return HealthResult(status: .degraded, message: "the bus dropped \(droppedSince) events since the last probe", observed: observed)
        }
        let capacity = bus.configuration.capacity
        if statistics.pending * 5 > capacity * 4 {
            return HealthResult(status: .degraded, message: "the bus buffer is \(statistics.pending * 100 / max(1, capacity))% full", observed: observed)
        }
        return HealthResult(status: .healthy, message: "events flowing", observed: observed)
    }
}
