// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import Hardening

/// A sink that keeps the ``Timeline`` of the last ``window`` of events, for the live dashboard's
/// charts: what `replay` charts for a whole log, over a sliding window. Buckets older than the
/// window are forgotten (each breaker keeps the state it was in when the window starts), so
/// memory stays bounded however long the process runs.
public final class LiveTimelineSink: EventSink, Sendable {
    public let name = "live-timeline"
    /// The live view of the record (compared with the replay's): never given up for being slow.
    public var isDurable: Bool { true }
    /// How far back the timeline reaches.
    public let window: Duration
    private let state = ConditionLock((timeline: Timeline(), forgotAt: Int64?.none))

    /// Creates the sink; add it to the bus's sinks.
    public init(window: Duration = .seconds(15 * 60)) {
        self.window = window
    }

    /// The timeline now.
    public var timeline: Timeline { state.withLock { $0.timeline } }

    public func write(_ events: [Event]) {
        state.withLock { timeline in
            for event in events { timeline.timeline.record(event) }
        }
    }

    /// Forgets what is older than the window (once a second at most).
    public func tick(now: Timestamp) {
        let windowMicroseconds = window.components.seconds * 1_000_000 + window.components.attoseconds / 1_000_000_000_000
        let cutoff = Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch - windowMicroseconds)
        state.withLock { state in
            if let forgotAt = state.forgotAt, now.microsecondsSinceEpoch - forgotAt < 1_000_000 { return }
            state.forgotAt = now.microsecondsSinceEpoch
            state.timeline.forget(before: cutoff)
        }
    }

    public func flush() {}

    public func close() {}
}
#endif
