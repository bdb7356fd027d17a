/// The one table of event kinds: each known kind with its payload type, which says how the kind
/// is written, read (from decoded attrs or from a line's bytes), folded into a ``Summary`` and
/// recorded in a ``Timeline``. Every reader goes through it: the live fold, replay's decoder and
/// byte scanner, the timeline and the metric catalogue (through the summary). Adding a kind is
/// its payload type and one line here.
extension EventKind {
    /// The payload type of every kind of this schema version, in a stable order.
    public static let payloadTypes: [any EventPayload.Type] = [
        RetryAttemptFailed.self, RetrySucceeded.self, RetryExhausted.self,
        BreakerStateChanged.self, BreakerRejected.self, FallbackUsed.self,
        TimeoutFired.self, BulkheadRejected.self, RateLimiterRejected.self, MetricCounted.self, MetricRecorded.self,
        TimingRecorded.self, TimingWindow.self, ErrorRecorded.self,
        HealthProbed.self, HealthWindow.self, EventsRepeated.self, HealthChanged.self, ConfigChecked.self,
        AlertFired.self, AlertResolved.self, LogMessage.self,
        BusDropped.self, SinkDropped.self, SinkFailed.self, SinkRecovered.self, FileOpened.self, FileRotated.self, FileClosed.self,
    ]

    /// Every kind of this schema version, in the order of ``payloadTypes``.
    public static let known: [EventKind] = payloadTypes.map { $0.kind }

    private static let payloadTypesByKind: [EventKind: any EventPayload.Type] = Dictionary(
        uniqueKeysWithValues: payloadTypes.map { ($0.kind, $0) })

    /// The payload type of this kind (`nil` for a kind this version does not know).
    public var payloadType: (any EventPayload.Type)? { Self.payloadTypesByKind[self] }
}
