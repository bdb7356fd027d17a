import DequeModule
import Hardening

/// Batches of events from one reading thread to the merging one, at most ``depth`` batches
/// waiting (the reader waits beyond that): the memory bound of a merged replay's streams.
final class EventChannel: Sendable {
    private struct State {
        var batches: Deque<[Event]> = []
        var finished = false
    }

    /// Batches waiting at most.
    static let depth = 4
    /// Events a batch.
    static let batchSize = 512

    private let state = ConditionLock(State())

    /// Hands over `batch`, waiting while ``depth`` batches wait.
    func put(_ batch: [Event]) {
        state.withLockAndWaiter { state, waiter in
            while state.pointee.batches.count >= Self.depth { waiter.wait(.second) }
            state.pointee.batches.append(batch)
        }
        state.signal(.first)
    }

    /// No more batches.
    func finish() {
        state.withLock { $0.finished = true }
        state.signal(.first)
    }

    /// The next batch, waiting for it; `nil` once the stream ended and everything was taken.
    func next() -> [Event]? {
        let batch = state.withLockAndWaiter { state, waiter -> [Event]? in
            while state.pointee.batches.isEmpty && !state.pointee.finished { waiter.wait(.first) }
            return state.pointee.batches.popFirst()
        }
        state.signal(.second)
        return batch
    }
}
