/// The live ``Summary``: a sink that folds every delivered event, the same fold that
/// `hardening replay` runs over the files, so the two agree (docs/design.md invariant 1).
///
/// ``summary`` is what has been delivered so far (the drain runs about every millisecond);
/// ``summary(after:)`` first waits for the bus to deliver everything emitted before the call,
/// so a call that just returned is always in it (read your writes):
///
/// ```swift
/// let live = SummarySink()
/// let bus = EventBus(configuration: .init(service: "rag"), sinks: [live, files])
/// …
/// let summary = await live.summary(after: bus)
/// summary.operations["pinecone.query"]?.latency.meanMilliseconds   // get_summary()["mean"]
/// summary.errors.total                                              // get_error_summary()["total_errors"]
/// ```
public final class SummarySink: EventSink {
    public let name = "summary"
    /// The record: never given up for being slow.
    public var isDurable: Bool { true }
    private let state = Locked(Summary())

    /// Creates an empty live summary.
    public init() {}

    public func write(_ events: [Event]) {
        state.withLock { summary in
            for event in events { summary.fold(event) }
        }
    }

    public func flush() {}
    public func close() {}

    /// The fold of every event delivered so far.
    public var summary: Summary { state.withLock { $0 } }

    /// The fold of every event emitted on `bus` before this call.
    public func summary(after bus: EventBus) async -> Summary {
        await bus.flush()
        return summary
    }
}
