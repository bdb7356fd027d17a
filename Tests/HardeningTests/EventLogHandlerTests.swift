import Hardening
import HardeningTestKit
import Logging
import Testing

private struct QuotaExceeded: Error {}

@Suite struct EventLogHandlerTests {
    @Test func logRecordsBecomeLogMessageEventsWithMergedMetadata() async throws {
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "rag", volume: .full), sinks: [sink])
        let provider = Logger.MetadataProvider { ["request_id": "r-42", "tenant": "from-provider"] }
        var logger = Logger(label: "rag.pipeline", factory: EventLogHandler.factory(bus: bus, logLevel: .debug, metadataProvider: provider))
        logger[metadataKey: "component"] = "retriever"
        logger[metadataKey: "tenant"] = "from-handler"
        logger.trace("not emitted: below the handler's level")
        logger.info("retrieved chunks", metadata: ["count": "12", "tenant": "from-call", "ids": ["a", "b"],
                                                  "timing": ["ms": .stringConvertible(41.5)]])
        logger.error("embedding failed", error: QuotaExceeded())
        logger.warning("token in a message", metadata: ["api_key": "sk-live-0123456789abcdefghijklmn"])
        await bus.shutdown()
        #expect(sink.events.map(\.kind) == [.logMessage, .logMessage, .logMessage])
        #expect(sink.events.map(\.level) == [.info, .error, .warning])
        let first = try sink.events[0].payload(as: LogMessage.self)
        #expect(first.logger == "rag.pipeline" && first.text == "retrieved chunks" && first.source == "HardeningTests")
        #expect(first.metadata["component"] == "retriever")
        #expect(first.metadata["request_id"] == "r-42")
        #expect(first.metadata["tenant"] == "from-call", "the call's metadata wins over the provider's and the handler's")
        #expect(first.metadata["ids"] == .array(["a", "b"]))
        #expect(first.metadata["timing"] == .object(["ms": "41.5"]))
        let failure = try sink.events[1].payload(as: LogMessage.self)
        #expect(failure.metadata["error_type"] == "QuotaExceeded")
        let secret = try sink.events[2].payload(as: LogMessage.self)
        #expect(secret.metadata["api_key"]?.stringValue?.contains("sk-live") == false, "redacted on the bus like every event")
    }

    @Test func theLiveSummaryCountsLogRecordsByLevel() async throws {
        let live = SummarySink()
        let bus = EventBus(configuration: .init(service: "rag", volume: .full), sinks: [live])
        let logger = Logger(label: "app", factory: EventLogHandler.factory(bus: bus))
        for index in 0..<5 { logger.notice("step \(index)") }
        let summary = await live.summary(after: bus)
        #expect(summary.byKind["log.message"] == 5 && summary.byLevel["notice"] == 5)
        await bus.shutdown()
    }
}
