import HeapModule
import Hardening

/// Several streams of events (a host's files each) merged into one in time order, in bounded
/// memory: the order is the event's `timestamp`, then `host`, `run` and `seq`, and for equal keys
/// the order read (stable).
///
/// One stream is nearly in time order already, not quite: a failure's context (routine calls of
/// its trace) is written when the trace fails, up to ``TraceContextBuffer``'s 30 s after the calls.
/// So events wait in a heap until every stream that is still read has gone ``slackMicroseconds``
/// past them; the next batch is always taken from the stream that is furthest behind. Past
/// ``capacity`` waiting events the earliest goes out regardless (a stream more out of order
/// than that keeps its own order there).
///
/// The same event read from two streams (a copy of a segment in another directory) has the
/// same key, so its copies leave the heap one after the other: only the first is written.
struct TimeOrderedMerge {
    /// How far behind its stream's newest event an event may still come.
    static let slackMicroseconds: Int64 = 60_000_000
    /// Events waiting at most (about 20 MiB of decoded events: replay's memory bound holds).
    static let capacity = 16_384

    private struct Waiting: Comparable {
        var event: Event
        var order: Int

        static func < (lhs: Waiting, rhs: Waiting) -> Bool {
            let left = lhs.event
            let right = rhs.event
            if left.timestamp != right.timestamp { return left.timestamp < right.timestamp }
            if left.host != right.host { return left.host < right.host }
            if left.run != right.run { return left.run < right.run }
            if left.seq != right.seq { return left.seq < right.seq }
            return lhs.order < rhs.order
        }

        static func == (lhs: Waiting, rhs: Waiting) -> Bool { lhs.order == rhs.order }
    }

    /// Takes every batch of `streams` and hands their events to `write` in time order.
    static func run(_ streams: [EventChannel], write: (Event) -> Void) {
        var last: (timestamp: Timestamp, run: String, seq: UInt64)?
        func writeOnce(_ event: Event) {
            if event.seq > 0, let last, last.seq == event.seq, last.run == event.run, last.timestamp == event.timestamp { return }
            last = (event.timestamp, event.run, event.seq)
            write(event)
        }
        var waiting = Heap<Waiting>()
        var newest = [Int64](repeating: .min, count: streams.count)
        var live = Set(streams.indices)
        var order = 0
        while let stream = live.min(by: { (newest[$0], $0) < (newest[$1], $1) }) {
            guard let batch = streams[stream].next() else {
                live.remove(stream)
                release(&waiting, through: watermark(live, newest), write: writeOnce)
                continue
            }
            for event in batch {
                waiting.insert(Waiting(event: event, order: order))
                order += 1
                newest[stream] = max(newest[stream], event.timestamp.microsecondsSinceEpoch)
            }
            release(&waiting, through: watermark(live, newest), write: writeOnce)
        }
        while let next = waiting.popMin() { writeOnce(next.event) }
    }

    /// Events at or before this time can go: no stream still read will bring an earlier one.
    private static func watermark(_ live: Set<Int>, _ newest: [Int64]) -> Int64 {
        guard let behind = live.map({ newest[$0] }).min() else { return .max }
        return behind == .min ? .min : behind &- slackMicroseconds
    }

    private static func release(_ waiting: inout Heap<Waiting>, through watermark: Int64, write: (Event) -> Void) {
        while let first = waiting.min, first.event.timestamp.microsecondsSinceEpoch <= watermark || waiting.count > capacity {
            write(waiting.removeMin().event)
        }
    }
}
