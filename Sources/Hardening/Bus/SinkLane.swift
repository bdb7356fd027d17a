import DequeModule

/// One sink's own queue and thread, so that a sink that stalls (standard output read by nobody,
/// a disk that hangs) holds up only itself.
///
/// The bus's drain numbers and redacts a batch once and hands the same batch (shared, not
/// copied) to every lane; each lane's thread calls its sink in order, never concurrently. When a
/// lane holds ``capacity`` events, its ``policy`` decides: drop the newest or the oldest for this
/// sink alone (counted, and reported by the bus as `sink.dropped`), or make the drain wait
/// (`block`), which in turn fills the bus's buffer and makes emitters wait: the lossless choice.
///
/// Shutdown has a deadline: a lane that still blocks the drain when ``beginShutdown(blockUntil:)``'s
/// instant passes drops what it cannot take, and a lane whose thread has not finished by the
/// instant given to ``awaitFinished(until:)`` is abandoned with its queue counted as lost.
final class SinkLane: Sendable {
    /// Work for the lane's thread.
    private enum Item {
        case batch([Event])
        case flush(FlushBarrier)
    }

    private struct State {
        var items: Deque<Item> = []
        var queuedEvents = 0
        /// Events of the batch the sink is writing now.
        var writingEvents = 0
        /// The flush the sink is doing now.
        var flushing: FlushBarrier?
        var tick: Timestamp?
        var closeRequested = false
        var finished = false
        var abandoned = false
        var blockDeadline: ContinuousClock.Instant?
        var droppedSinceReport: Int64 = 0
        var droppedTotal: Int64 = 0
        var abandonedEvents: Int64 = 0
        /// Items the thread has taken, to tell a slow sink from a stalled one.
        var taken = 0
        /// `taken` when the lane was last found stalled past the shutdown deadline: until the
        /// sink takes more work, later batches do not wait for it again.
        var stalledAtTaken: Int?
        /// When the sink call now running began (nil when the thread waits for work).
        var callStarted: ContinuousClock.Instant?
        var thread: OSThread?
    }

    /// The sink this lane feeds.
    let sink: any EventSink
    /// The most events queued for the sink before ``policy`` applies.
    let capacity: Int
    /// What happens to a batch that does not fit.
    let policy: OverflowPolicy
    /// `.first`: work for the lane's thread; `.second`: room, or the thread finished.
    private let state = ConditionLock(State())

    init(sink: any EventSink, capacity: Int, policy: OverflowPolicy) {
        self.sink = sink
        self.capacity = max(1, capacity)
        self.policy = policy
    }

    // MARK: - The lane's thread

    /// Starts the lane's thread, which starts the sink and then feeds it.
    func start(context: SinkContext) {
        let thread = OSThread(name: "hardening-sink") { [self] in
            sink.start(context: context)
            run()
        }
        state.withLock { $0.thread = thread }
    }

    private enum Next {
        case batch([Event])
        case flush(FlushBarrier)
        case tick(Timestamp)
        case close
    }

    private func run() {
        while true {
            let next = state.withLockAndWaiter { state, waiter -> Next in
                while state.pointee.items.isEmpty && state.pointee.tick == nil && !state.pointee.closeRequested {
                    waiter.wait(.first)
                }
                state.pointee.callStarted = .now
                state.pointee.taken += 1
                if let item = state.pointee.items.popFirst() {
                    switch item {
                    case .batch(let events):
                        state.pointee.queuedEvents -= events.count
                        state.pointee.writingEvents = events.count
                        return .batch(events)
                    case .flush(let barrier):
                        state.pointee.flushing = barrier
                        return .flush(barrier)
                    }
                }
                if let tick = state.pointee.tick {
                    state.pointee.tick = nil
                    return .tick(tick)
                }
                return .close
            }
            state.broadcast(.second)
            switch next {
            case .batch(let events): sink.write(events)
            case .flush(let barrier):
                sink.flush()
                barrier.arrive(self)
            case .tick(let now): sink.tick(now: now)
            case .close:
                sink.close()
                state.withLock { state in
                    state.finished = true
                    state.callStarted = nil
                }
                state.broadcast(.second)
                return
            }
            state.withLock { state in
                state.callStarted = nil
                state.writingEvents = 0
                state.flushing = nil
            }
        }
    }

    // MARK: - Called by the drain

    /// Queues a batch, applying ``policy`` when it does not fit.
    func enqueue(_ events: [Event]) {
        guard !events.isEmpty else { return }
        state.withLockAndWaiter { state, waiter in
            guard !state.pointee.abandoned, !state.pointee.finished else {
                state.pointee.abandonedEvents += Int64(events.count)
                return
            }
            let room = capacity - state.pointee.queuedEvents
            if events.count <= room {
                append(events, to: state)
                return
            }
            switch policy {
            case .dropNewest:
                if room > 0 { append(Array(events.prefix(room)), to: state) }
                drop(events.dropFirst(max(0, room)), in: state)
            case .dropOldest:
                makeRoom(for: min(events.count, capacity), in: state)
                let kept = events.count <= capacity ? events : Array(events.suffix(capacity))
                drop(events.prefix(events.count - kept.count), in: state)
                append(kept, to: state)
            case .block:
                waitForRoom(events.count, state: state, waiter: waiter)
                let room = capacity - state.pointee.queuedEvents
                if state.pointee.abandoned {
                    state.pointee.abandonedEvents += Int64(events.count)
                } else if events.count <= room || state.pointee.queuedEvents == 0 {
                    // A batch larger than the whole queue goes in when the queue is empty.
                    append(events, to: state)
                } else {
                    // The shutdown deadline passed with the sink stalled.
                    if room > 0 { append(Array(events.prefix(room)), to: state) }
                    drop(events.dropFirst(max(0, room)), in: state)
                }
            }
        }
        state.signal(.first)
    }

    /// Waits until `count` events fit (or the queue is empty). Before shutdown it waits as long
    /// as it takes; once the shutdown deadline has passed, only while the sink is still taking
    /// work: a slow sink is waited for, a stalled one is not.
    private func waitForRoom(_ count: Int, state: UnsafeMutablePointer<State>, waiter: ConditionLock<State>.Waiter) {
        var takenBefore = state.pointee.taken
        var checkedProgress = ContinuousClock.now
        while state.pointee.queuedEvents > 0, capacity - state.pointee.queuedEvents < count, !state.pointee.abandoned {
            if let stalled = state.pointee.stalledAtTaken, stalled == state.pointee.taken { return }
            guard let deadline = state.pointee.blockDeadline else {
                // Woken by room, or by the start of shutdown.
                waiter.wait(.second, nanoseconds: 100_000_000)
                continue
            }
            let now = ContinuousClock.now
            if now < deadline {
                waiter.wait(.second, nanoseconds: now.duration(to: deadline).nanoseconds)
                continue
            }
            if now - checkedProgress >= Self.stallThreshold {
                if state.pointee.taken == takenBefore {
                    state.pointee.stalledAtTaken = takenBefore
                    return
                }
                takenBefore = state.pointee.taken
                checkedProgress = now
            }
            waiter.wait(.second, nanoseconds: Self.stallThreshold.nanoseconds / 4)
        }
    }

    /// How long a sink may take no work, once the shutdown deadline has passed, before it counts
    /// as stalled.
    static let stallThreshold: Duration = .milliseconds(250)

    private func append(_ events: [Event], to state: UnsafeMutablePointer<State>) {
        state.pointee.items.append(.batch(events))
        state.pointee.queuedEvents += events.count
    }

    /// Counts dropped events, except the `sink.dropped` reports themselves: counting those
    /// would make a stalled sink's every report cause the next one.
    private func drop(_ events: some Collection<Event>, in state: UnsafeMutablePointer<State>) {
        var count: Int64 = 0
        for event in events where event.kind != .sinkDropped { count += 1 }
        guard count > 0 else { return }
        state.pointee.droppedSinceReport += count
        state.pointee.droppedTotal += count
    }

    /// Drops the oldest queued events until `count` more fit (flush barriers stay).
    private func makeRoom(for count: Int, in state: UnsafeMutablePointer<State>) {
        var index = 0
        while capacity - state.pointee.queuedEvents < count, index < state.pointee.items.count {
            guard case .batch(let queued) = state.pointee.items[index] else {
                index += 1
                continue
            }
            let excess = count - (capacity - state.pointee.queuedEvents)
            if queued.count <= excess {
                state.pointee.items.remove(at: index)
                state.pointee.queuedEvents -= queued.count
                drop(queued, in: state)
            } else {
                state.pointee.items[index] = .batch(Array(queued.dropFirst(excess)))
                state.pointee.queuedEvents -= excess
                drop(queued.prefix(excess), in: state)
            }
        }
    }

    /// Queues a flush: the sink flushes once it has written everything queued before, then
    /// `barrier` hears of it. A lane that is done arrives at once.
    func enqueueFlush(_ barrier: FlushBarrier) {
        let done = state.withLock { state -> Bool in
            guard !state.abandoned, !state.finished, !state.closeRequested else { return true }
            state.items.append(.flush(barrier))
            return false
        }
        if done { barrier.arrive(self) } else { state.signal(.first) }
    }

    /// Asks for a tick; a tick already waiting takes the later time.
    func enqueueTick(_ now: Timestamp) {
        state.withLock { $0.tick = now }
        state.signal(.first)
    }

    /// The events dropped since the last call, and in all.
    func takeDropped() -> (count: Int64, total: Int64)? {
        state.withLock { state in
            guard state.droppedSinceReport > 0 else { return nil }
            defer { state.droppedSinceReport = 0 }
            return (state.droppedSinceReport, state.droppedTotal)
        }
    }

    // MARK: - Shutdown

    /// From now on a full lane blocks the drain at most until `deadline`, then drops.
    func beginShutdown(blockUntil deadline: ContinuousClock.Instant) {
        state.withLock { state in
            if state.blockDeadline == nil || deadline < state.blockDeadline! { state.blockDeadline = deadline }
        }
        state.broadcast(.second)
    }

    /// Asks the thread to close the sink after everything queued.
    func requestClose() {
        state.withLock { $0.closeRequested = true }
        state.signal(.first)
    }

    /// Waits until the sink is closed or `deadline` passes; then abandons the lane (its queue
    /// and the batch being written are counted as lost) and returns false.
    func awaitFinished(until deadline: ContinuousClock.Instant) -> Bool {
        let finished = state.withLockAndWaiter { state, waiter -> Bool in
            while !state.pointee.finished {
                let left = ContinuousClock.now.duration(to: deadline)
                if left <= .zero { break }
                waiter.wait(.second, nanoseconds: left.nanoseconds)
            }
            if state.pointee.finished { return true }
            state.pointee.abandoned = true
            state.pointee.abandonedEvents += Int64(state.pointee.queuedEvents + state.pointee.writingEvents)
            var barriers: [FlushBarrier] = state.pointee.flushing.map { [$0] } ?? []
            for case .flush(let barrier) in state.pointee.items { barriers.append(barrier) }
            state.pointee.items.removeAll()
            state.pointee.queuedEvents = 0
            for barrier in barriers { barrier.arrive(self) }
            return false
        }
        let thread = state.withLock { state -> OSThread? in
            defer { state.thread = nil }
            return state.thread
        }
        // A thread stuck in its sink cannot be joined; it ends with the process.
        if finished { thread?.join() } else { thread?.detach() }
        return finished
    }

    /// What the lane has done.
    var statistics: EventBus.SinkStatistics {
        state.withLock { state in
            EventBus.SinkStatistics(
                name: sink.name, queued: state.queuedEvents, dropped: state.droppedTotal, abandoned: state.abandonedEvents,
                busyFor: state.callStarted.map { $0.duration(to: .now) } ?? .zero, isAbandoned: state.abandoned)
        }
    }
}

/// Counts the lanes that have flushed and resumes the waiting callers when the last one has.
/// A lane arrives once however often it says so (an abandoned lane arrives for the flushes it
/// will not finish, and its thread may still finish one later).
final class FlushBarrier: Sendable {
    private struct State {
        var pending: Set<ObjectIdentifier>
        var waiters: [CheckedContinuation<Void, Never>]
    }

    private let state: ConditionLock<State>

    init(lanes: [SinkLane], waiters: [CheckedContinuation<Void, Never>]) {
        state = ConditionLock(State(pending: Set(lanes.map(ObjectIdentifier.init)), waiters: waiters))
        if lanes.isEmpty { finish() }
    }

    /// `lane` has flushed.
    func arrive(_ lane: SinkLane) {
        let last = state.withLock { state -> Bool in
            state.pending.remove(ObjectIdentifier(lane)) != nil && state.pending.isEmpty
        }
        if last { finish() }
    }

    private func finish() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
        state.broadcast(.first)
    }

    /// Blocks the calling thread until every lane has flushed or `deadline` passes.
    func wait(until deadline: ContinuousClock.Instant) {
        state.withLockAndWaiter { state, waiter in
            while !state.pointee.pending.isEmpty {
                let left = ContinuousClock.now.duration(to: deadline)
                if left <= .zero { return }
                waiter.wait(.first, nanoseconds: left.nanoseconds)
            }
        }
    }
}
