import DequeModule

/// One sink's own queue and thread, so that a sink that stalls (standard output read by nobody,
/// a disk that hangs) holds up only itself.
///
/// The bus's drain numbers and redacts a batch once and hands the same batch (shared, not
/// copied) to every lane; each lane's thread calls its sink in order, never concurrently. When a
/// lane holds ``capacity`` events or ``capacityBytes`` bytes (``Event/estimatedBytes``), its
/// ``policy`` decides. `nil`, the default, makes the drain wait while the sink is taking work
/// (a slow sink holds the drain, the bus's own policy then applies to the producers, so all
/// sinks keep the same events: the files still replay to the live summary). A durable sink is
/// waited for however slow; any other is dropped for, alone, once it has taken nothing for
/// ``stallTimeout`` (a stalled standard output) or while the bus's buffer is half full under a
/// dropping policy, until it takes work again. An explicit policy drops the newest or the oldest for this
/// sink alone at once, or makes the drain wait however long (`block`). Drops are counted and
/// reported by the bus as `sink.dropped`.
///
/// Shutdown has a deadline: a lane that still blocks the drain when ``beginShutdown(blockUntil:)``'s
/// instant passes drops what it cannot take, and a lane whose thread has not finished by the
/// instant given to ``awaitFinished(until:)`` is abandoned with its queue counted as lost.
final class SinkLane: Sendable {
    /// Work for the lane's thread.
    private enum Item {
        case batch([Event], bytes: Int)
        case flush(FlushBarrier)
    }

    private struct State {
        var items: Deque<Item> = []
        var queuedEvents = 0
        var queuedBytes = 0
        /// The lane's thread waits for work: only then does a new item need a wake-up (a futex
        /// call the drain otherwise saves on every batch).
        var waitingForWork = false
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
    /// The most bytes queued for the sink before ``policy`` applies.
    let capacityBytes: Int
    /// What happens to a batch that does not fit.
    let policy: OverflowPolicy?
    /// With the default policy: how long the sink may take nothing while the drain waits before
    /// its own events are dropped instead.
    let stallTimeout: Duration
    /// `.first`: work for the lane's thread; `.second`: room, or the thread finished.
    private let state = ConditionLock(State())

    /// The sink's ``EventSink/minimumLevel``, read once.
    let minimumLevel: EventLevel
    /// The sink's ``EventSink/isDurable``, read once: under the default policy a durable sink is
    /// waited for as long as it takes work, never given up for being slow.
    let isDurable: Bool
    /// Whether the bus's own buffer is filling under a dropping policy: then a sink that is not
    /// durable is dropped for, rather than waited for while the bus drops for every sink.
    private let busUnderPressure = Locked<(@Sendable () -> Bool)?>(nil)

    init(sink: any EventSink, capacity: Int, capacityBytes: Int = .max, policy: OverflowPolicy?, stallTimeout: Duration = .seconds(2)) {
        self.minimumLevel = sink.minimumLevel
        self.isDurable = sink.isDurable
        self.stallTimeout = stallTimeout
        self.sink = sink
        self.capacity = max(1, capacity)
        self.capacityBytes = max(1, capacityBytes)
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
                    state.pointee.waitingForWork = true
                    waiter.wait(.first)
                    state.pointee.waitingForWork = false
                }
                state.pointee.callStarted = .now
                state.pointee.taken += 1
                if let item = state.pointee.items.popFirst() {
                    switch item {
                    case .batch(let events, let bytes):
                        state.pointee.queuedEvents -= events.count
                        state.pointee.queuedBytes -= bytes
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

    /// Tells the lane how to see that the bus's buffer is filling under a dropping policy.
    func watchBusPressure(_ check: @escaping @Sendable () -> Bool) {
        busUnderPressure.withLock { $0 = check }
    }

    /// Queues a batch (`bytes`: the sum of its events' ``Event/estimatedBytes``), applying
    /// ``policy`` when it does not fit.
    func enqueue(_ events: [Event], bytes: Int) {
        // Below the sink's minimum level: never queued (the same storage when nothing is).
        if minimumLevel > .trace, events.contains(where: { $0.level < minimumLevel }) {
            let kept = events.filter { $0.level >= minimumLevel }
            return enqueue(kept, bytes: kept.reduce(0) { $0 + $1.estimatedBytes })
        }
        guard !events.isEmpty else { return }
        let wake = state.withLockAndWaiter { state, waiter -> Bool in
            // Whether the lane's thread waits for work is read when returning (the block policy
            // may have waited with the lock released), and cleared once it is woken.
            defer { state.pointee.waitingForWork = false }
            guard !state.pointee.abandoned, !state.pointee.finished else {
                state.pointee.abandonedEvents += Int64(events.count)
                return false
            }
            if fits(events.count, bytes, state) {
                append(events, bytes: bytes, to: state)
                return state.pointee.waitingForWork
            }
            switch policy {
            case .dropNewest:
                appendFittingPrefix(of: events, in: state)
            case .dropOldest:
                // The newest that fit in the whole queue stay; room is made for them.
                var keptBytes = 0
                var kept = 0
                for event in events.reversed() {
                    let size = event.estimatedBytes
                    guard kept < capacity, kept == 0 || keptBytes + size <= capacityBytes else { break }
                    kept += 1
                    keptBytes += size
                }
                drop(events.prefix(events.count - kept), in: state)
                makeRoom(for: kept, bytes: keptBytes, in: state)
                append(kept == events.count ? events : Array(events.suffix(kept)), bytes: keptBytes, to: state)
            case .block, nil:
                let givesUp = policy == nil && !isDurable
                waitForRoom(events.count, bytes, stallAfter: givesUp ? stallTimeout : nil,
                            underPressure: givesUp ? busUnderPressure.withLock({ $0 }) : nil, state: state, waiter: waiter)
                if state.pointee.abandoned {
                    state.pointee.abandonedEvents += Int64(events.count)
                } else if fits(events.count, bytes, state) {
                    append(events, bytes: bytes, to: state)
                } else {
                    // Stalled: past the stall timeout (default policy) or the shutdown deadline.
                    appendFittingPrefix(of: events, in: state)
                }
            }
            return state.pointee.waitingForWork
        }
        if wake { state.signal(.first) }
    }

    /// Whether `count` events of `bytes` fit now; anything fits an empty queue (a batch larger
    /// than the whole queue goes in alone).
    private func fits(_ count: Int, _ bytes: Int, _ state: UnsafeMutablePointer<State>) -> Bool {
        state.pointee.queuedEvents == 0
            || (capacity - state.pointee.queuedEvents >= count && capacityBytes - state.pointee.queuedBytes >= bytes)
    }

    /// Appends as many of `events`, from the first, as fit (at least one into an empty queue);
    /// the rest are dropped.
    private func appendFittingPrefix(of events: [Event], in state: UnsafeMutablePointer<State>) {
        var roomEvents = capacity - state.pointee.queuedEvents
        var roomBytes = capacityBytes - state.pointee.queuedBytes
        var count = 0
        var bytes = 0
        for event in events {
            let size = event.estimatedBytes
            let first = count == 0 && state.pointee.queuedEvents == 0
            guard first || (roomEvents > 0 && size <= roomBytes) else { break }
            roomEvents -= 1
            roomBytes -= size
            count += 1
            bytes += size
        }
        if count > 0 { append(count == events.count ? events : Array(events.prefix(count)), bytes: bytes, to: state) }
        drop(events.dropFirst(count), in: state)
    }

    /// Waits until `count` events of `bytes` fit (or the queue is empty). Before shutdown it
    /// waits as long as it takes; once the shutdown deadline has passed, only while the sink is
    /// still taking work: a slow sink is waited for, a stalled one is not.
    /// With `stallAfter` (the default policy), a sink that takes nothing for that long stops
    /// being waited for, whether or not shutdown has begun.
    private func waitForRoom(_ count: Int, _ bytes: Int, stallAfter: Duration?, underPressure: (@Sendable () -> Bool)?,
                             state: UnsafeMutablePointer<State>, waiter: ConditionLock<State>.Waiter) {
        var takenBefore = state.pointee.taken
        var checkedProgress = ContinuousClock.now
        while !fits(count, bytes, state), !state.pointee.abandoned {
            if let stalled = state.pointee.stalledAtTaken, stalled == state.pointee.taken { return }
            // The bus would drop for every sink: this one's overflow is dropped instead, and
            // later batches are not waited for until the sink takes work again.
            if let underPressure, underPressure() {
                state.pointee.stalledAtTaken = state.pointee.taken
                return
            }
            if let stallAfter, state.pointee.blockDeadline == nil {
                let now = ContinuousClock.now
                if now - checkedProgress >= stallAfter {
                    if state.pointee.taken == takenBefore {
                        state.pointee.stalledAtTaken = takenBefore
                        return
                    }
                    takenBefore = state.pointee.taken
                    checkedProgress = now
                }
                waiter.wait(.second, nanoseconds: min(underPressure == nil ? 100_000_000 : 5_000_000, stallAfter.nanoseconds))
                continue
            }
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

    private func append(_ events: [Event], bytes: Int, to state: UnsafeMutablePointer<State>) {
        state.pointee.items.append(.batch(events, bytes: bytes))
        state.pointee.queuedEvents += events.count
        state.pointee.queuedBytes += bytes
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

    /// Drops the oldest queued events until `count` more events of `bytes` fit (flush barriers stay).
    private func makeRoom(for count: Int, bytes: Int, in state: UnsafeMutablePointer<State>) {
        var index = 0
        while !(capacity - state.pointee.queuedEvents >= count && capacityBytes - state.pointee.queuedBytes >= bytes),
            index < state.pointee.items.count
        {
            guard case .batch(let queued, let queuedBytes) = state.pointee.items[index] else {
                index += 1
                continue
            }
            // Drop the batch's events from its front until the newcomers fit.
            var dropped = 0
            var droppedBytes = 0
            for event in queued {
                if capacity - (state.pointee.queuedEvents - dropped) >= count
                    && capacityBytes - (state.pointee.queuedBytes - droppedBytes) >= bytes { break }
                dropped += 1
                droppedBytes += event.estimatedBytes
            }
            if dropped == queued.count {
                state.pointee.items.remove(at: index)
            } else {
                state.pointee.items[index] = .batch(Array(queued.dropFirst(dropped)), bytes: queuedBytes - droppedBytes)
                index += 1
            }
            state.pointee.queuedEvents -= dropped
            state.pointee.queuedBytes -= droppedBytes
            drop(queued.prefix(dropped), in: state)
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
            state.pointee.queuedBytes = 0
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
