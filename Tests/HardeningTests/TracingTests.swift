import Hardening
import HardeningLog
import HardeningTestKit
import Instrumentation
import Logging
import Testing

private struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

private struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

/// Events carry the W3C `trace_id` and `span_id` of the emitting task's `ServiceContext`.
@Suite struct TracingTests {
    static let trace = TraceContext(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "00f067aa0ba902b7")!

    @Test(arguments: [
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", true),
        ("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", true),  // a future version's extra field
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", false), // version 00 has exactly four
        ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false),
        ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", false),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false),
        ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", false),
        ("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", false),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", false),
        ("", false),
    ])
    func traceparentParsing(header: String, valid: Bool) {
        let parsed = TraceContext(traceparent: header)
        #expect((parsed != nil) == valid, "\(header)")
        if let parsed, header.hasPrefix("00") { #expect(parsed.traceparent == header) }
    }

    @Test func eventsCarryTheServiceContextsIdsIncludingInChildTasksAndLogRecords() async throws {
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "svc", volume: .full), sinks: [sink])
        var context = ServiceContext.topLevel
        context.traceContext = Self.trace
        bus.emit(ErrorRecorded(operation: "outside", errorType: "E", error: "e"))
        let logger = Logger(label: "app", factory: { EventLogHandler(label: $0, bus: bus) })
        await ServiceContext.withValue(context) {
            bus.emit(ErrorRecorded(operation: "inside", errorType: "E", error: "e"))
            await withTaskGroup(of: Void.self) { group in
                group.addTask { bus.emit(ErrorRecorded(operation: "child", errorType: "E", error: "e")) }
            }
            bus.emit(ErrorRecorded(operation: "explicit", errorType: "E", error: "e"), traceID: "0af7651916cd43dd8448eb211c80319c",
                     spanID: "b7ad6b7169203331")
            logger.info("from swift-log")
        }
        await bus.shutdown()
        let events = sink.events
        func ids(_ operation: String) -> (String?, String?) {
            let event = events.first { $0.attrs["operation"] == .string(operation) }
            return (event?.traceID, event?.spanID)
        }
        #expect(ids("outside") == (nil, nil))
        #expect(ids("inside") == (Self.trace.traceID, Self.trace.spanID))
        #expect(ids("child") == (Self.trace.traceID, Self.trace.spanID))
        #expect(ids("explicit") == ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"))
        let log = try #require(events.first { $0.kind == .logMessage })
        #expect(log.traceID == Self.trace.traceID && log.spanID == Self.trace.spanID)
        // And on the line Datadog and Loki read.
        let line = String(decoding: JSONLineEncoder().encode(log), as: UTF8.self)
        #expect(line.contains(#""trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7""#), "\(line)")
    }

    @Test func aCustomProviderReplacesTheServiceContextAndNoneTurnsItOff() async {
        let sink = InMemorySink()
        let custom = EventBus(configuration: .init(service: "svc", traceContext: TraceContextProvider { Self.trace }, volume: .full), sinks: [sink])
        custom.emit(ErrorRecorded(operation: "a", errorType: "E", error: "e"))
        await custom.shutdown()
        #expect(sink.events.first?.traceID == Self.trace.traceID)
        let quiet = InMemorySink()
        let off = EventBus(configuration: .init(service: "svc", traceContext: .none, volume: .full), sinks: [quiet])
        var context = ServiceContext.topLevel
        context.traceContext = Self.trace
        ServiceContext.withValue(context) { off.emit(ErrorRecorded(operation: "a", errorType: "E", error: "e")) }
        await off.shutdown()
        #expect(quiet.events.first?.traceID == nil)
    }

    @Test func thePropagationExtractsAndInjectsTraceparent() {
        let propagation = W3CTraceContextPropagation()
        var context = ServiceContext.topLevel
        propagation.extract(["traceparent": Self.trace.traceparent], into: &context, using: DictionaryExtractor())
        #expect(context.traceContext == Self.trace)
        var ignored = ServiceContext.topLevel
        propagation.extract(["traceparent": "garbage"], into: &ignored, using: DictionaryExtractor())
        #expect(ignored.traceContext == nil)
        var headers: [String: String] = [:]
        propagation.inject(context, into: &headers, using: DictionaryInjector())
        #expect(headers == ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"])
    }
}

@Suite struct TraceContextGenerationTests {
    @Test func randomTracesAndChildSpansAreValidAndDistinct() {
        let first = TraceContext.random(), second = TraceContext.random()
        #expect(first.traceID != second.traceID && TraceContext(traceparent: first.traceparent) == first)
        let child = first.child()
        #expect(child.traceID == first.traceID && child.spanID != first.spanID && TraceContext(traceparent: child.traceparent) == child)
    }
}
