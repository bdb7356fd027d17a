import DequeModule

/// The routine events of recent traces, kept so that a failure can be preceded by what its trace
/// did before it: at most `perTrace` events a trace, none older than `maxAge`, at most
/// `capacity` in all (the oldest forgotten first). Used on the bus's drain thread only.
struct TraceContextBuffer {
    private struct Kept {
        var id: UInt64
        var event: Event
    }

    private let perTrace: Int
    private let maxAge: Duration
    private let capacity: Int
    private var traces: [String: Deque<Kept>] = [:]
    /// Every event kept, oldest first, by id and trace (entries whose event went are skipped).
    private var order: Deque<(id: UInt64, trace: String, timestamp: Timestamp)> = []
    private var nextID: UInt64 = 0
    /// Events kept now.
    private(set) var count = 0

    init(perTrace: Int, maxAge: Duration, capacity: Int) {
        self.perTrace = perTrace
        self.maxAge = maxAge
        self.capacity = capacity
    }

    /// Keeps `event` (which has a trace id) as context of its trace.
    mutating func keep(_ event: Event) {
        guard perTrace > 0, capacity > 0, let trace = event.traceID else { return }
        nextID += 1
        var kept = traces[trace, default: []]
        if kept.count >= perTrace {
            kept.removeFirst()
            count -= 1
        }
        kept.append(Kept(id: nextID, event: event))
        traces[trace] = kept
        order.append((nextID, trace, event.timestamp))
        count += 1
        while count > capacity, let oldest = order.popFirst() { removeIfKept(oldest.id, oldest.trace) }
        // Entries of events that went another way pile up in `order`: rebuild it now and then.
        if order.count > 2 * capacity + 1024 { rebuildOrder() }
    }

    /// Takes the events kept for `trace` that are at most ``maxAge`` older than `time`, oldest first.
    mutating func take(_ trace: String, at time: Timestamp) -> [Event] {
        guard let kept = traces.removeValue(forKey: trace) else { return [] }
        count -= kept.count
        return kept.compactMap { time.duration(since: $0.event.timestamp) <= maxAge ? $0.event : nil }
    }

    /// Forgets what is older than ``maxAge`` at `time`.
    mutating func forget(before time: Timestamp) {
        while let oldest = order.first, time.duration(since: oldest.timestamp) > maxAge {
            order.removeFirst()
            removeIfKept(oldest.id, oldest.trace)
        }
    }

    private mutating func removeIfKept(_ id: UInt64, _ trace: String) {
        guard var kept = traces[trace], let first = kept.first, first.id == id else { return }
        kept.removeFirst()
        count -= 1
        traces[trace] = kept.isEmpty ? nil : kept
    }

    private mutating func rebuildOrder() {
        var entries: [(id: UInt64, trace: String, timestamp: Timestamp)] = []
        entries.reserveCapacity(count)
        for (trace, kept) in traces {
            for entry in kept { entries.append((entry.id, trace, entry.event.timestamp)) }
        }
        entries.sort { $0.id < $1.id }
        order = Deque(entries)
    }
}
