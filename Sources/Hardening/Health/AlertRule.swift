/// When a health check's failures become an alert, and when the alert ends: after N failures in
/// a row, or when failures reach a share of the last probes; resolved after M successes in a row.
public struct AlertRule: Sendable, Hashable {
    /// What makes the alert fire.
    public enum Trigger: Sendable, Hashable {
        /// This many failed probes in a row.
        case consecutiveFailures(Int)
        /// At least `ratio` (0…1) of the last `window` probes failed, once `minimumProbes` were seen.
        case failureRatio(Double, window: Int, minimumProbes: Int)
    }

    /// The rule's name in events (`consecutive_failures`, `error_rate`, …).
    public var name: String
    /// What makes it fire.
    public var trigger: Trigger
    /// Successes in a row that resolve a firing alert.
    public var resolveAfterSuccesses: Int

    /// Creates a rule.
    public init(name: String, trigger: Trigger, resolveAfterSuccesses: Int = 2) {
        self.name = name
        self.trigger = trigger
        self.resolveAfterSuccesses = max(1, resolveAfterSuccesses)
    }
}

/// The state of one rule for one check: fed probe outcomes in order, it says when the alert
/// fires and when it resolves. A plain value; ``HealthAlerts`` keeps one per rule and check.
public struct AlertState: Sendable, Hashable {
    /// What changed.
    public enum Change: Sendable, Hashable {
        /// The alert started.
        case fired(AlertFired)
        /// The alert ended.
        case resolved(AlertResolved)
    }

    /// The rule.
    public let rule: AlertRule
    /// The check.
    public let check: String
    /// Whether the alert is firing.
    public private(set) var firing = false
    private var consecutiveFailures = 0
    private var consecutiveSuccesses = 0
    private var recent: [Bool] = []
    private var firedAt: Timestamp?

    /// A quiet state.
    public init(rule: AlertRule, check: String) {
        self.rule = rule
        self.check = check
    }

    /// Takes one probe outcome (`healthy` or not) at `time`; returns what changed, if anything.
    public mutating func observe(healthy: Bool, at time: Timestamp) -> Change? {
        if healthy {
            consecutiveSuccesses += 1
            consecutiveFailures = 0
        } else {
            consecutiveFailures += 1
            consecutiveSuccesses = 0
        }
        if case .failureRatio(_, let window, _) = rule.trigger {
            recent.append(!healthy)
            if recent.count > max(1, window) { recent.removeFirst(recent.count - max(1, window)) }
        }
        if firing {
            guard consecutiveSuccesses >= rule.resolveAfterSuccesses else { return nil }
            firing = false
            let firedFor = firedAt.map { time.duration(since: $0).milliseconds } ?? 0
            firedAt = nil
            recent.removeAll()
            return .resolved(AlertResolved(rule: rule.name, check: check, consecutiveSuccesses: Int64(consecutiveSuccesses),
                                           firedForMs: max(0, firedFor)))
        }
        guard !healthy, let reason = firingReason() else { return nil }
        firing = true
        firedAt = time
        return .fired(AlertFired(rule: rule.name, check: check, reason: reason, consecutiveFailures: Int64(consecutiveFailures)))
    }

    private func firingReason() -> String? {
        switch rule.trigger {
        case .consecutiveFailures(let threshold):
            return consecutiveFailures >= max(1, threshold) ? "\(consecutiveFailures) failed probes in a row" : nil
        case .failureRatio(let ratio, let window, let minimumProbes):
            guard recent.count >= max(1, min(minimumProbes, window)) else { return nil }
            let failed = recent.filter { $0 }.count
            guard Double(failed) / Double(recent.count) >= ratio else { return nil }
            return "\(failed) of the last \(recent.count) probes failed"
        }
    }
}

/// Alerting on health checks: every probe goes through every rule, and `alert.fired` /
/// `alert.resolved` are emitted when an alert starts or ends.
public final class HealthAlerts: Sendable {
    /// The rules, applied to every check.
    public let rules: [AlertRule]
    /// Where the alert events go.
    public let bus: EventBus?
    private let states: Locked<[String: AlertState]> = Locked([:])

    /// Creates alerting with `rules`.
    public init(rules: [AlertRule], bus: EventBus?) {
        self.rules = rules
        self.bus = bus
    }

    /// Feeds one probe; returns the changes (also emitted as events).
    @discardableResult
    public func observe(check: String, status: HealthStatus, at time: Timestamp) -> [AlertState.Change] {
        let changes = states.withLock { states -> [AlertState.Change] in
            rules.compactMap { rule in
                let key = "\(rule.name)/\(check)"
                var state = states[key] ?? AlertState(rule: rule, check: check)
                let change = state.observe(healthy: status == .healthy, at: time)
                states[key] = state
                return change
            }
        }
        for change in changes {
            switch change {
            case .fired(let fired): bus?.emit(fired)
            case .resolved(let resolved): bus?.emit(resolved)
            }
        }
        return changes
    }

    /// The alerts firing now, as `rule/check`.
    public var firing: [String] {
        states.withLock { $0.filter { $0.value.firing }.keys.sorted() }
    }
}
