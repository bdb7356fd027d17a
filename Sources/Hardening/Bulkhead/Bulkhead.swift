import DequeModule

/// Limits how many calls run at once, with a bounded queue for the calls that arrive while every
/// slot is busy (resilience4j's and Polly's bulkhead / concurrency limiter).
///
/// A call takes a free slot at once; otherwise it waits in a first-come-first-served queue of at
/// most ``maxQueue`` calls for at most ``maxWait``; otherwise it is refused with
/// ``BulkheadRejectedError`` and `bulkhead.rejected`. A finished call hands its slot straight to
/// the first waiter, so a slot is never lost and never over-issued. A waiting call that is
/// cancelled leaves the queue at once with `CancellationError`.
public final class Bulkhead<C: Clock>: Sendable where C.Duration == Duration {
    /// Running and waiting calls now.
    public struct Snapshot: Sendable, Hashable {
        /// Calls holding a slot.
        public var inFlight: Int
        /// Calls waiting for one.
        public var queued: Int

        /// Creates a snapshot.
        public init(inFlight: Int, queued: Int) {
            self.inFlight = inFlight
            self.queued = queued
        }
    }

    private enum Waiter {
        case arriving
        case cancelledBeforeWaiting(any Error)
        case waiting(CheckedContinuation<Void, any Error>)
    }

    private enum Decision {
        case admitted
        case queue(UInt64)
        case rejected(inFlight: Int, queued: Int)
    }

    private struct State {
        var inFlight = 0
        var waiters: [UInt64: Waiter] = [:]
        var order: Deque<UInt64> = []
        var nextID: UInt64 = 0
    }

    /// The bulkhead's name in events and errors.
    public let name: String
    /// Calls that may run at once.
    public let maxConcurrent: Int
    /// Calls that may wait for a slot (0: no queue).
    public let maxQueue: Int
    /// How long a call may wait in the queue; `nil`: as long as it takes.
    public let maxWait: Duration?
    /// The clock of the queue's waits.
    public let clock: C
    /// Where `bulkhead.rejected` goes.
    public let bus: EventBus?
    private let state = Locked(State())

    /// Creates a bulkhead.
    public init(name: String, maxConcurrent: Int, maxQueue: Int = 0, maxWait: Duration? = nil, clock: C, bus: EventBus? = nil) {
        self.name = name
        self.maxConcurrent = max(1, maxConcurrent)
        self.maxQueue = max(0, maxQueue)
        self.maxWait = maxWait
        self.clock = clock
        self.bus = bus
    }

    /// Runs `body` in a slot, waiting in the queue if needed.
    public func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    /// Calls running and waiting now.
    public var snapshot: Snapshot { state.withLock { Snapshot(inFlight: $0.inFlight, queued: $0.waiters.count) } }

    /// Takes a slot: at once, after waiting in the queue, or not at all (throws).
    public func acquire() async throws {
        let decision = state.withLock { state -> Decision in
            if state.inFlight < maxConcurrent && state.waiters.isEmpty {
                state.inFlight += 1
                return .admitted
            }
            guard state.waiters.count < maxQueue else { return .rejected(inFlight: state.inFlight, queued: state.waiters.count) }
            state.nextID += 1
            state.waiters[state.nextID] = .arriving
            return .queue(state.nextID)
        }
        switch decision {
        case .admitted:
            return
        case .rejected(let inFlight, let queued):
            throw reject(.full, inFlight: inFlight, queued: queued)
        case .queue(let id):
            guard let maxWait else { return try await waitForSlot(id) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await self.clock.sleep(for: maxWait)
                    self.abandon(id, timedOut: true)
                }
                try await waitForSlot(id)
                group.cancelAll()
            }
        }
    }

    /// Gives a slot back: to the first waiter, or to the pool.
    public func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            while let id = state.order.popFirst() {
                if case .waiting(let continuation)? = state.waiters.removeValue(forKey: id) { return continuation }
            }
            state.inFlight = max(0, state.inFlight - 1)
            return nil
        }
        next?.resume()
    }

    private func waitForSlot(_ id: UInt64) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    switch state.waiters[id] {
                    case .cancelledBeforeWaiting(let error)?:
                        state.waiters[id] = nil
                        return .failure(error)
                    case .arriving?:
                        // A slot freed while this call was on its way to the queue.
                        if state.inFlight < maxConcurrent && state.order.isEmpty {
                            state.waiters[id] = nil
                            state.inFlight += 1
                            return .success(())
                        }
                        state.waiters[id] = .waiting(continuation)
                        state.order.append(id)
                        return nil
                    case .waiting?, nil:
                        return .failure(CancellationError())
                    }
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            abandon(id, timedOut: false)
        }
    }

    /// Takes a waiter out of the queue (cancelled, or waited too long); a waiter that already
    /// got its slot keeps it.
    private func abandon(_ id: UInt64, timedOut: Bool) {
        let (continuation, error, taken) = state.withLock { state -> (CheckedContinuation<Void, any Error>?, any Error, Bool) in
            let error: any Error = timedOut
                ? BulkheadRejectedError(bulkhead: name, reason: .queueTimeout, inFlight: state.inFlight, queued: state.waiters.count - 1)
                : CancellationError()
            switch state.waiters[id] {
            case .arriving?:
                state.waiters[id] = .cancelledBeforeWaiting(error)
                return (nil, error, true)
            case .waiting(let continuation)?:
                state.waiters[id] = nil
                state.order.removeAll { $0 == id }
                return (continuation, error, true)
            case .cancelledBeforeWaiting?, nil:
                return (nil, error, false)
            }
        }
        guard taken else { return }
        if let rejection = error as? BulkheadRejectedError { emitRejection(rejection) }
        continuation?.resume(throwing: error)
    }

    private func reject(_ reason: BulkheadRejectedError.Reason, inFlight: Int, queued: Int) -> BulkheadRejectedError {
        let error = BulkheadRejectedError(bulkhead: name, reason: reason, inFlight: inFlight, queued: queued)
        emitRejection(error)
        return error
    }

    private func emitRejection(_ error: BulkheadRejectedError) {
        bus?.emit(BulkheadRejected(bulkhead: name, reason: error.reason.rawValue, inFlight: Int64(error.inFlight),
                                   queued: Int64(error.queued), maxConcurrent: Int64(maxConcurrent), maxQueue: Int64(maxQueue)))
    }
}

extension Bulkhead where C == ContinuousClock {
    /// A bulkhead on the continuous clock.
    public convenience init(name: String, maxConcurrent: Int, maxQueue: Int = 0, maxWait: Duration? = nil, bus: EventBus? = nil) {
        self.init(name: name, maxConcurrent: maxConcurrent, maxQueue: maxQueue, maxWait: maxWait, clock: ContinuousClock(), bus: bus)
    }
}
