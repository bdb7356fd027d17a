import Hardening
import HardeningTestKit
import Testing

private struct Failure: Error, CustomStringConvertible {
    var description: String { "upstream said no, key sk-abcdefghijklmnopqrstuvwxyz" }
}

@Suite struct TimingAndErrorTests {
    @Test func timedReportsDurationOutcomeAndSlowness() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let timing = Timing(clock: clock, bus: bus, defaultSlowThreshold: .seconds(1))
        let value = await timing.timed("pinecone.query") { () async -> Int in
            clock.advance(by: .milliseconds(250))
            return 7
        }
        #expect(value == 7)
        _ = try? timing.timed("openai.chat", slowThreshold: .milliseconds(100)) { () throws -> Int in
            clock.advance(by: .milliseconds(150))
            throw Failure()
        }
        let timer = timing.start("batch.upsert")
        clock.advance(by: .seconds(2))
        #expect(timer.stop() == .seconds(2))
        await bus.shutdown()
        let events = sink.events
        let payloads = try events.map { try $0.payload(as: TimingRecorded.self) }
        #expect(payloads == [
            TimingRecorded(operation: "pinecone.query", durationMs: 250, outcome: "success", slow: false),
            TimingRecorded(operation: "openai.chat", durationMs: 150, outcome: "error", slow: true),
            TimingRecorded(operation: "batch.upsert", durationMs: 2000, outcome: "success", slow: true),
        ])
        #expect(events.map(\.level) == [.debug, .warning, .warning])
    }

    /// A call answered by a fallback is timed as `fallback`, not `success`: the innermost timed
    /// call is marked, an outer one that returned its own value is not; the summary counts them.
    @Test func aCallAnsweredByAFallbackIsTimedAsFallback() async throws {
        let clock = ManualClock()
        let live = SummarySink()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [live, sink])
        let timing = Timing(clock: clock, bus: bus)
        let answer = try await timing.timed("llm.complete") { () async throws -> String in
            clock.advance(by: .milliseconds(5))
            return try await gracefulDegradation("llm.complete", fallback: "cached answer", bus: bus) { () async throws -> String in
                throw Failure()
            }
        }
        #expect(answer == "cached answer")
        let outer = try await timing.timed("rag.answer") { () async throws -> String in
            let inner = try await timing.timed("llm.complete") { () async throws -> String in
                try await gracefulDegradation("llm.complete", fallback: "cached", bus: bus) { () async throws -> String in throw Failure() }
            }
            return inner + " and own work"
        }
        #expect(outer == "cached and own work")
        _ = try await timing.timed("llm.complete") { () async throws -> String in
            try await gracefulDegradation("llm.complete", fallback: "unused", bus: bus) { "fresh" }
        }
        let summary = await live.summary(after: bus)
        await bus.shutdown()
        let outcomes = try sink.events.filter { $0.kind == .timingRecorded }.map { try $0.payload(as: TimingRecorded.self) }
            .map { "\($0.operation)=\($0.outcome)" }
        #expect(outcomes == ["llm.complete=fallback", "llm.complete=fallback", "rag.answer=success", "llm.complete=success"])
        #expect(summary.operations["llm.complete"]?.fallbacks == 2 && summary.operations["llm.complete"]?.errors == 0)
        #expect(summary.prometheusExposition.contains(#"hardening_operation_fallbacks_total{operation="llm.complete"} 2"#))
    }

    @Test func cancellationIsItsOwnOutcome() async throws {
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let timing = Timing(clock: ManualClock(), bus: bus)
        await #expect(throws: CancellationError.self) {
            try await timing.timed("op") { () async throws -> Int in throw CancellationError() }
        }
        await bus.shutdown()
        #expect(try sink.events.first?.payload(as: TimingRecorded.self).outcome == "cancelled")
    }

    @Test func errorTrackerSummarisesRedactsAndStaysBounded() async throws {
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let tracker = ErrorTracker(bus: bus, recentLimit: 3)
        for index in 0..<5 {
            tracker.record(operation: index % 2 == 0 ? "notion.fetch" : "zotero.sync", error: Failure(),
                           context: ["page": .int(Int64(index)), "api_key": "plain-secret-value"])
        }
        let summary = tracker.summary
        #expect(summary.totalErrors == 5)
        #expect(summary.byOperation == ["notion.fetch": 3, "zotero.sync": 2])
        #expect(summary.byType == ["Failure": 5])
        #expect(summary.recent.map { $0.context["page"]?.intValue } == [2, 3, 4])
        #expect(summary.recent.allSatisfy { $0.context["api_key"] == "[REDACTED]" && !$0.message.contains("sk-abc") })
        await bus.shutdown()
        let recorded = try sink.events.map { try $0.payload(as: ErrorRecorded.self) }
        #expect(recorded.count == 5)
        #expect(recorded.allSatisfy { $0.context["api_key"] == "[REDACTED]" })
    }
}
