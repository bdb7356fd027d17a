import Hardening

/// One example payload of every known kind, for round-trip tests.
public enum PayloadSamples {
    /// One payload of each kind in `EventKind.known`.
    public static let all: [any EventPayload] = [
        RetryAttemptFailed(operation: "notion.fetch", attempt: 1, delayMs: 250.5, errorType: "HTTPError", error: "503"),
        RetrySucceeded(operation: "notion.fetch", attempts: 2, elapsedMs: 812.25),
        RetryExhausted(operation: "notion.fetch", attempts: 5, elapsedMs: 30_000, reason: "deadline", errorType: "TimeoutError", error: "timed out"),
        BreakerStateChanged(breaker: "notion", from: "closed", to: "open", reason: "failure_threshold", failures: 5, successes: 0),
        BreakerRejected(breaker: "notion", state: "open", retryAfterMs: 29_500),
        FallbackUsed(operation: "rag.answer", fallback: "cached", errorType: "HTTPError", error: "502"),
        TimeoutFired(operation: "openai.embed", scope: "attempt", timeoutMs: 2_000),
        BulkheadRejected(bulkhead: "pinecone", reason: "full", inFlight: 8, queued: 16, maxConcurrent: 8, maxQueue: 16),
        RateLimiterRejected(limiter: "openai", ratePerSecond: 50, burst: 10, retryAfterMs: 20),
        MetricCounted(name: "http_requests", dimensions: ["method": "GET"], delta: 1),
        MetricRecorded(name: "queue_depth", dimensions: [:], value: 12.5, aggregate: false),
        TimingRecorded(operation: "pinecone.query", durationMs: 42.125, outcome: "success", slow: false),
        TimingWindow(operation: "pinecone.query", windowStart: Timestamp(microsecondsSinceEpoch: 1_764_374_400_000_000),
                     outcomes: ["success": 4, "fallback": 1], latency: LatencyWindow(
                        count: 5, totalMicroseconds: 210_625, minMicroseconds: 40_001, maxMicroseconds: 44_003,
                        buckets: [.init(microseconds: 40_031, count: 2), .init(microseconds: 42_111, count: 2), .init(microseconds: 44_031, count: 1)])),
        HealthWindow(check: "pinecone", windowStart: Timestamp(microsecondsSinceEpoch: 1_764_374_400_000_000), byStatus: ["healthy": 3],
                     latency: LatencyWindow(count: 3, totalMicroseconds: 37_500, minMicroseconds: 12_000, maxMicroseconds: 13_000,
                                            buckets: [.init(microseconds: 12_007, count: 1), .init(microseconds: 12_503, count: 1), .init(microseconds: 13_007, count: 1)]),
                     lastStatus: "healthy", lastAt: Timestamp(microsecondsSinceEpoch: 1_764_374_409_000_000), lastDetail: "ok"),
        EventsRepeated(repeatedKind: .breakerRejected, subject: ["breaker": "notion", "state": "open"], count: 17,
                       firstAt: Timestamp(microsecondsSinceEpoch: 1_764_374_400_500_000), lastAt: Timestamp(microsecondsSinceEpoch: 1_764_374_408_250_000)),
        ErrorRecorded(operation: "zotero.sync", errorType: "DecodingError", error: "bad JSON", context: ["item": "ABCD", "page": 3]),
        HealthProbed(check: "pinecone", status: "healthy", latencyMs: 12.5, detail: "ok", observed: ["vector_count": 1_000_000]),
        HealthChanged(check: "overall", from: "healthy", to: "degraded", detail: "openai slow"),
        ConfigChecked(key: "OPENAI_API_KEY", source: "environment", status: "ok", detail: "set (sk-…)"),
        AlertFired(rule: "consecutive_failures", check: "notion", reason: "3 failures", consecutiveFailures: 3),
        AlertResolved(rule: "consecutive_failures", check: "notion", consecutiveSuccesses: 2, firedForMs: 60_000),
        LogMessage(logger: "rag", source: "RAG", text: "hello", metadata: ["request": "r-1"]),
        BusDropped(count: 3, totalDropped: 10, policy: "drop_newest"),
        SinkDropped(sink: "stdout", count: 5, totalDropped: 12, policy: "drop_newest"),
        SinkFailed(sink: "file:/x", error: "No space left on device", errno: 28, failedEvents: 12),
        SinkRecovered(sink: "file:/x", lostEvents: 0, failedWrites: 4, downtimeMs: 1500),
        FileOpened(fileID: "0123456789abcdef", firstSeq: 1, path: "events.jsonl", format: "jsonl"),
        FileClosed(lastSeqWritten: 41, lastSeqReceived: 44, lostEvents: 3, reason: "shutdown"),
        FileRotated(segment: "events.jsonl.20261129T000000Z-1", reason: "size", bytes: 1024, lines: 10),
    ]
}

