import DequeModule
import ServiceLifecycle

/// Carries events from the hardening components to the sinks.
///
/// `emit` is synchronous, never throws, and is safe from any thread or task. It takes the
/// timestamp, appends to a bounded buffer under a short lock, and returns; it never does I/O.
/// A dedicated drain thread takes batches out of the buffer, numbers them (`seq`, from 1 per
/// run, with no hole), redacts secrets, and hands each batch to every sink in turn. Blocking
/// I/O therefore never runs on the Swift concurrency pool.
///
/// When the buffer is full, the ``OverflowPolicy`` decides; every dropped event is counted and
/// reported as a `bus.dropped` event. ``flush()`` returns once everything emitted before it is on
/// every sink. As a swift-service-lifecycle `Service`, ``run()`` waits for graceful shutdown
/// (SIGTERM/SIGINT in a `ServiceGroup`) and then delivers and flushes everything before it
/// returns.
///
/// The drain thread starts with the bus and runs until ``shutdown()`` (which ``run()`` calls);
/// a bus that is never shut down keeps its thread, and whatever its sinks buffer, to the end of
/// the process.
public final class EventBus: Service, Sendable {
    /// How the bus is set up.
    public struct Configuration: Sendable {
        /// The `service` field of every event.
        public var service: String
        /// The `host` field of every event.
        public var host: String
        /// The `run` field of every event: a random id per process start.
        public var run: String
        /// How many events the buffer holds before the overflow policy applies.
        public var capacity: Int
        /// What `emit` does when the buffer is full.
        public var overflowPolicy: OverflowPolicy
        /// The most events handed to the sinks in one batch.
        public var maxBatchSize: Int
        /// How often sinks get a ``EventSink/tick(now:)`` for time-based work.
        public var tickInterval: Duration
        /// Removes secrets before events reach a sink; `nil` turns redaction off.
        public var redactor: Redactor?
        /// Where an event without ids gets `trace_id` and `span_id`: by default the emitting
        /// task's `ServiceContext` (``TraceContextProvider/serviceContext``).
        public var traceContext: TraceContextProvider
        /// How long the drain naps when it finds nothing, without asking emitters to wake it:
        /// waking a thread costs a system call of several microseconds, which `emit` must not
        /// pay on the hot path. An event waits at most this long before it reaches the sinks
        /// while the bus is busy. After ``deepSleepAfter`` empty naps in a row the drain sleeps
        /// until the next emit wakes it (or the tick interval passes).
        public var napInterval: Duration
        /// Empty naps in a row before the drain sleeps deeply.
        public var deepSleepAfter: Int

        /// Creates a configuration; `host` defaults to the machine's host name.
        public init(
            service: String,
            host: String? = nil,
            run: String = RunID.random(),
            capacity: Int = 65_536,
            overflowPolicy: OverflowPolicy = .dropNewest,
            maxBatchSize: Int = 4096,
            tickInterval: Duration = .milliseconds(100),
            redactor: Redactor? = Redactor(),
            traceContext: TraceContextProvider = .serviceContext,
            napInterval: Duration = .milliseconds(1),
            deepSleepAfter: Int = 100
        ) {
            self.service = service
            self.host = host ?? HostName.current()
            self.run = run
            self.capacity = max(1, capacity)
            self.overflowPolicy = overflowPolicy
            self.maxBatchSize = max(1, maxBatchSize)
            self.tickInterval = tickInterval
            self.redactor = redactor
            self.traceContext = traceContext
            self.napInterval = napInterval
            self.deepSleepAfter = max(0, deepSleepAfter)
        }
    }

    /// Counters of what the bus has done.
    public struct Statistics: Sendable, Hashable {
        /// Events accepted into the buffer (including sink reports and `bus.dropped` events).
        public var accepted: Int64
        /// Events dropped by the overflow policy.
        public var dropped: Int64
        /// Events emitted after shutdown finished, which nothing can deliver.
        public var rejectedAfterShutdown: Int64
        /// Events taken out of the buffer for the sinks (the last `seq` once they are delivered).
        public var delivered: Int64
        /// Events waiting in the buffer.
        public var pending: Int
    }

    private enum Phase { case running, closing, closed }

    private struct State {
        var pending: Deque<Event>
        var reports: [Event] = []
        var droppedSinceReport: Int64 = 0
        var droppedTotal: Int64 = 0
        var accepted: Int64 = 0
        var rejectedAfterShutdown: Int64 = 0
        var delivered: Int64 = 0
        var phase: Phase = .running
        var drainSleeping = false
        var blockedEmitters = 0
        var flushWaiters: [CheckedContinuation<Void, Never>] = []
        var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
        var thread: OSThread?
    }

    /// The configuration the bus was made with.
    public let configuration: Configuration
    /// The sinks, in delivery order.
    public let sinks: [any EventSink]
    /// The clock that stamps events.
    public let clock: any WallClock

    private let state: ConditionLock<State>

    /// Creates the bus and starts its drain thread; sinks are started on it before the first batch.
    public init(configuration: Configuration, sinks: [any EventSink], clock: any WallClock = SystemWallClock()) {
        self.configuration = configuration
        self.sinks = sinks
        self.clock = clock
        var initial = State(pending: Deque())
        initial.pending.reserveCapacity(min(configuration.capacity, 65_536))
        self.state = ConditionLock(initial)
        let thread = OSThread(name: "hardening-bus") { [self] in self.drain() }
        state.withLock { $0.thread = thread }
    }

    // MARK: - Emitting

    /// Emits a typed event. Never blocks (unless the policy is ``OverflowPolicy/block``), never throws.
    @inlinable
    public func emit<P: EventPayload>(_ payload: P, level: EventLevel? = nil, message: String? = nil,
                                      traceID: String? = nil, spanID: String? = nil) {
        let ids = traceIDs(traceID, spanID)
        enqueue(Event(timestamp: clock.now(), level: level ?? payload.defaultLevel, kind: P.kind,
                      message: message ?? payload.message, traceID: ids.trace, spanID: ids.span, attrs: payload.attributes))
    }

    /// Emits an event of any kind with the given attrs.
    @inlinable
    public func emit(_ level: EventLevel, _ kind: EventKind, message: String, attrs: Attributes = Attributes(),
                     traceID: String? = nil, spanID: String? = nil) {
        let ids = traceIDs(traceID, spanID)
        enqueue(Event(timestamp: clock.now(), level: level, kind: kind, message: message,
                      traceID: ids.trace, spanID: ids.span, attrs: attrs))
    }

    /// The ids given, else those of the emitting task's trace context (looked up before the
    /// event is built, so that it is built once).
    @usableFromInline
    func traceIDs(_ traceID: String?, _ spanID: String?) -> (trace: String?, span: String?) {
        if traceID != nil { return (traceID, spanID) }
        guard let trace = configuration.traceContext.current() else { return (nil, nil) }
        return (trace.traceID, trace.spanID)
    }

    /// Emits a prepared event. Its `timestamp` is kept; `service`, `host`, `run` and `seq` are
    /// set on delivery. Returns whether the event was accepted into the buffer.
    @discardableResult
    public func emit(_ event: Event) -> Bool {
        // Copying an event costs a retain per field: only a prepared event that gets ids is copied.
        if event.traceID == nil, let trace = configuration.traceContext.current() {
            var traced = event
            traced.traceID = trace.traceID
            traced.spanID = trace.spanID
            return enqueue(traced)
        }
        return enqueue(event)
    }

    /// Appends an event whose ids are settled.
    @usableFromInline @discardableResult
    func enqueue(_ event: Event) -> Bool {
        let capacity = configuration.capacity
        let policy = configuration.overflowPolicy
        var wake = false
        let accepted = state.withLockAndWaiter { state, waiter -> Bool in
            guard state.pointee.phase != .closed else {
                state.pointee.rejectedAfterShutdown += 1
                return false
            }
            if state.pointee.pending.count >= capacity {
                switch policy {
                case .dropNewest:
                    state.pointee.droppedSinceReport += 1
                    state.pointee.droppedTotal += 1
                    return false
                case .dropOldest:
                    state.pointee.pending.removeFirst()
                    state.pointee.droppedSinceReport += 1
                    state.pointee.droppedTotal += 1
                case .block:
                    while state.pointee.pending.count >= capacity, state.pointee.phase != .closed {
                        state.pointee.blockedEmitters += 1
                        waiter.wait(.second)
                        state.pointee.blockedEmitters -= 1
                    }
                    guard state.pointee.phase != .closed else {
                        state.pointee.rejectedAfterShutdown += 1
                        return false
                    }
                }
            }
            state.pointee.pending.append(event)
            state.pointee.accepted += 1
            if state.pointee.drainSleeping {
                state.pointee.drainSleeping = false
                wake = true
            }
            return true
        }
        if wake { self.state.signal(.first) }
        return accepted
    }

    /// Reports an event from a sink; bypasses the capacity and never blocks.
    private func report(_ event: Event) {
        state.withLock { state in
            guard state.phase != .closed else {
                state.rejectedAfterShutdown += 1
                return
            }
            state.reports.append(event)
            state.accepted += 1
        }
    }

    // MARK: - Flush and shutdown

    /// Returns once every event emitted before the call is on every sink and the sinks have
    /// flushed.
    public func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let closed = state.withLock { state -> Bool in
                guard state.phase != .closed else { return true }
                state.flushWaiters.append(continuation)
                state.drainSleeping = false
                return false
            }
            if closed { continuation.resume() } else { state.signal(.first) }
        }
    }

    /// Delivers everything emitted so far, flushes and closes every sink, and stops the drain.
    /// Events emitted afterwards are counted in ``Statistics/rejectedAfterShutdown``.
    public func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let closed = state.withLock { state -> Bool in
                guard state.phase != .closed else { return true }
                state.phase = .closing
                state.shutdownWaiters.append(continuation)
                state.drainSleeping = false
                return false
            }
            if closed { continuation.resume() } else {
                state.signal(.first)
                state.broadcast(.second)
            }
        }
        let thread = state.withLock { state -> OSThread? in
            defer { state.thread = nil }
            return state.thread
        }
        thread?.join()
    }

    /// Waits for graceful shutdown (or cancellation), then shuts down: every event emitted
    /// before then reaches every sink.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// What the bus has done so far.
    public var statistics: Statistics {
        state.withLock { state in
            Statistics(accepted: state.accepted, dropped: state.droppedTotal,
                       rejectedAfterShutdown: state.rejectedAfterShutdown,
                       delivered: state.delivered, pending: state.pending.count + state.reports.count)
        }
    }

    // MARK: - The drain thread

    private struct Work {
        var events: Deque<Event> = []
        var reports: [Event] = []
        var dropped: Int64 = 0
        var droppedTotal: Int64 = 0
        var flushWaiters: [CheckedContinuation<Void, Never>] = []
        var closing = false
    }

    private func drain() {
        let context = SinkContext(clock: clock, run: configuration.run, service: configuration.service,
                                  host: configuration.host, reporter: { [weak self] in self?.report($0) })
        for sink in sinks { sink.start(context: context) }
        let tickNanoseconds = max(1_000_000, configuration.tickInterval.nanoseconds)
        let napNanoseconds = min(tickNanoseconds, max(10_000, configuration.napInterval.nanoseconds))
        var emptyNaps = 0
        let maxBatch = configuration.maxBatchSize
        var seq: UInt64 = 0
        var redactionCache = Redactor.Cache()
        var lastTick = clock.now()
        var closingRounds = 0
        var work = Work()
        var batch: [Event] = []
        batch.reserveCapacity(maxBatch)
        while true {
            var wakeBlocked = false
            // Under the lock only swap buffers (O(1)), so that emitters never wait for a copy.
            state.withLockAndWaiter { state, waiter in
                if state.pointee.pending.isEmpty, state.pointee.reports.isEmpty, state.pointee.droppedSinceReport == 0,
                    state.pointee.flushWaiters.isEmpty, state.pointee.phase == .running
                {
                    if emptyNaps < configuration.deepSleepAfter {
                        // A nap nobody needs to interrupt: emitters do not signal.
                        emptyNaps += 1
                        waiter.wait(.first, nanoseconds: napNanoseconds)
                    } else {
                        state.pointee.drainSleeping = true
                        waiter.wait(.first, nanoseconds: tickNanoseconds)
                        state.pointee.drainSleeping = false
                    }
                }
                if !state.pointee.pending.isEmpty { emptyNaps = 0 }
                swap(&work.events, &state.pointee.pending)
                swap(&work.reports, &state.pointee.reports)
                if state.pointee.droppedSinceReport > 0 {
                    work.dropped = state.pointee.droppedSinceReport
                    work.droppedTotal = state.pointee.droppedTotal
                    state.pointee.droppedSinceReport = 0
                    state.pointee.accepted += 1
                }
                swap(&work.flushWaiters, &state.pointee.flushWaiters)
                state.pointee.delivered += Int64(work.events.count + work.reports.count) + (work.dropped > 0 ? 1 : 0)
                work.closing = state.pointee.phase == .closing
                wakeBlocked = state.pointee.blockedEmitters > 0
            }
            if wakeBlocked { state.broadcast(.second) }
            while !work.events.isEmpty {
                let count = min(maxBatch, work.events.count)
                batch.append(contentsOf: work.events.prefix(count))
                work.events.removeFirst(count)
                deliver(&batch, seq: &seq, redactionCache: &redactionCache)
                batch.removeAll(keepingCapacity: true)
            }
            batch.append(contentsOf: work.reports)
            work.reports.removeAll(keepingCapacity: true)
            if work.dropped > 0 {
                let payload = BusDropped(count: work.dropped, totalDropped: work.droppedTotal,
                                         policy: configuration.overflowPolicy.rawValue)
                batch.append(Event(timestamp: clock.now(), level: payload.defaultLevel, kind: BusDropped.kind,
                                   message: payload.message, attrs: payload.attributes))
                work.dropped = 0
            }
            if !batch.isEmpty {
                deliver(&batch, seq: &seq, redactionCache: &redactionCache)
                batch.removeAll(keepingCapacity: true)
            }
            let now = clock.now()
            if now.duration(since: lastTick) >= configuration.tickInterval || now < lastTick {
                lastTick = now
                for sink in sinks { sink.tick(now: now) }
            }
            if !work.flushWaiters.isEmpty || work.closing {
                for sink in sinks { sink.flush() }
                for waiter in work.flushWaiters { waiter.resume() }
                work.flushWaiters.removeAll()
            }
            if work.closing {
                // Events emitted while closing, and what sinks reported while flushing
                // (sink.failed, file.rotated), are delivered too, a bounded number of rounds.
                let more = state.withLock { !$0.pending.isEmpty || !$0.reports.isEmpty || $0.droppedSinceReport > 0 }
                closingRounds += 1
                if more && closingRounds < 8 { continue }
                for sink in sinks { sink.close() }
                let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                    state.phase = .closed
                    let waiters = state.shutdownWaiters + state.flushWaiters
                    state.shutdownWaiters.removeAll()
                    state.flushWaiters.removeAll()
                    state.rejectedAfterShutdown += Int64(state.pending.count + state.reports.count)
                    state.pending.removeAll()
                    state.reports.removeAll()
                    return waiters
                }
                state.broadcast(.second)
                for waiter in waiters { waiter.resume() }
                return
            }
        }
    }

    private func deliver(_ events: inout [Event], seq: inout UInt64, redactionCache: inout Redactor.Cache) {
        let service = configuration.service
        let host = configuration.host
        let run = configuration.run
        let redactor = configuration.redactor
        for index in events.indices {
            seq += 1
            events[index].seq = seq
            events[index].service = service
            events[index].host = host
            events[index].run = run
            redactor?.redact(&events[index], cache: &redactionCache)
        }
        for sink in sinks { sink.write(events) }
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating.
    package var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return product.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
