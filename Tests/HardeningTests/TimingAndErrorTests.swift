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
        let bus = EventBus(configuration: .init(service: "t"), sinks: [sink])
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

    @Test func cancellationIsItsOwnOutcome() async throws {
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t"), sinks: [sink])
        let timing = Timing(clock: ManualClock(), bus: bus)
        await #expect(throws: CancellationError.self) {
            try await timing.timed("op") { () async throws -> Int in throw CancellationError() }
        }
        await bus.shutdown()
        #expect(try sink.events.first?.payload(as: TimingRecorded.self).outcome == "cancelled")
    }

    @Test func errorTrackerSummarisesRedactsAndStaysBounded() async throws {
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t"), sinks: [sink])
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
