import DequeModule
import Instrumentation
import ServiceLifecycle
import Tracing

/// Carries events from the hardening components to the sinks.
///
/// `emit` is synchronous, never throws, and is safe from any thread or task. It takes the
/// timestamp, appends to a bounded buffer under a short lock, and returns; it never does I/O.
/// A dedicated drain thread takes batches out of the buffer, numbers them (`seq`, from 1 per
/// run, with no hole), redacts secrets, and hands each batch to every sink's own queue. Each
/// sink runs on a thread of its own, so blocking I/O never runs on the Swift concurrency pool
/// and a sink that stalls (standard output that nobody reads) holds up only itself.
///
/// When the buffer is full, the ``OverflowPolicy`` decides; every dropped event is counted and
/// reported as a `bus.dropped` event. When a sink's queue is full, the drain waits for it while
/// it takes work (the bus's buffer fills behind it, and the bus's policy applies to the
/// producers). A durable sink (``EventSink/isDurable``: the files, the live summary) is waited
/// for however slow it is; any other is dropped for, alone, once it has taken nothing for
/// ``Configuration/sinkStallTimeout``, or at once while the bus's buffer is half full under a
/// dropping policy (so that a slow standard output never makes the bus drop for every sink).
/// ``Configuration/sinkOverflowPolicies`` sets another policy per sink. A sink's own drops are counted for it and reported as `sink.dropped`. ``flush()`` returns once everything emitted before it is on every
/// sink. As a swift-service-lifecycle `Service`, ``run()`` waits for graceful shutdown
/// (SIGTERM/SIGINT in a `ServiceGroup`) and then delivers and flushes everything before it
/// returns, within ``Configuration/shutdownTimeout`` whatever a sink does.
///
/// The drain thread starts with the bus and runs until ``shutdown()`` (which ``run()`` calls);
/// a bus that is never shut down keeps its threads, and whatever its sinks buffer, to the end of
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
        /// How many bytes (``Event/estimatedBytes``) the buffer holds before the overflow policy
        /// applies, whichever limit comes first: memory stays bounded whatever the events' size.
        public var capacityBytes: Int
        /// What `emit` does when the buffer is full.
        public var overflowPolicy: OverflowPolicy
        /// The most events handed to the sinks in one batch.
        public var maxBatchSize: Int
        /// How often sinks get a ``EventSink/tick(now:)`` for time-based work.
        public var tickInterval: Duration
        /// Removes secrets before events reach a sink; `nil` turns redaction off.
        public var redactor: Redactor?
        /// Where an event without ids gets `trace_id` and `span_id`: by default the emitting
        /// task's `ServiceContext` (``TraceContextProvider/serviceContext``), and with a
        /// ``tracer`` the ids it propagates for that context (``TraceContextProvider/tracing(_:)``).
        public var traceContext: TraceContextProvider
        /// The tracer through which the primitives that emit on this bus open spans (a span per
        /// guarded call, per retry attempt, per health probe; their decisions as span events);
        /// `nil` opens none and costs nothing. By default the tracer the application
        /// bootstrapped with `InstrumentationSystem.bootstrap` before making this configuration,
        /// if any (see ``bootstrappedTracer()``).
        public var tracer: (any Tracer)?
        /// How long the drain naps when it finds nothing, without asking emitters to wake it:
        /// waking a thread costs a system call of several microseconds, which `emit` must not
        /// pay on the hot path. An event waits at most this long before it reaches the sinks
        /// while the bus is busy. After ``deepSleepAfter`` empty naps in a row the drain sleeps
        /// until the next emit wakes it (or the tick interval passes).
        public var napInterval: Duration
        /// Empty naps in a row before the drain sleeps deeply.
        public var deepSleepAfter: Int
        /// How many delivered events each sink's own queue holds before its policy applies.
        public var sinkQueueCapacity: Int
        /// How many bytes (``Event/estimatedBytes``) each sink's own queue holds before its policy
        /// applies, whichever limit comes first.
        public var sinkQueueCapacityBytes: Int
        /// The overflow policy of a sink's queue, by sink ``EventSink/name``. A sink not named
        /// here makes the drain wait while it takes work (so that every sink keeps the same
        /// events, and the bus's own policy applies to the producers); one that is not durable
        /// drops its own events once it has taken nothing for ``sinkStallTimeout``, or while the
        /// bus's buffer is half full under a dropping ``overflowPolicy``. `["stdout": .dropNewest]` drops
        /// standard output's lines as soon as its reader falls behind; `.block` waits however long.
        public var sinkOverflowPolicies: [String: OverflowPolicy]
        /// How long a sink that is not durable (``EventSink/isDurable``) may take nothing under
        /// the default policy, while the drain waits for it, before its own events are dropped
        /// instead (counted, `sink.dropped`). A durable sink is never given up for being slow.
        public var sinkStallTimeout: Duration
        /// How long ``shutdown()`` may take: a sink still blocking the drain at half of it drops
        /// what it cannot take, and a sink that has not closed by the end is abandoned (its
        /// thread left to end with the process; what it had not written counted in
        /// ``SinkStatistics/abandoned``). It counts from ``beginShutdown()`` if that came first.
        public var shutdownTimeout: Duration
        /// How much of what happens becomes a line: the production detail (routine calls, probes
        /// and repeated warnings folded into window events) or every event, and the level of
        /// each kind (``EventVolume``).
        public var volume: EventVolume

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
            deepSleepAfter: Int = 100,
            sinkQueueCapacity: Int = 65_536,
            sinkOverflowPolicies: [String: OverflowPolicy] = [:],
            shutdownTimeout: Duration = .seconds(10),
            capacityBytes: Int = 2 << 20,
            sinkQueueCapacityBytes: Int = 2 << 20,
            sinkStallTimeout: Duration = .seconds(2),
            tracer: (any Tracer)? = Configuration.bootstrappedTracer(),
            volume: EventVolume = .production
        ) {
            self.volume = volume
            self.sinkStallTimeout = max(.milliseconds(1), sinkStallTimeout)
            self.service = service
            self.host = host ?? HostName.current()
            self.run = run
            self.capacity = max(1, capacity)
            self.overflowPolicy = overflowPolicy
            self.maxBatchSize = max(1, maxBatchSize)
            self.tickInterval = tickInterval
            self.redactor = redactor
            self.tracer = tracer
            if let tracer, traceContext.readsServiceContextOnly {
                self.traceContext = .tracing(tracer)
            } else {
                self.traceContext = traceContext
            }
            self.napInterval = napInterval
            self.deepSleepAfter = max(0, deepSleepAfter)
            self.sinkQueueCapacity = max(1, sinkQueueCapacity)
            self.capacityBytes = max(1, capacityBytes)
            self.sinkQueueCapacityBytes = max(1, sinkQueueCapacityBytes)
            self.sinkOverflowPolicies = sinkOverflowPolicies
            self.shutdownTimeout = max(.zero, shutdownTimeout)
        }

        /// The tracer bootstrapped with `InstrumentationSystem.bootstrap`, or `nil` if none was (the
        /// no-op tracer), so that spans cost nothing when nobody collects them.
        public static func bootstrappedTracer() -> (any Tracer)? {
            let tracer = InstrumentationSystem.tracer
            return tracer is NoOpTracer ? nil : tracer
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
        /// Events taken out of the buffer for the sinks: written alone, ``folded`` into a window
        /// or ``turnedOff`` (with every event written, the last `seq` once they are delivered).
        public var delivered: Int64
        /// Events waiting in the buffer.
        public var pending: Int
        /// Of the events delivered, those counted in a window event instead of written alone
        /// (the production detail of ``EventVolume``).
        public var folded: Int64 = 0
        /// Of the events delivered, those of a kind turned off (``EventVolume/kindLevels``).
        public var turnedOff: Int64 = 0
    }

    /// What one sink's queue has done.
    public struct SinkStatistics: Sendable, Hashable {
        /// The sink's name.
        public var name: String
        /// Events waiting in its queue.
        public var queued: Int
        /// Events its queue dropped under its overflow policy (reported as `sink.dropped`).
        public var dropped: Int64
        /// Events it never wrote because shutdown gave up on it.
        public var abandoned: Int64
        /// How long the sink call now running has taken (zero when it waits for work): a
        /// stalled sink shows here.
        public var busyFor: Duration
        /// Whether shutdown gave up on the sink.
        public var isAbandoned: Bool

        /// Creates statistics.
        public init(name: String, queued: Int, dropped: Int64, abandoned: Int64, busyFor: Duration, isAbandoned: Bool) {
            self.name = name
            self.queued = queued
            self.dropped = dropped
            self.abandoned = abandoned
            self.busyFor = busyFor
            self.isAbandoned = isAbandoned
        }
    }

    private enum Phase { case running, closing, closed }

    private struct State {
        var pending: Deque<Event>
        /// ``Event/estimatedBytes`` of `pending`.
        var pendingBytes = 0
        var reports: [Event] = []
        var droppedSinceReport: Int64 = 0
        var droppedTotal: Int64 = 0
        var accepted: Int64 = 0
        var rejectedAfterShutdown: Int64 = 0
        var delivered: Int64 = 0
        var folded: Int64 = 0
        var turnedOff: Int64 = 0
        var phase: Phase = .running
        var drainSleeping = false
        var blockedEmitters = 0
        var flushWaiters: [CheckedContinuation<Void, Never>] = []
        var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
        var thread: OSThread?
        var shutdownStarted: ContinuousClock.Instant?
    }

    /// The configuration the bus was made with.
    public let configuration: Configuration
    /// The sinks, in delivery order.
    public let sinks: [any EventSink]
    /// The clock that stamps events.
    public let clock: any WallClock
    /// The tracer the primitives open spans through (``Configuration/tracer``); `nil`: none.
    public let tracer: (any Tracer)?
    /// Whether ``tracer`` is set: what a primitive's inlined success path reads (one byte,
    /// where reading the optional existential costs a copy of it).
    @usableFromInline let opensSpans: Bool

    private let state: ConditionLock<State>
    private let lanes: [SinkLane]

    /// Creates the bus and starts its drain thread and a thread for every sink; each sink is
    /// started on its own thread before its first batch.
    public init(configuration: Configuration, sinks: [any EventSink], clock: any WallClock = SystemWallClock()) {
        self.configuration = configuration
        self.sinks = sinks
        self.clock = clock
        self.tracer = configuration.tracer
        self.opensSpans = configuration.tracer != nil
        self.lanes = sinks.map { sink in
            SinkLane(sink: sink, capacity: configuration.sinkQueueCapacity, capacityBytes: configuration.sinkQueueCapacityBytes,
                     policy: configuration.sinkOverflowPolicies[sink.name], stallTimeout: configuration.sinkStallTimeout)
        }
        var initial = State(pending: Deque())
        initial.pending.reserveCapacity(min(configuration.capacity, 4096))
        self.state = ConditionLock(initial)
        if configuration.overflowPolicy != .block {
            // Half full: a sink that is not durable stops holding the drain (its own overflow is
            // dropped, counted as sink.dropped) before the bus drops for every sink.
            for lane in lanes where !lane.isDurable {
                lane.watchBusPressure { [weak self] in self?.isHalfFull ?? false }
            }
        }
        let thread = OSThread(name: "hardening-bus") { [self] in self.drain() }
        state.withLock { $0.thread = thread }
    }

    // MARK: - Emitting

    /// Emits a typed event. Never blocks (unless the policy is ``OverflowPolicy/block``), never throws.
    @inlinable
    public func emit<P: EventPayload>(_ payload: P, level: EventLevel? = nil, message: String? = nil,
                                      traceID: String? = nil, spanID: String? = nil) {
        let ids = traceIDs(traceID, spanID)
        let attrs = payload.attributes
        if opensSpans { addSpanEvent(P.kind, attrs) }
        enqueue(Event(timestamp: clock.now(), level: level ?? payload.defaultLevel, kind: P.kind,
                      message: message ?? payload.message, traceID: ids.trace, spanID: ids.span, attrs: attrs))
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
        let capacityBytes = configuration.capacityBytes
        let policy = configuration.overflowPolicy
        let bytes = event.estimatedBytes
        var wake = false
        let accepted = state.withLockAndWaiter { state, waiter -> Bool in
            guard state.pointee.phase != .closed else {
                state.pointee.rejectedAfterShutdown += 1
                return false
            }
            // Full by count, or by bytes (an event larger than the whole budget still goes into an empty buffer).
            func isFull(_ state: UnsafeMutablePointer<State>) -> Bool {
                state.pointee.pending.count >= capacity
                    || (!state.pointee.pending.isEmpty && state.pointee.pendingBytes + bytes > capacityBytes)
            }
            if isFull(state) {
                switch policy {
                case .dropNewest:
                    state.pointee.droppedSinceReport += 1
                    state.pointee.droppedTotal += 1
                    return false
                case .dropOldest:
                    while isFull(state), let oldest = state.pointee.pending.popFirst() {
                        state.pointee.pendingBytes -= oldest.estimatedBytes
                        state.pointee.droppedSinceReport += 1
                        state.pointee.droppedTotal += 1
                    }
                case .block:
                    while isFull(state), state.pointee.phase != .closed {
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
            state.pointee.pendingBytes += bytes
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

    /// Whether the buffer holds half of its capacity, in events or bytes.
    private var isHalfFull: Bool {
        state.withLock { $0.pending.count * 2 >= configuration.capacity || $0.pendingBytes * 2 >= configuration.capacityBytes }
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

    /// Starts the shutdown clock (``Configuration/shutdownTimeout``) without closing anything:
    /// emitting still works, but a sink that blocks the drain is waited for only until half the
    /// timeout has passed. A producer that may be blocked in `emit` under the `block` policy calls
    /// it when graceful shutdown begins, so that a stalled sink cannot hold it (and with it the
    /// whole shutdown) forever. ``shutdown()`` calls it too.
    public func beginShutdown() {
        let started = state.withLock { state -> ContinuousClock.Instant in
            if let started = state.shutdownStarted { return started }
            let now = ContinuousClock.now
            state.shutdownStarted = now
            return now
        }
        let blockDeadline = started.advanced(by: configuration.shutdownTimeout / 2)
        for lane in lanes { lane.beginShutdown(blockUntil: blockDeadline) }
    }

    /// Delivers everything emitted so far, flushes and closes every sink, and stops the drain,
    /// within ``Configuration/shutdownTimeout`` (a sink that does not finish by then is
    /// abandoned and shown in ``sinkStatistics``). Events emitted afterwards are counted in
    /// ``Statistics/rejectedAfterShutdown``.
    public func shutdown() async {
        beginShutdown()
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

    /// What each sink's queue has done, in sink order.
    public var sinkStatistics: [SinkStatistics] { lanes.map(\.statistics) }

    /// What the bus has done so far.
    public var statistics: Statistics {
        state.withLock { state in
            Statistics(accepted: state.accepted, dropped: state.droppedTotal,
                       rejectedAfterShutdown: state.rejectedAfterShutdown,
                       delivered: state.delivered, pending: state.pending.count + state.reports.count,
                       folded: state.folded, turnedOff: state.turnedOff)
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
        for lane in lanes { lane.start(context: context) }
        let tickNanoseconds = max(1_000_000, configuration.tickInterval.nanoseconds)
        let napNanoseconds = min(tickNanoseconds, max(10_000, configuration.napInterval.nanoseconds))
        var emptyNaps = 0
        let maxBatch = configuration.maxBatchSize
        var seq: UInt64 = 0
        var redactionCache = Redactor.Cache()
        var lastTick = clock.now()
        var lastSinkDropReport = Timestamp(microsecondsSinceEpoch: 0)
        var closingRounds = 0
        var work = Work()
        // The production detail and kind levels; `nil` passes every event through as it is.
        var rollup = configuration.volume.passesEverything ? nil : Rollup(volume: configuration.volume, now: clock.now())
        var published = (folded: Int64(0), turnedOff: Int64(0))
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
                state.pointee.pendingBytes = 0
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
                var batch: [Event]
                if rollup != nil {
                    batch = []
                    batch.reserveCapacity(count)
                    for event in work.events.prefix(count) { rollup!.admit(event, into: &batch) }
                } else {
                    batch = Array(work.events.prefix(count))
                }
                work.events.removeFirst(count)
                if !batch.isEmpty { deliver(&batch, seq: &seq, redactionCache: &redactionCache) }
            }
            var batch: [Event] = []
            // A rotation ends the window, so that a window's calls are in the files next to it.
            var rotated = false
            if rollup != nil {
                for report in work.reports {
                    rotated = rotated || report.kind == .fileRotated
                    rollup!.admit(report, into: &batch)
                }
            } else {
                batch = work.reports
            }
            work.reports.removeAll(keepingCapacity: true)
            if work.dropped > 0 {
                let payload = BusDropped(count: work.dropped, totalDropped: work.droppedTotal,
                                         policy: configuration.overflowPolicy.rawValue)
                batch.append(Event(timestamp: clock.now(), level: payload.defaultLevel, kind: BusDropped.kind,
                                   message: payload.message, attrs: payload.attributes))
                work.dropped = 0
            }
            // A stalled sink drops in every round: one report a second per sink (and a last one
            // when closing) says the same with the counts summed.
            let sinceReport = clock.now().duration(since: lastSinkDropReport)
            let reportSinkDrops = work.closing || sinceReport >= Self.sinkDropReportInterval || sinceReport < .zero
            for lane in lanes where reportSinkDrops {
                guard let dropped = lane.takeDropped() else { continue }
                lastSinkDropReport = clock.now()
                // Counted as accepted and delivered, as the bus.dropped report is.
                state.withLock { state in
                    state.accepted += 1
                    state.delivered += 1
                }
                let payload = SinkDropped(sink: lane.sink.name, count: dropped.count, totalDropped: dropped.total,
                                          policy: lane.policy?.rawValue ?? "block_unless_stalled")
                batch.append(Event(timestamp: clock.now(), level: payload.defaultLevel, kind: SinkDropped.kind,
                                   message: payload.message, attrs: payload.attributes))
            }
            if !batch.isEmpty { deliver(&batch, seq: &seq, redactionCache: &redactionCache) }
            if rollup != nil {
                // Everything emitted before a flush is on the sinks after it: the open window too.
                let now = clock.now()
                if rotated || work.closing || !work.flushWaiters.isEmpty || rollup!.isWindowDue(at: now) {
                    var windows: [Event] = []
                    rollup!.closeWindow(at: now, into: &windows)
                    if !windows.isEmpty { deliver(&windows, seq: &seq, redactionCache: &redactionCache) }
                }
                if (rollup!.folded, rollup!.turnedOff) != published {
                    published = (rollup!.folded, rollup!.turnedOff)
                    state.withLock { state in
                        state.folded = published.folded
                        state.turnedOff = published.turnedOff
                    }
                }
            }
            let now = clock.now()
            if now.duration(since: lastTick) >= configuration.tickInterval || now < lastTick {
                lastTick = now
                for lane in lanes { lane.enqueueTick(now) }
            }
            if !work.flushWaiters.isEmpty || work.closing {
                let barrier = FlushBarrier(lanes: lanes, waiters: work.flushWaiters)
                work.flushWaiters.removeAll()
                for lane in lanes { lane.enqueueFlush(barrier) }
                // While closing, what sinks report as they flush (sink.failed, file.rotated) is
                // delivered in the next round: wait for the flush, as long as the timeout allows.
                if work.closing { barrier.wait(until: deadlines().block) }
            }
            if work.closing {
                // Events emitted while closing, and what sinks reported while flushing, are
                // delivered too, a bounded number of rounds.
                let more = state.withLock { !$0.pending.isEmpty || !$0.reports.isEmpty || $0.droppedSinceReport > 0 }
                closingRounds += 1
                if more && closingRounds < 8 { continue }
                close()
                return
            }
        }
    }

    /// How often a sink whose queue keeps dropping is reported (`sink.dropped`).
    static let sinkDropReportInterval: Duration = .seconds(1)

    /// When a stalled sink stops blocking the drain, and when shutdown gives up on a sink.
    private func deadlines() -> (block: ContinuousClock.Instant, finish: ContinuousClock.Instant) {
        let started = state.withLock { $0.shutdownStarted } ?? .now
        return (started.advanced(by: configuration.shutdownTimeout / 2), started.advanced(by: configuration.shutdownTimeout))
    }

    /// Closes every sink (all at once, each on its own thread), waits for them until the
    /// shutdown deadline, and wakes everyone waiting on the bus.
    private func close() {
        for lane in lanes { lane.requestClose() }
        let finish = deadlines().finish
        for lane in lanes { _ = lane.awaitFinished(until: finish) }
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.phase = .closed
            let waiters = state.shutdownWaiters + state.flushWaiters
            state.shutdownWaiters.removeAll()
            state.flushWaiters.removeAll()
            state.rejectedAfterShutdown += Int64(state.pending.count + state.reports.count)
            state.pending.removeAll()
            state.pendingBytes = 0
            state.reports.removeAll()
            return waiters
        }
        state.broadcast(.second)
        for waiter in waiters { waiter.resume() }
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
        // Every lane gets the same storage: nothing is copied per sink.
        var bytes = 0
        for event in events { bytes += event.estimatedBytes }
        for lane in lanes { lane.enqueue(events, bytes: bytes) }
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
