import AsyncHTTPClient
import Hardening
import Instrumentation
import NIOCore
import NIOHTTP1
import Tracing

/// An HTTP answer the demo treats as a failure; carries the server's `Retry-After`.
public struct DependencyError: Error, RetryAfterProviding, CustomStringConvertible {
    /// The dependency.
    public var dependency: String
    /// The HTTP status.
    public var status: Int
    public var retryAfter: Duration?
    public var description: String { "\(dependency) answered HTTP \(status)" }
}

/// The original service's question-answering path, rebuilt on the primitives: fetch the notes
/// (retry, attempt timeout, breaker), query the vectors (retry, breaker), ask the LLM (rate
/// limiter, retry honouring `Retry-After`, breaker, a cached answer as fallback), look up the
/// references (attempt timeout, no retry, an empty list as fallback). Every step is timed; a
/// question that fails is recorded by the error tracker.
struct DemoPipeline: Sendable {
    let client: HTTPClient
    let dependencies: FakeDependencies
    let bus: EventBus
    let timing: Timing<ContinuousClock>
    let errors: ErrorTracker
    let notes: ResiliencePipeline<ContinuousClock>
    let vectors: ResiliencePipeline<ContinuousClock>
    let llm: ResiliencePipeline<ContinuousClock>
    let references: ResiliencePipeline<ContinuousClock>
    /// The breakers, by dependency, for health checks and the progress line.
    let breakers: [String: CircuitBreaker<ContinuousClock>]

    /// `workers` sizes the LLM's rate limit (10 calls a second and a burst of 2 per worker: the
    /// quota a service plans for its concurrency), so that more workers mean more calls, not
    /// only more waiting at the limiter.
    init(client: HTTPClient, dependencies: FakeDependencies, bus: EventBus, script: DemoScript, workers: Int) {
        self.client = client
        self.dependencies = dependencies
        self.bus = bus
        self.timing = Timing(bus: bus)
        self.errors = ErrorTracker(bus: bus)
        // The breaker stays open a twentieth of the run, so the outage shows open, half-open
        // trials that fail, and the close after recovery.
        let recovery = max(.milliseconds(100), script.duration / 20)
        func breaker(_ name: String, trip: Int) -> CircuitBreaker<ContinuousClock> {
            CircuitBreaker(name: name, configuration: CircuitBreakerConfiguration(trip: .consecutiveFailures(trip), recoveryTimeout: recovery),
                           clock: ContinuousClock(), bus: bus)
        }
        // The vector database's 503 bursts are for the retries to absorb; only the LLM's outage
        // is long enough to open a breaker.
        let breakers = ["notes": breaker("notes", trip: 10), "vectors": breaker("vectors", trip: 12), "llm": breaker("llm", trip: 5)]
        self.breakers = breakers
        let quickRetry = RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(20), maxDelay: .milliseconds(200), maxElapsed: .seconds(5),
                                     isRetryable: { !($0 is CircuitOpenError) })
        notes = ResiliencePipeline(bus: bus).retry(quickRetry).breaker(breakers["notes"]!).attemptTimeout(.milliseconds(300))
        vectors = ResiliencePipeline(bus: bus).retry(RetryPolicy(maxAttempts: 4, initialDelay: .milliseconds(10), maxDelay: .milliseconds(100),
                                                                 isRetryable: { !($0 is CircuitOpenError) }))
            .breaker(breakers["vectors"]!).attemptTimeout(.seconds(1))
        llm = ResiliencePipeline(bus: bus)
            .retry(RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(20), maxDelay: .milliseconds(500), maxElapsed: .seconds(5),
                               isRetryable: { !($0 is CircuitOpenError) }))
            .rateLimiter(RateLimiter(name: "llm", ratePerSecond: Double(10 * max(1, workers)), burst: 2 * max(1, workers),
                                     defaultMaxWait: .milliseconds(250), bus: bus))
            .breaker(breakers["llm"]!).attemptTimeout(.seconds(2))
        references = ResiliencePipeline(bus: bus).attemptTimeout(.milliseconds(200))
    }

    /// Answers one question in a trace of its own (every event of it carries the trace id, and
    /// each call sends `traceparent`); returns how it ended.
    ///
    /// With a tracer on the bus the trace is a server span `question`, with the pipelines'
    /// spans under it.
    func answer(question: Int) async -> Outcome {
        if bus.tracer != nil {
            return await bus.withSpan("question", ofKind: .server, parent: .topLevel,
                                      attributes: ["rag.question": .int64(Int64(question))]) { _ in
                await answerInTrace(question: question)
            }
        }
        var context = ServiceContext.topLevel
        context.traceContext = TraceContext.random()
        return await ServiceContext.withValue(context) { await answerInTrace(question: question) }
    }

    private func answerInTrace(question: Int) async -> Outcome {
        do {
            return try await timing.timed("rag.answer", slowThreshold: .seconds(1)) {
                let page = try await timing.timed("notes.fetch_page") {
                    try await notes.run("notes.fetch_page") { try await call(.notes, "/v1/pages/\(question % 50)") }
                }
                let matches = try await timing.timed("vectors.query") {
                    try await vectors.run("vectors.query") { try await call(.vectors, "/query", body: "{\"top_k\":5,\"q\":\(question)}") }
                }
                let completion = try await timing.timed("llm.complete", slowThreshold: .milliseconds(500)) {
                    try await llm.run("llm.complete", fallback: .value("cached answer", name: "cached_answer")) {
                        try await call(.llm, "/v1/chat/completions", body: "{\"model\":\"demo\",\"n\":\(question)}")
                    }
                }
                let refs = try await timing.timed("references.lookup") {
                    try await references.run("references.lookup", fallback: .value("[]", name: "no_references")) {
                        try await call(.references, "/items?q=\(question)")
                    }
                }
                _ = (page, matches)
                return completion == "cached answer" || refs == "[]" ? .degraded : .answered
            }
        } catch {
            errors.record(operation: "rag.answer", error: error, context: ["question": .int(Int64(question))])
            return .failed
        }
    }

    enum Outcome { case answered, degraded, failed }

    private func call(_ dependency: DemoScript.Dependency, _ path: String, body: String? = nil) async throws -> String {
        var request = HTTPClientRequest(url: dependencies.url(dependency) + path)
        if let trace = ServiceContext.current?.traceContext { request.headers.add(name: "traceparent", value: trace.child().traceparent) }
        if let body {
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(5))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let retryAfter = response.headers.first(name: "retry-after").flatMap(Double.init).map { Duration.milliseconds(Int64($0 * 1000)) }
            throw DependencyError(dependency: dependency.rawValue, status: status, retryAfter: retryAfter)
        }
        return String(buffer: bytes)
    }
}
