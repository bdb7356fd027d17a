import Hardening

/// Tracks a sink's failing/working state so that `sink.failed` is reported once when writes
/// start failing (not once per batch, which would flood the bus) and `sink.recovered` once when
/// they work again, with everything lost in between.
package struct SinkFailureTracker: Sendable {
    /// Whether the last write failed.
    package private(set) var isFailing = false
    /// Events lost since the sink started failing.
    package private(set) var lostSinceFailure: Int64 = 0
    /// Events lost since the sink was made.
    package private(set) var totalLost: Int64 = 0
    /// Failed writes since the sink started failing.
    package private(set) var failedWrites: Int64 = 0
    /// The last failure's error (the operation, the path and the errno's text), kept after recovery.
    package private(set) var lastError: String?
    private var failingSince = Timestamp(microsecondsSinceEpoch: 0)

    /// Creates a tracker in the working state.
    package init() {}

    /// Records a failed write of `events` events (which the sink may still hold and retry; count
    /// the ones it gives up with ``lost(events:)``); returns the `sink.failed` payload to report on
    /// the transition from working to failing.
    package mutating func failed(at now: Timestamp, sink: String, error: String, errno: Int32?, events: Int) -> SinkFailed? {
        failedWrites += 1
        lastError = error
        guard !isFailing else { return nil }
        isFailing = true
        failingSince = now
        return SinkFailed(sink: sink, error: error, errno: errno.map(Int64.init), failedEvents: Int64(events))
    }

    /// Counts events dropped while failing, without a write attempt.
    package mutating func lost(events: Int) {
        lostSinceFailure += Int64(events)
        totalLost += Int64(events)
    }

    /// Records a successful write; returns the `sink.recovered` payload on the transition back.
    package mutating func succeeded(at now: Timestamp, sink: String) -> SinkRecovered? {
        guard isFailing else { return nil }
        let payload = SinkRecovered(sink: sink, lostEvents: lostSinceFailure, failedWrites: failedWrites,
                                    downtimeMs: Double(now.duration(since: failingSince).components.seconds) * 1000
                                        + Double(now.duration(since: failingSince).components.attoseconds) / 1e15)
        isFailing = false
        lostSinceFailure = 0
        failedWrites = 0
        return payload
    }
}
