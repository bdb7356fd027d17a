/// The production detail (``EventVolume``), between the bus's buffer and the numbering of
/// events: decides which events are written alone and folds the rest into the window events.
/// Used on the bus's drain thread only, so it needs no lock and costs `emit` nothing.
struct Rollup {
    private struct RepeatKey: Hashable {
        var kind: EventKind
        var subject: Attributes
    }

    /// The longest bucket text of one window event: a line stays well under the stdout sink's
    /// 16 KiB (Docker and containerd split longer lines).
    static let maxBucketBytes = 8_000
    /// The most operations, checks and repeated subjects one window folds (each holds a
    /// histogram of about 60 KB): beyond, an event of a new one is written in full, so that
    /// names made per request cannot make the window grow without bound.
    static let maxKeysPerWindow = 1_024

    private let volume: EventVolume
    /// When the current window began.
    private(set) var windowStart: Timestamp
    private var timing: [String: TimingAccumulator] = [:]
    private var health: [String: HealthAccumulator] = [:]
    /// The status of each check's latest probe, written or folded.
    private var probeStatus: [String: String] = [:]
    private var repeats: [RepeatKey: RepeatState] = [:]
    private var context: TraceContextBuffer
    /// Events counted in a window instead of written alone.
    private(set) var folded: Int64 = 0
    /// Events of a kind turned off.
    private(set) var turnedOff: Int64 = 0

    init(volume: EventVolume, now: Timestamp) {
        self.volume = volume
        windowStart = now
        context = TraceContextBuffer(perTrace: volume.contextEvents, maxAge: volume.contextAge, capacity: volume.contextCapacity)
    }

    /// The kinds that record a failed call: written alone, they bring their trace's context.
    private static let failureKinds: Set<EventKind> = [
        .retryAttemptFailed, .retryExhausted, .timeoutFired, .breakerRejected, .bulkheadRejected, .rateLimiterRejected,
        .fallbackUsed, .errorRecorded,
    ]

    // MARK: - Admitting events

    /// Takes one event, not yet numbered, and appends to `output` what is to be written now: the
    /// event, the context of its trace and then the event, or nothing (folded, held back or off).
    mutating func admit(_ event: Event, into output: inout [Event]) {
        var event = event
        if !volume.kindLevels.isEmpty, let setting = volume.kindLevels[event.kind] {
            guard case .level(let level) = setting else {
                turnedOff += 1
                return
            }
            event.level = level
        }
        guard volume.detail == .production else { return output.append(event) }
        switch event.kind {
        case .timingRecorded:
            admitTiming(event, into: &output)
        case .healthProbed:
            admitProbe(event, into: &output)
        case .breakerStateChanged:
            // What the breaker rejected before it changed comes before the change.
            if let breaker = event.attrs["breaker"]?.stringValue { releaseRejections(of: breaker, into: &output) }
            output.append(event)
        default:
            if let subject = RepeatSubject.subject(of: event) {
                admitRepeat(event, key: RepeatKey(kind: event.kind, subject: subject), into: &output)
            } else {
                write(event, isFailure: Self.failureKinds.contains(event.kind), into: &output)
            }
        }
    }

    private mutating func admitTiming(_ event: Event, into output: inout [Event]) {
        guard let call = try? TimingRecorded(attributes: event.attrs), !call.inWindow else { return output.append(event) }
        let failed = call.outcome != TimingRecorded.Outcome.success
        if call.slow { return write(event, isFailure: failed, into: &output) }
        guard failed else {
            guard timing[call.operation] != nil || timing.count < Self.maxKeysPerWindow else { return output.append(event) }
            timing[call.operation, default: TimingAccumulator()].add(call)
            folded += 1
            if event.traceID != nil { context.keep(event) }
            return
        }
        let subject = Attributes(uniqueKeysWithValues: [("operation", .string(call.operation)), ("outcome", .string(call.outcome))])
        admitRepeat(event, key: RepeatKey(kind: .timingRecorded, subject: subject), into: &output)
    }

    private mutating func admitProbe(_ event: Event, into output: inout [Event]) {
        guard let probe = try? HealthProbed(attributes: event.attrs) else { return output.append(event) }
        guard probeStatus[probe.check] == probe.status,
            health[probe.check] != nil || health.count < Self.maxKeysPerWindow
        else {
            if probeStatus.count < 16 * Self.maxKeysPerWindow || probeStatus[probe.check] != nil { probeStatus[probe.check] = probe.status }
            return output.append(event)
        }
        health[probe.check, default: HealthAccumulator()].add(probe, at: event.timestamp)
        folded += 1
    }

    /// The first of a window is written; each later one is held back until the next comes (then
    /// it is folded) or the window ends (then it is written, the last).
    private mutating func admitRepeat(_ event: Event, key: RepeatKey, into output: inout [Event]) {
        guard repeats[key] != nil || repeats.count < Self.maxKeysPerWindow else {
            return write(event, isFailure: isFailure(event), into: &output)
        }
        var state = repeats[key] ?? RepeatState(subject: key.subject)
        if !state.firstWritten {
            state.firstWritten = true
            repeats[key] = state
            return write(event, isFailure: isFailure(event), into: &output)
        }
        if let held = state.held { foldRepeat(held, into: &state) }
        state.held = event
        repeats[key] = state
    }

    private mutating func foldRepeat(_ event: Event, into state: inout RepeatState) {
        folded += 1
        if event.kind == .timingRecorded, let call = try? TimingRecorded(attributes: event.attrs) {
            timing[call.operation, default: TimingAccumulator()].add(call)
        } else {
            state.fold(event)
        }
    }

    /// Writes the rejections held back for `breaker`; its next rejection is a first again.
    private mutating func releaseRejections(of breaker: String, into output: inout [Event]) {
        for (key, state) in repeats where key.kind == .breakerRejected && key.subject["breaker"]?.stringValue == breaker {
            var state = state
            if let held = state.held { write(held, isFailure: true, into: &output) }
            state.held = nil
            state.firstWritten = false
            repeats[key] = state
        }
    }

    private func isFailure(_ event: Event) -> Bool {
        event.kind == .timingRecorded || Self.failureKinds.contains(event.kind)
    }

    /// Appends `event`, after its trace's context when it records a failure.
    private mutating func write(_ event: Event, isFailure: Bool, into output: inout [Event]) {
        if isFailure, context.count > 0, let trace = event.traceID {
            for var earlier in context.take(trace, at: event.timestamp) {
                earlier.attrs.appendUnchecked("in_window", .bool(true))
                output.append(earlier)
            }
        }
        output.append(event)
    }

    // MARK: - Windows

    /// Whether the current window has lasted its interval (or the clock stepped back).
    func isWindowDue(at now: Timestamp) -> Bool {
        now < windowStart || now.duration(since: windowStart) >= volume.windowInterval
    }

    /// Ends the current window: appends the repeats held back (oldest first) and then the window
    /// events, and starts the next window at `now`.
    mutating func closeWindow(at now: Timestamp, into output: inout [Event]) {
        defer {
            timing.removeAll(keepingCapacity: true)
            health.removeAll(keepingCapacity: true)
            repeats.removeAll(keepingCapacity: true)
            windowStart = now
            context.forget(before: now)
        }
        guard volume.detail == .production else { return }
        let lasts = repeats.values.compactMap(\.held).sorted { $0.timestamp < $1.timestamp }
        for held in lasts { write(held, isFailure: isFailure(held), into: &output) }
        for operation in timing.keys.sorted() {
            for payload in timing[operation]!.payloads(operation: operation, windowStart: windowStart, maxBucketBytes: Self.maxBucketBytes) {
                append(payload, level: payload.defaultLevel, at: now, to: &output)
            }
        }
        for check in health.keys.sorted() {
            for payload in health[check]!.payloads(check: check, windowStart: windowStart, maxBucketBytes: Self.maxBucketBytes) {
                append(payload, level: payload.defaultLevel, at: now, to: &output)
            }
        }
        let counted = repeats.filter { $0.value.count > 0 }.sorted { ($0.key.kind, $0.value.firstAt) < ($1.key.kind, $1.value.firstAt) }
        for (key, state) in counted { append(state.payload(kind: key.kind), level: state.level, at: now, to: &output) }
    }

    private func append<P: EventPayload>(_ payload: P, level: EventLevel, at now: Timestamp, to output: inout [Event]) {
        var level = level
        if let setting = volume.kindLevels[P.kind] {
            guard case .level(let chosen) = setting else { return }
            level = chosen
        }
        output.append(Event(timestamp: now, level: level, kind: P.kind, message: payload.message, attrs: payload.attributes))
    }
}
