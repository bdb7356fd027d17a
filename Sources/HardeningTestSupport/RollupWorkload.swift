import Hardening

/// A seeded, random stream of what the production detail folds and what it writes: timed calls
/// of every outcome (some slow; with `clockStepsBack`, a few with negative durations), probes whose status sometimes
/// changes, every repeating warning, breaker changes, errors and exhausted retries, half of them
/// in one of a few traces; for tests that fold the rollup against the events one by one.
public struct RollupWorkload {
    private var random: SplitMix64
    private var time: Int64
    private var statuses: [String: String] = [:]
    private let traces: [String]
    private let clockStepsBack: Bool

    /// A workload from `seed`, starting at `start` (microseconds since the epoch). With
    /// `clockStepsBack`, one duration in a hundred is negative, as a wall clock that stepped back
    /// would make it: the folds must take it, though the schema (and so the files the tests leave
    /// for its check) has no such value.
    public init(seed: UInt64, start: Int64 = 1_796_000_000_000_000, clockStepsBack: Bool = false) {
        random = SplitMix64(seed: seed)
        self.clockStepsBack = clockStepsBack
        time = start
        var traceRandom = SplitMix64(seed: seed ^ 0x5EED)
        traces = (0..<12).map { _ in RunID.hex(traceRandom.next()) + RunID.hex(traceRandom.next()) }
    }

    private mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
    private mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

    /// A duration in milliseconds: mostly a few to a few hundred, with microseconds, now and then
    /// seconds, and with `clockStepsBack` rarely negative.
    private mutating func milliseconds() -> Double {
        if chance(1) {
            let stepped = Double(random.next() % 1000) / 100
            return clockStepsBack ? -stepped : stepped
        }
        let scale = pick([1.0, 10, 100, 1000, 20_000])
        return (Double(random.next() % 1_000_000) / 1_000_000 * scale * 1000).rounded() / 1000
    }

    /// The next `count` events, timestamped `stepMicroseconds` apart on average.
    public mutating func next(_ count: Int, stepMicroseconds: Int64 = 2_000) -> [Event] {
        (0..<count).map { _ in nextEvent(stepMicroseconds: stepMicroseconds) }
    }

    private mutating func nextEvent(stepMicroseconds: Int64) -> Event {
        time += Int64(random.next() % UInt64(2 * stepMicroseconds + 1))
        let operation = pick(["rag.answer", "notes.fetch", "vectors.query"])
        let payload: any EventPayload
        switch random.next() % 100 {
        case 0..<55:
            let outcome = chance(85) ? "success" : pick(["error", "fallback", "cancelled"])
            payload = TimingRecorded(operation: operation, durationMs: milliseconds(), outcome: outcome, slow: chance(4))
        case 55..<67:
            let check = pick(["notes", "vectors", "llm"])
            var status = statuses[check] ?? "healthy"
            if chance(10) { status = pick(["healthy", "degraded", "unhealthy"]) }
            statuses[check] = status
            payload = HealthProbed(check: check, status: status, latencyMs: milliseconds(), detail: status == "healthy" ? "" : "HTTP 503")
        case 67..<72: payload = BreakerRejected(breaker: pick(["notes", "llm"]), state: pick(["open", "half_open"]), retryAfterMs: milliseconds())
        case 72..<77: payload = FallbackUsed(operation: operation, fallback: pick(["cached", "empty"]), errorType: "HTTPError", error: "503")
        case 77..<81: payload = TimeoutFired(operation: operation, scope: pick(["attempt", "total"]), timeoutMs: 300)
        case 81..<84:
            payload = BulkheadRejected(bulkhead: "pool", reason: pick(["full", "queue_timeout"]), inFlight: 4, queued: 2, maxConcurrent: 4, maxQueue: 2)
        case 84..<87: payload = RateLimiterRejected(limiter: pick(["llm", "notes"]), ratePerSecond: 40, burst: 8, retryAfterMs: milliseconds())
        case 87..<92:
            payload = RetryAttemptFailed(operation: operation, attempt: 1, delayMs: milliseconds().magnitude,
                                         errorType: pick(["HTTPError", "TimeoutError"]), error: "again")
        case 92..<95: payload = RetrySucceeded(operation: operation, attempts: 2, elapsedMs: milliseconds().magnitude)
        case 95..<97:
            let from = pick(["closed", "open", "half_open"])
            payload = BreakerStateChanged(breaker: pick(["notes", "llm"]), from: from, to: from == "open" ? "half_open" : "open",
                                          reason: "test", failures: 1, successes: 0)
        case 97..<99: payload = ErrorRecorded(operation: operation, errorType: "RetryError", error: "gave up")
        default:
            payload = RetryExhausted(operation: operation, attempts: 3, elapsedMs: 900, reason: "exhausted", errorType: "HTTPError", error: "503")
        }
        let trace = chance(50) ? pick(traces) : nil
        return Event(timestamp: Timestamp(microsecondsSinceEpoch: time), level: payload.defaultLevel, kind: type(of: payload).kind,
                     message: payload.message, traceID: trace, spanID: trace.map { String($0.prefix(16)) }, attrs: payload.attributes)
    }
}
