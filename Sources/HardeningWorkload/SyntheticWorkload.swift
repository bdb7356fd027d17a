import Hardening

/// A seeded, realistic mix of every event kind, for load generation (`hardening generate`),
/// benchmarks and tests of log pipelines.
///
/// The same seed gives the same sequence of payloads. Most events are timings, log messages,
/// retries and health probes, as in a busy RAG service; breaker changes, alerts and config
/// checks are rare. Kinds that the pipeline itself emits (`bus.*`, `sink.*`, `file.*`) appear
/// (except `file.opened`, which the file sink writes itself) very rarely and carry `"synthetic": true`, so that replay never mistakes them for real loss.
public struct SyntheticWorkload: Sendable {
    private var random: SplitMix64
    private let operations = ["notion.fetch_page", "pinecone.query", "pinecone.upsert", "openai.embed",
                              "openai.chat", "zotero.fetch_items", "rag.answer", "chunker.split"]
    private let breakers = ["notion", "pinecone", "openai", "zotero"]
    private let errors = [("HTTPError", "503 Service Unavailable"), ("TimeoutError", "request timed out after 10 s"),
                          ("RateLimitError", "429 Too Many Requests, retry after 2 s"),
                          ("ConnectionError", "connection refused"), ("DecodingError", "unexpected end of JSON")]
    private let checks = ["notion", "pinecone", "openai", "zotero", "disk", "sinks"]

    /// Creates the workload for `seed`.
    public init(seed: UInt64) { random = SplitMix64(seed: seed) }

    /// The next event (timestamp to be set by the caller or the bus).
    public mutating func next() -> (level: EventLevel, kind: EventKind, message: String, attrs: Attributes) {
        let roll = random.next() % 1000
        switch roll {
        case 0..<400: return make(timing())
        case 400..<550: return make(logMessage())
        case 550..<630: return make(attemptFailed())
        case 630..<710: return make(retrySucceeded())
        case 710..<810: return make(healthProbed())
        case 810..<860: return make(errorRecorded())
        case 860..<890: return make(BreakerRejected(breaker: pick(breakers), state: "open", retryAfterMs: Double(random.next() % 30_000)))
        case 890..<920: return make(FallbackUsed(operation: pick(operations), fallback: "cached_answer", errorType: "HTTPError", error: "503 Service Unavailable"))
        case 920..<945: return make(exhausted())
        case 945..<955: return make(ConfigChecked(key: pick(["OPENAI_API_KEY", "PINECONE_INDEX", "NOTION_DATABASE_ID", "CHUNK_SIZE"]),
                                                 source: "environment", status: random.next() % 10 == 0 ? "problem" : "ok",
                                                 detail: "value is set"))
        case 955..<970: return make(breakerChanged())
        case 970..<980: return make(HealthChanged(check: pick(checks), from: "healthy", to: pick(["degraded", "unhealthy", "healthy"]), detail: "probe result changed"))
        case 980..<988: return make(AlertFired(rule: "consecutive_failures", check: pick(checks), reason: "3 consecutive failures", consecutiveFailures: 3))
        case 988..<996: return make(AlertResolved(rule: "consecutive_failures", check: pick(checks), consecutiveSuccesses: 2, firedForMs: Double(random.next() % 120_000)))
        default: return synthetic()
        }
    }

    private mutating func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }

    private func make<P: EventPayload>(_ payload: P) -> (EventLevel, EventKind, String, Attributes) {
        (payload.defaultLevel, P.kind, payload.message, payload.attributes)
    }

    private mutating func latency() -> Double {
        // Log-normal-ish: mostly tens of ms, a long tail to seconds.
        let base = Double(random.next() % 10_000) / 100.0 + 5
        let tail = random.next() % 50 == 0 ? Double(random.next() % 3000) : 0
        return (base + tail).rounded(toPlaces: 3)
    }

    private mutating func timing() -> TimingRecorded {
        let duration = latency()
        return TimingRecorded(operation: pick(operations), durationMs: duration, outcome: random.next() % 20 == 0 ? "error" : "success",
                              slow: duration > 1000)
    }

    private mutating func logMessage() -> LogMessage {
        let texts = ["fetched 25 pages from Notion", "upserted 128 vectors", "answer generated with 3 sources",
                     "cache miss for query embedding", "chunked document into 42 chunks"]
        return LogMessage(logger: "rag.pipeline", source: "RAGService", text: pick(texts),
                          metadata: ["request_id": .string(RunID.hex(random.next())), "tenant": "acme"])
    }

    private mutating func attemptFailed() -> RetryAttemptFailed {
        let (type, text) = pick(errors)
        return RetryAttemptFailed(operation: pick(operations), attempt: Int64(random.next() % 3 + 1),
                                  delayMs: Double(random.next() % 8000) / 4, errorType: type, error: text)
    }

    private mutating func retrySucceeded() -> RetrySucceeded {
        RetrySucceeded(operation: pick(operations), attempts: Int64(random.next() % 3 + 1), elapsedMs: latency())
    }

    private mutating func exhausted() -> RetryExhausted {
        let (type, text) = pick(errors)
        return RetryExhausted(operation: pick(operations), attempts: 3, elapsedMs: latency() * 10,
                              reason: pick(["exhausted", "deadline", "budget", "not_retryable"]), errorType: type, error: text)
    }

    private mutating func healthProbed() -> HealthProbed {
        let check = pick(checks)
        let healthy = random.next() % 10 != 0
        return HealthProbed(check: check, status: healthy ? "healthy" : "unhealthy", latencyMs: latency(),
                            detail: healthy ? "ok" : "HTTP 503", observed: check == "pinecone" ? ["vector_count": .int(Int64(random.next() % 1_000_000))] : [:])
    }

    private mutating func errorRecorded() -> ErrorRecorded {
        let (type, text) = pick(errors)
        return ErrorRecorded(operation: pick(operations), errorType: type, error: text,
                             context: ["page_id": .string(RunID.hex(random.next())), "attempt": .int(Int64(random.next() % 3 + 1))])
    }

    private mutating func breakerChanged() -> BreakerStateChanged {
        let transitions = [("closed", "open", "failure_threshold"), ("open", "half_open", "recovery_timeout"),
                           ("half_open", "closed", "trial_succeeded"), ("half_open", "open", "trial_failed")]
        let (from, to, reason) = pick(transitions)
        return BreakerStateChanged(breaker: pick(breakers), from: from, to: to, reason: reason,
                                   failures: Int64(random.next() % 10), successes: Int64(random.next() % 100))
    }

    private mutating func synthetic() -> (EventLevel, EventKind, String, Attributes) {
        var result: (EventLevel, EventKind, String, Attributes)
        // `file.opened` is not among them: every file the sink writes starts with a real one.
        switch random.next() % 4 {
        case 0: result = make(BusDropped(count: 1, totalDropped: 1, policy: "drop_newest", synthetic: true))
        case 1: result = make(SinkFailed(sink: "file:/synthetic", error: "synthetic failure", errno: 28, failedEvents: 1, synthetic: true))
        case 2: result = make(SinkRecovered(sink: "file:/synthetic", lostEvents: 1, failedWrites: 1, downtimeMs: 10, synthetic: true))
        default:
            result = make(FileRotated(segment: "synthetic.jsonl.20261129T000000Z-1", reason: "size", bytes: 1024, lines: 10))
            result.3.appendUnchecked("synthetic", .bool(true))
        }
        result.2 = "synthetic: " + result.2
        return result
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        var factor = 1.0
        for _ in 0..<places { factor *= 10 }
        return (self * factor).rounded() / factor
    }
}
