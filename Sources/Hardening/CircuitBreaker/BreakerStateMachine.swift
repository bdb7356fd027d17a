/// The breaker's state as a plain value, driven by admissions, outcomes and a monotonic time
/// (a `Duration` since the breaker's creation, so that the machine is not generic over a clock:
/// generic state would cost a runtime metadata lookup on every call).
///
/// Every method returns what changed (a ``Transition``) instead of emitting it, so that the
/// owner emits events after releasing its lock.
struct BreakerStateMachine: Sendable {
    typealias Instant = Duration

    struct Transition: Sendable, Hashable {
        var from: CircuitBreakerState
        var to: CircuitBreakerState
        var reason: String
        var failures: Int
        var successes: Int
    }

    enum Admission: Sendable {
        case admitted(generation: UInt64)
        case rejected(CircuitBreakerState, retryAfter: Duration?)
    }

    enum Outcome: Sendable {
        case success
        case failure
        case ignored
    }

    let configuration: CircuitBreakerConfiguration
    private(set) var state: CircuitBreakerState = .closed
    private(set) var generation: UInt64 = 0
    private(set) var consecutiveFailures = 0
    private(set) var successes = 0
    private(set) var failures = 0
    private var window: [(at: Instant, failed: Bool)] = []
    private var openUntil: Instant?
    private var openDuration: Duration
    private var halfOpenSince: Instant?
    private var permitsInUse = 0
    private var trialSuccesses = 0

    init(configuration: CircuitBreakerConfiguration) {
        self.configuration = configuration
        self.openDuration = configuration.recoveryTimeout
    }

    /// Calls in the failure-rate window (for snapshots).
    var windowCalls: Int { window.count }
    /// Failures in the failure-rate window.
    var windowFailures: Int { window.reduce(0) { $0 + ($1.failed ? 1 : 0) } }

    /// The bits of a generation that calls carry (the fast path packs them into one word).
    static let generationMask: UInt64 = 0x7FFF_FFFF

    static func sameGeneration(_ a: UInt64, _ b: UInt64) -> Bool { a & generationMask == b & generationMask }

    /// Whether a call may be admitted, and its success recorded, without the lock: closed, in
    /// consecutive-failure mode, with no failure pending (a success then changes nothing but
    /// the success count).
    var admitsWithoutLock: Bool {
        guard state == .closed, consecutiveFailures == 0, case .consecutiveFailures = configuration.trip else { return false }
        return true
    }

    /// Adds successes counted without the lock in generation `callGeneration`.
    mutating func absorbSuccesses(_ count: Int, generation callGeneration: UInt64) {
        guard count > 0, state == .closed, Self.sameGeneration(callGeneration, generation) else { return }
        successes += count
    }

    /// Admits a call without needing the time, when the state alone decides (closed or
    /// disabled); `nil` when the time matters.
    mutating func acquireWithoutTime() -> Admission? {
        state == .closed || state == .disabled ? .admitted(generation: generation) : nil
    }

    /// Whether recording a success may need the time: in failure-rate mode a success can complete
    /// the minimum number of calls and open the breaker; consecutive mode never opens on one.
    var successNeedsTime: Bool {
        if case .failureRate = configuration.trip { return true }
        return false
    }

    mutating func acquire(now: Instant) -> (Admission, Transition?) {
        var transition: Transition?
        if state == .open, let until = openUntil, now >= until {
            transition = move(to: .halfOpen, reason: "recovery_timeout", now: now)
        }
        if state == .halfOpen, let since = halfOpenSince, now - since >= configuration.maxHalfOpenDuration,
            permitsInUse > 0
        {
            // Trials never came back (a permit leaked or calls hang): reopen rather than stay stuck.
            transition = move(to: .open, reason: "half_open_timeout", now: now)
        }
        switch state {
        case .closed, .disabled:
            return (.admitted(generation: generation), transition)
        case .open:
            return (.rejected(.open, retryAfter: openUntil.map { max(.zero, $0 - now) }), transition)
        case .isolated:
            return (.rejected(.isolated, retryAfter: nil), transition)
        case .halfOpen:
            guard permitsInUse < configuration.halfOpenPermits else {
                return (.rejected(.halfOpen, retryAfter: .zero), transition)
            }
            permitsInUse += 1
            return (.admitted(generation: generation), transition)
        }
    }

    mutating func record(_ outcome: Outcome, generation callGeneration: UInt64, now: Instant) -> Transition? {
        // A result of a call admitted before the last transition says nothing about now.
        guard Self.sameGeneration(callGeneration, generation), state != .disabled, state != .isolated, state != .open else { return nil }
        switch state {
        case .halfOpen:
            permitsInUse = max(0, permitsInUse - 1)
            switch outcome {
            case .ignored: return nil
            case .failure:
                failures += 1
                openDuration = min(configuration.maxOpenDuration, openDuration * configuration.openDurationMultiplier)
                return move(to: .open, reason: "trial_failed", now: now)
            case .success:
                successes += 1
                trialSuccesses += 1
                if trialSuccesses >= configuration.halfOpenPermits {
                    openDuration = configuration.recoveryTimeout
                    return move(to: .closed, reason: "trial_succeeded", now: now)
                }
                return nil
            }
        case .closed:
            switch outcome {
            case .ignored: return nil
            case .success:
                successes += 1
                consecutiveFailures = 0
            case .failure:
                failures += 1
                consecutiveFailures += 1
            }
            switch configuration.trip {
            case .consecutiveFailures(let threshold):
                if consecutiveFailures >= max(1, threshold) {
                    return move(to: .open, reason: "failure_threshold", now: now)
                }
            case .failureRate(let threshold, let shape, let minimumCalls):
                window.append((now, outcome == .failure))
                switch shape {
                case .count(let size): if window.count > max(1, size) { window.removeFirst(window.count - max(1, size)) }
                case .time(let span): window.removeAll { now - $0.at > span }
                }
                let calls = window.count
                if calls >= max(1, minimumCalls), Double(windowFailures) / Double(calls) >= threshold {
                    return move(to: .open, reason: "failure_rate", now: now)
                }
            }
            return nil
        default:
            return nil
        }
    }

    /// Manual control: `.open` (force open), `.isolated`, `.disabled`, or `.closed` (reset).
    mutating func force(_ target: CircuitBreakerState, now: Instant) -> Transition? {
        guard target != state || target == .closed else { return nil }
        let reason: String
        switch target {
        case .open: reason = "forced_open"
        case .isolated: reason = "isolated"
        case .disabled: reason = "disabled"
        case .closed: reason = "reset"
        case .halfOpen: return nil
        }
        openDuration = configuration.recoveryTimeout
        if target == .closed && state == .closed {
            consecutiveFailures = 0
            successes = 0
            failures = 0
            window.removeAll()
            generation &+= 1
            return nil
        }
        return move(to: target, reason: reason, now: now)
    }

    /// Changes state, reports the counts before the reset, and starts a new generation.
    private mutating func move(to target: CircuitBreakerState, reason: String, now: Instant) -> Transition {
        let transition = Transition(from: state, to: target, reason: reason, failures: failures, successes: successes)
        state = target
        generation &+= 1
        consecutiveFailures = 0
        successes = 0
        failures = 0
        window.removeAll()
        permitsInUse = 0
        trialSuccesses = 0
        openUntil = target == .open ? now + openDuration : nil
        halfOpenSince = target == .halfOpen ? now : nil
        return transition
    }

    /// When an open breaker admits trials again.
    var reopensAt: Instant? { openUntil }
}
