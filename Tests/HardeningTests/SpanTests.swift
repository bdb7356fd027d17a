import Foundation
import Hardening
import HardeningTestKit
import InMemoryTracing
import Instrumentation
import Testing
import Tracing

/// An in-memory tracer that propagates W3C ids, as swift-otel's does: what the bus reads the
/// ids of a span through.
private struct W3CInMemoryTracer: Tracer {
    let base = InMemoryTracer(idGenerator: .init(nextTraceID: { Self.hex(32) }, nextSpanID: { Self.hex(16) }))

    static func hex(_ digits: Int) -> String {
        String((0..<digits).map { _ in "0123456789abcdef".randomElement()! }).replacingCharacters(in: 0, with: "a")
    }

    func startSpan<Instant: TracerInstant>(_ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
                                           at instant: @autoclosure () -> Instant, function: String, file fileID: String,
                                           line: UInt) -> InMemorySpan {
        base.startSpan(operationName, context: context(), ofKind: kind, at: instant(), function: function, file: fileID, line: line)
    }

    func forceFlush() {}

    func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let span = context.inMemorySpanContext else { return }
        injector.inject("00-\(span.traceID)-\(span.spanID)-01", forKey: "traceparent", into: &carrier)
    }

    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {}
}

extension String {
    fileprivate func replacingCharacters(in offset: Int, with text: String) -> String {
        var characters = Array(self)
        characters[offset] = Character(text)
        return String(characters)
    }
}

private struct Flaky: Error {}

/// An error whose description carries a credential, as an HTTP client's may (a URL with its key).
private struct Leaky: Error, CustomStringConvertible {
    var description: String { "GET https://api.example.com/v1?api_key=sk-live-4f8a9b2c7d6e5f4a3b2c1d0e9f8a7b6c failed" }
}

/// The primitives' spans through a tracer given to the bus: their tree, attributes, failures and
/// span events, the events' ids, and nothing at all without a tracer.
@Suite struct SpanTests {
    /// A W3C in-memory tracer, a sink, and a bus that opens spans through the tracer.
    private func traced() -> (W3CInMemoryTracer, InMemorySink, EventBus) {
        let tracer = W3CInMemoryTracer()
        let sink = InMemorySink()
        return (tracer, sink, EventBus(configuration: .init(service: "svc", tracer: tracer, volume: .full), sinks: [sink]))
    }

    @Test func withoutATracerTheBusHasNoneAndBodiesRunWithoutASpan() async throws {
        // Nothing in these tests bootstraps the process-wide InstrumentationSystem.
        #expect(EventBus.Configuration(service: "svc").tracer == nil)
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "svc", volume: .full), sinks: [sink])
        let span = await bus.withSpan("question") { $0 == nil }
        #expect(span)
        let value = try await ResiliencePipeline(bus: bus).retry(RetryPolicy(maxAttempts: 2, initialDelay: .zero)).run("op") { 42 }
        #expect(value == 42)
        await bus.shutdown()
        #expect(sink.events.allSatisfy { $0.traceID == nil })
    }

    @Test func aPipelineIsASpanWithItsRetryItsAttemptsAndTheirBreakerCallsAsChildren() async throws {
        let (tracer, sink, bus) = traced()
        let breaker = CircuitBreaker(name: "llm", configuration: .init(trip: .consecutiveFailures(5)), clock: ContinuousClock(), bus: bus)
        let calls = Locked(0)
        let pipeline = ResiliencePipeline(bus: bus).retry(RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(1), jitter: .none)).breaker(breaker)
        let answer = try await bus.withSpan("question", ofKind: .server, parent: .topLevel) { _ in
            try await pipeline.run("llm.complete") {
                let call = calls.withLock { $0 += 1; return $0 }
                if call == 1 { throw Flaky() }
                return "answer"
            }
        }
        #expect(answer == "answer")
        await bus.shutdown()

        let spans = tracer.base.finishedSpans
        let byName = Dictionary(grouping: spans, by: \.operationName)
        let question = try #require(byName["question"]?.first)
        let pipelineSpan = try #require(byName["pipeline llm.complete"]?.first)
        let retry = try #require(byName["retry llm.complete"]?.first)
        let attempts = try #require(byName["attempt llm.complete"]).sorted { $0.spanID < $1.spanID }
        let breakerSpans = try #require(byName["breaker llm"])
        #expect(question.parentSpanID == nil && question.kind == .server)
        #expect(pipelineSpan.parentSpanID == question.spanID && retry.parentSpanID == pipelineSpan.spanID)
        #expect(attempts.count == 2 && attempts.allSatisfy { $0.parentSpanID == retry.spanID })
        #expect(breakerSpans.count == 2 && Set(breakerSpans.compactMap(\.parentSpanID)) == Set(attempts.map(\.spanID)))
        #expect(Set(spans.map(\.traceID)) == [question.traceID])

        let failed = try #require(attempts.first { $0.status?.code == .error })
        #expect(failed.attributes.get("hardening.retry.attempt") == .int64(1) && !failed.errors.isEmpty)
        #expect(failed.attributes.get("error.type") == .string(String(reflecting: Flaky.self)))
        let second = try #require(attempts.first { $0.status == nil })
        #expect(second.attributes.get("hardening.retry.attempt") == .int64(2))
        #expect(second.attributes.get("hardening.retry.delay_ms").map { if case .double(let ms) = $0 { ms > 0 } else { false } } == true)
        #expect(retry.events.map(\.name) == ["retry.attempt_failed", "retry.succeeded"])

        // The retry's events carry the retry span's ids, as the tracer propagates them.
        let failedEvent = try #require(sink.events.first { $0.kind == RetryAttemptFailed.kind })
        #expect(failedEvent.traceID == retry.traceID && failedEvent.spanID == retry.spanID)
    }

    @Test func anOpenBreakerRejectsInAFailedSpanWithItsDecisionsAsSpanEvents() async throws {
        let (tracer, _, bus) = traced()
        let breaker = CircuitBreaker(name: "db", configuration: .init(trip: .consecutiveFailures(1)), clock: ContinuousClock(), bus: bus)
        _ = try? await breaker.call { throw Flaky() }
        await #expect(throws: CircuitOpenError.self) { try await breaker.call { 1 } }
        let fallback = try await ResiliencePipeline(bus: bus).breaker(breaker)
            .run("lookup", fallback: .value(0, name: "zero")) { 1 }
        #expect(fallback == 0)
        await bus.shutdown()
        let spans = tracer.base.finishedSpans
        let tripped = try #require(spans.first { $0.events.contains { $0.name == "breaker.state_changed" } })
        #expect(tripped.operationName == "breaker db" && tripped.status?.code == .error)
        let change = try #require(tripped.events.first { $0.name == "breaker.state_changed" })
        #expect(change.attributes.get("to") == .string("open") && change.attributes.get("breaker") == .string("db"))
        let rejected = spans.filter { $0.events.contains { $0.name == "breaker.rejected" } }
        #expect(rejected.count == 2 && rejected.allSatisfy { $0.status?.code == .error && $0.attributes.get("hardening.breaker.state") == .string("open") })
        let pipelineSpan = try #require(spans.first { $0.operationName == "pipeline lookup" })
        #expect(pipelineSpan.events.map(\.name) == ["fallback.used"] && pipelineSpan.status == nil, "a fallback answered: the call succeeded")
    }

    @Test func eventsInsideASpanTheApplicationOpensItselfCarryItsIds() async throws {
        let (tracer, sink, bus) = traced()
        let timing = Timing(bus: bus)
        // A span opened with swift-distributed-tracing's own API, not the bus's.
        try await tracer.withSpan("request") { span in
            bus.emit(ErrorRecorded(operation: "direct", errorType: "E", error: "e"))
            try await timing.timed("step") { try await Task.sleep(for: .milliseconds(1)) }
            _ = span
        }
        await bus.shutdown()
        let spans = tracer.base.finishedSpans
        let request = try #require(spans.first { $0.operationName == "request" })
        let step = try #require(spans.first { $0.operationName == "step" })
        #expect(step.parentSpanID == request.spanID && step.attributes.get("hardening.outcome") == .string("success"))
        let direct = try #require(sink.events.first { $0.kind == ErrorRecorded.kind })
        #expect(direct.traceID == request.traceID && direct.spanID == request.spanID)
        let timed = try #require(sink.events.first { $0.kind == TimingRecorded.kind })
        #expect(timed.traceID == request.traceID && timed.spanID == step.spanID)
    }

    /// Spans reach a collector the redactor never sees: what they say in text goes through the
    /// bus's redactor first (the exception's message, the status, the span events' attrs).
    @Test func aSecretInAnErrorNeverReachesTheSpans() async throws {
        let (tracer, _, bus) = traced()
        let secret = "sk-live-4f8a9b2c7d6e5f4a3b2c1d0e9f8a7b6c"
        let answer = try await ResiliencePipeline(bus: bus).retry(RetryPolicy(maxAttempts: 1))
            .run("lookup", fallback: .value("cached", name: "cache")) { () async throws -> String in throw Leaky() }
        #expect(answer == "cached")
        await bus.shutdown()
        let spans = tracer.base.finishedSpans
        let attempt = try #require(spans.first { $0.operationName == "attempt lookup" })
        let message = try #require(attempt.errors.first?.attributes.get("exception.message"))
        #expect(message == .string(Leaky().description.replacingOccurrences(of: secret, with: "[REDACTED]")), "\(message)")
        #expect(attempt.status?.message?.contains(secret) == false && attempt.status?.message?.contains("[REDACTED]") == true)
        let fallback = try #require(spans.flatMap(\.events).first { $0.name == "fallback.used" })
        var texts: [String] = []
        fallback.attributes.forEach { _, value in texts.append("\(value)") }
        #expect(!texts.isEmpty && texts.allSatisfy { !$0.contains(secret) }, "\(texts)")
        #expect(texts.contains { $0.contains("[REDACTED]") }, "\(texts)")
    }
}
