/// Which warnings repeat, what makes two of them "the same" (their subject: the attrs they
/// share), and how a count of them changes a summary: the one place that knows, for the rollup
/// that counts repeats and for the fold of `events.repeated`.
enum RepeatSubject {
    /// The subject's attrs of each kind that repeats (empty for a kind that never does).
    static func fields(of kind: EventKind) -> [String] {
        switch kind {
        case .breakerRejected: ["breaker", "state"]
        case .fallbackUsed: ["operation", "fallback", "error_type"]
        case .timeoutFired: ["operation", "scope"]
        case .bulkheadRejected: ["bulkhead", "reason"]
        case .rateLimiterRejected: ["limiter"]
        case .retryAttemptFailed: ["operation", "error_type"]
        case .retrySucceeded: ["operation"]
        default: []
        }
    }

    /// The subject of `event`, or `nil` when its kind never repeats or a field is not a string.
    static func subject(of event: Event) -> Attributes? {
        let fields = fields(of: event.kind)
        guard !fields.isEmpty else { return nil }
        var subject = Attributes()
        subject.reserveCapacity(fields.count)
        for field in fields {
            guard let value = event.attrs[field], case .string = value else { return nil }
            subject.appendUnchecked(field, value)
        }
        return subject
    }

    /// Adds `repeated.count` events of its kind and subject to `summary`, as folding each would.
    static func fold(_ repeated: EventsRepeated, into summary: inout Summary) {
        let count = repeated.count
        func field(_ name: String) -> String { repeated.subject[name]?.stringValue ?? "" }
        switch repeated.repeatedKind {
        case .breakerRejected:
            summary.breakers[field("breaker"), default: Summary.Breaker()].rejected.saturatingAdd(count)
        case .fallbackUsed:
            summary.fallbacks[field("operation"), default: [:]].add(field("fallback"), count)
        case .timeoutFired:
            summary.timeouts[field("operation"), default: [:]].add(field("scope"), count)
        case .bulkheadRejected:
            summary.bulkheads[field("bulkhead"), default: [:]].add(field("reason"), count)
        case .rateLimiterRejected:
            summary.rateLimiters.add(field("limiter"), count)
        case .retryAttemptFailed:
            summary.retries[field("operation"), default: Summary.Retries()].record(repeated: count, delayMs: repeated.delayMs ?? 0)
        case .retrySucceeded:
            summary.retries[field("operation"), default: Summary.Retries()].succeededAfterRetry.saturatingAdd(count)
        default:
            break
        }
    }
}
