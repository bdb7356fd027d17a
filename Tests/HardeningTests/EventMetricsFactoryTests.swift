import CoreMetrics
import Hardening
import HardeningTestKit
import Metrics
import Testing

@Suite struct EventMetricsFactoryTests {
    @Test func swiftMetricsBecomeEventsAndLiveInTheSummary() async throws {
        let live = SummarySink()
        let recorded = InMemorySink()
        let bus = EventBus(configuration: .init(service: "rag", volume: .full), sinks: [live, recorded])
        let factory = EventMetricsFactory(bus: bus)
        // What an instrumented library does, with the factory given instead of bootstrapped.
        let requests = Counter(label: "http_requests", dimensions: [("method", "GET")], factory: factory)
        let latency = Timer(label: "http_request", dimensions: [("route", "/ask")], factory: factory)
        let depth = Gauge(label: "queue_depth", dimensions: [], factory: factory)
        let sizes = Recorder(label: "chunk_bytes", dimensions: [], aggregate: true, factory: factory)
        let tokens = FloatingPointCounter(label: "tokens", dimensions: [], factory: factory)
        for _ in 0..<3 { requests.increment() }
        requests.increment(by: 4)
        latency.recordMilliseconds(12)
        latency.recordMilliseconds(30)
        depth.record(5)
        depth.record(2)
        for size in [100, 300, 200] { sizes.record(size) }
        tokens.increment(by: 2.5)
        tokens.increment(by: 2.5)
        let summary = await live.summary(after: bus)
        #expect(summary.counters["http_requests{method=GET}"] == 7)
        #expect(summary.counters["tokens"] == 5, "swift-metrics folds floating-point increments into whole steps")
        let timed = try #require(summary.operations["http_request{route=/ask}"])
        #expect(timed.count == 2 && timed.latency.minMilliseconds == 12 && timed.latency.maxMilliseconds == 30)
        #expect(summary.recorders["queue_depth"]?.last?.value == 2)
        let distribution = try #require(summary.recorders["chunk_bytes"])
        #expect(distribution.count == 3 && distribution.min == 100 && distribution.max == 300 && distribution.sumMillionths == 600_000_000)
        await bus.shutdown()
        #expect(recorded.events.contains { $0.kind == .metricCounted } && recorded.events.contains { $0.kind == .metricRecorded })
        // Replay of the same events gives the same summary.
        #expect(Summary(folding: recorded.events).jsonText == live.summary.jsonText)
    }
}
