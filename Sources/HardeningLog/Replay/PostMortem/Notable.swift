import Hardening

/// Where and when an event happened: the envelope fields a post-mortem names.
package struct Occurrence: Sendable, Hashable, Comparable {
    /// When it was emitted.
    package var timestamp: Timestamp
    /// The host that emitted it.
    package var host: String
    /// Its run.
    package var run: String
    /// Its number in the run.
    package var seq: UInt64
    /// Its trace, when it had one.
    package var traceID: String?

    package init(timestamp: Timestamp, host: String, run: String, seq: UInt64, traceID: String? = nil) {
        self.timestamp = timestamp
        self.host = host
        self.run = run
        self.seq = seq
        self.traceID = traceID
    }

    /// Time order across hosts: by time, then host, run and seq (the merged stream's order).
    package static func < (lhs: Occurrence, rhs: Occurrence) -> Bool {
        (lhs.timestamp, lhs.host, lhs.run, lhs.seq) < (rhs.timestamp, rhs.host, rhs.run, rhs.seq)
    }
}

/// What an event is about, as its attrs name it: `operation`, `breaker`, `check`, `bulkhead` or
/// `limiter`, and the name.
package struct Subject: Sendable, Hashable, Comparable {
    /// The attr that names it.
    package var key: String
    /// The name.
    package var name: String

    package static func < (lhs: Subject, rhs: Subject) -> Bool { (lhs.name, lhs.key) < (rhs.name, rhs.key) }

    /// The name alone: an operation and a breaker of one name are rare, and hashing one string
    /// is half the work of two (replay looks a subject up for every failure).
    package func hash(into hasher: inout Hasher) { hasher.combine(name) }
}

/// What one event tells a post-mortem: whether it records a failure, a change of state, or
/// something else the incident's timeline shows. Most events tell nothing (``PostMortem/notable(_:)``
/// returns `nil` for them, cheaply).
package struct Notable: Sendable {
    /// Its place on the timeline.
    package enum Role: String, Sendable {
        case breakerChanged = "breaker_changed"
        case healthChanged = "health_changed"
        case alertFired = "alert_fired"
        case alertResolved = "alert_resolved"
        case retriesExhausted = "retries_exhausted"
        case fallback
        /// Only a failure (its first per subject goes on the timeline).
        case failure
    }

    /// The event's kind.
    package var kind: EventKind
    /// What it is about.
    package var subject: Subject
    /// Its role.
    package var role: Role
    /// Whether it records a failed call or probe.
    package var isFailure: Bool
    /// The failure's root error type, when the event names one.
    package var rootErrorType: String?
    /// A change of state (breakers, health): from, to, and why.
    package var change: (from: String, to: String, reason: String)?
}

extension PostMortem {
    /// What `payload` tells a post-mortem; `nil` for the routine events that make up most logs,
    /// told apart by their type and, for timed calls, their outcome.
    package static func notable<P: EventPayload>(_ payload: P) -> Notable? {
        if P.self == TimingRecorded.self {
            let timing = unsafeBitCast(payload, to: TimingRecorded.self)
            if timing.outcome == TimingRecorded.Outcome.success || timing.outcome == TimingRecorded.Outcome.fallback { return nil }
            return failure(P.kind, "operation", timing.operation, rootErrorType: nil)
        }
        if P.self == HealthProbed.self {
            let probe = unsafeBitCast(payload, to: HealthProbed.self)
            guard probe.status == "unhealthy" else { return nil }
            return failure(P.kind, "check", probe.check, rootErrorType: nil)
        }
        if P.self == RetryAttemptFailed.self {
            let attempt = unsafeBitCast(payload, to: RetryAttemptFailed.self)
            return failure(P.kind, "operation", attempt.operation, rootErrorType: attempt.errorType)
        }
        if P.self == ErrorRecorded.self {
            let error = unsafeBitCast(payload, to: ErrorRecorded.self)
            return failure(P.kind, "operation", error.operation, rootErrorType: error.rootCause)
        }
        if P.self == TimeoutFired.self {
            let timeout = unsafeBitCast(payload, to: TimeoutFired.self)
            return failure(P.kind, "operation", timeout.operation, rootErrorType: "TimeoutError")
        }
        if P.self == BreakerRejected.self {
            let rejected = unsafeBitCast(payload, to: BreakerRejected.self)
            return failure(P.kind, "breaker", rejected.breaker, rootErrorType: "CircuitOpenError")
        }
        if P.self == BulkheadRejected.self {
            let rejected = unsafeBitCast(payload, to: BulkheadRejected.self)
            return failure(P.kind, "bulkhead", rejected.bulkhead, rootErrorType: "BulkheadRejectedError")
        }
        if P.self == RateLimiterRejected.self {
            let rejected = unsafeBitCast(payload, to: RateLimiterRejected.self)
            return failure(P.kind, "limiter", rejected.limiter, rootErrorType: "RateLimitedError")
        }
        if P.self == RetryExhausted.self {
            let exhausted = unsafeBitCast(payload, to: RetryExhausted.self)
            return Notable(kind: P.kind, subject: Subject(key: "operation", name: exhausted.operation), role: .retriesExhausted,
                           isFailure: true, rootErrorType: exhausted.errorType)
        }
        if P.self == BreakerStateChanged.self {
            let changed = unsafeBitCast(payload, to: BreakerStateChanged.self)
            return Notable(kind: P.kind, subject: Subject(key: "breaker", name: changed.breaker), role: .breakerChanged, isFailure: false,
                           change: (changed.from, changed.to, changed.reason))
        }
        if P.self == HealthChanged.self {
            let changed = unsafeBitCast(payload, to: HealthChanged.self)
            return Notable(kind: P.kind, subject: Subject(key: "check", name: changed.check), role: .healthChanged, isFailure: false,
                           change: (changed.from, changed.to, changed.detail))
        }
        if P.self == AlertFired.self {
            let fired = unsafeBitCast(payload, to: AlertFired.self)
            return Notable(kind: P.kind, subject: Subject(key: "check", name: fired.check), role: .alertFired, isFailure: false,
)
        }
        if P.self == AlertResolved.self {
            let resolved = unsafeBitCast(payload, to: AlertResolved.self)
            return Notable(kind: P.kind, subject: Subject(key: "check", name: resolved.check), role: .alertResolved, isFailure: false,
)
        }
        if P.self == FallbackUsed.self {
            let fallback = unsafeBitCast(payload, to: FallbackUsed.self)
            return Notable(kind: P.kind, subject: Subject(key: "operation", name: fallback.operation), role: .fallback, isFailure: false,
                           rootErrorType: fallback.rootErrorType ?? fallback.errorType)
        }
        return nil
    }

    private static func failure(_ kind: EventKind, _ key: String, _ name: String, rootErrorType: String?) -> Notable {
        Notable(kind: kind, subject: Subject(key: key, name: name), role: .failure, isFailure: true, rootErrorType: rootErrorType)
    }

    /// The kinds ``notable(_:)`` may say something about (the decoder reads the payload of these only).
    package static let kinds: Set<EventKind> = [
        .timingRecorded, .healthProbed, .retryAttemptFailed, .errorRecorded, .timeoutFired, .breakerRejected, .bulkheadRejected,
        .rateLimiterRejected, .retryExhausted, .breakerStateChanged, .healthChanged, .alertFired, .alertResolved, .fallbackUsed,
    ]
}

extension PostMortem {
    /// Adds `event` if it is notable (the decoder's path; the byte scanner hands payloads to
    /// ``record(_:at:traceID:message:)`` itself).
    package mutating func observe(_ event: Event) {
        guard Self.kinds.contains(event.kind), let type = event.kind.payloadType,
            let notable = Self.notable(of: type, event.attrs)
        else { return }
        record(notable, at: Occurrence(timestamp: event.timestamp, host: event.host, run: event.run, seq: event.seq),
               traceID: event.traceID, message: event.message)
    }

    private static func notable<P: EventPayload>(of type: P.Type, _ attrs: Attributes) -> Notable? {
        guard let payload = try? P(attributes: attrs) else { return nil }
        return notable(payload)
    }
}
