import Foundation
import Hardening
import HardeningAgent
import HardeningLog
import HardeningTestKit
import Testing

/// The live dashboard's view is the replay page's sections over the live summary and timeline:
/// the same events render the same HTML live and replayed. Its timeline keeps a sliding window.
@Suite struct LiveDashboardTests {
    /// A scripted run through a bus: operations failing and falling back, a breaker opening and
    /// closing, a check going red with an alert fired and resolved. Returns its events as written.
    static func scriptedRun(into dashboard: LiveDashboard, clock: ManualWallClock) async -> [Event] {
        let memory = InMemorySink()
        let bus = EventBus(configuration: .init(service: "rag-live", volume: .full), sinks: [memory, dashboard.summary] + dashboard.sinks, clock: clock)
        func emit(_ payload: some EventPayload) {
            clock.advance(by: .milliseconds(700))
            bus.emit(payload)
        }
        for question in 0..<40 {
            let fails = question % 9 == 4
            emit(TimingRecorded(operation: "pinecone.query", durationMs: Double(30 + question % 7), outcome: fails ? "error" : "success"))
            if fails {
                emit(ErrorRecorded(operation: "pinecone.query", errorType: "HTTPError", error: "HTTP 503 <upstream>"))
                emit(FallbackUsed(operation: "rag.answer", fallback: "cached", errorType: "HTTPError", error: "HTTP 503"))
            }
            emit(TimingRecorded(operation: "rag.answer", durationMs: Double(80 + question % 11), outcome: "success"))
            emit(HealthProbed(check: "pinecone", status: question >= 20 && question < 30 ? "unhealthy" : "healthy", latencyMs: 12,
                              detail: question >= 20 && question < 30 ? "HTTP 503 from describe_index_stats" : "ok"))
            if question == 22 { emit(AlertFired(rule: "consecutive_failures", check: "pinecone", reason: "3 failures in a row", consecutiveFailures: 3)) }
            if question == 31 { emit(AlertResolved(rule: "consecutive_failures", check: "pinecone", consecutiveSuccesses: 2, firedForMs: 6300)) }
            if question == 20 { emit(BreakerStateChanged(breaker: "pinecone", from: "closed", to: "open", reason: "failures", failures: 3, successes: 0)) }
            if question == 30 { emit(BreakerStateChanged(breaker: "pinecone", from: "open", to: "closed", reason: "probe", failures: 0, successes: 1)) }
        }
        await bus.shutdown()
        return memory.events
    }

    @Test func theLiveViewShowsWhatTheReplayPageShowsOfTheSameEvents() async throws {
        let dashboard = LiveDashboard(summary: SummarySink(), reuseFor: .zero)
        let events = await Self.scriptedRun(into: dashboard, clock: ManualWallClock())
        let directory = TemporaryDirectory(prefix: "live-dashboard")
        defer { directory.remove() }
        let encoder = JSONLineEncoder()
        try directory.write("events.jsonl", events.map { String(decoding: encoder.encode($0), as: UTF8.self) }.joined())
        let replayed = try Replay().run(ReplayInputs([directory.path + "/events.jsonl"])).html

        let view = dashboard.view()
        // The view: a line of who, one of loss and clients, then the sections, as replayed.
        let sections = try #require(view.range(of: "<h2>")).lowerBound
        let shared = String(view[sections...])
        #expect(shared.count > 5_000 && replayed.contains(shared), "the live sections are the replay page's, byte for byte")
        for part in ["aria-label=\"latency over time\"", "aria-label=\"breaker states\"", "aria-label=\"health\"", "aria-label=\"errors\"",
                     "aria-label=\"events\"", "<th>error rate</th>", "<th>fallback rate</th>", "<td class=\"n\">10.0%</td>",
                     "<h3>Recent errors</h3>", "HTTP 503 &lt;upstream&gt;", "<h3>Recent alerts</h3>", "3 failures in a row", "<td>ok</td>"] {
            #expect(shared.contains(part), "\(part)")
        }
        #expect(view.contains("service rag-live on host") && view.contains("event stream: 0 client(s), 0 dropped"))
        let page = dashboard.page(title: "agent <one>")
        #expect(page.contains("<title>agent &lt;one&gt;</title>") && page.contains("new EventSource('events/stream')") && page.contains(shared))
        // Self-contained: nothing is loaded from elsewhere.
        #expect(!page.contains("http://") && !page.contains("https://") && !page.contains(" src=")
                && page.components(separatedBy: "<link").count == 2 && page.contains("<link rel=\"icon\" href=\"data:,\">"))
    }

    @Test func theWindowForgetsOldBucketsButKeepsEachBreakersStateAtItsStart() {
        var timeline = Timeline()
        let start: Int64 = 1_796_000_000_000_000
        func at(_ seconds: Int64) -> Timestamp { Timestamp(microsecondsSinceEpoch: start + seconds * 1_000_000) }
        timeline.recordTiming(at: at(0), operation: "a", durationMs: 5, failed: false)
        timeline.recordStateChange(at: at(10), run: "r", breaker: "b", to: "open")
        timeline.recordStateChange(at: at(20), run: "r", breaker: "b", to: "half_open")
        timeline.recordStateChange(at: at(30), run: "r", breaker: "b", to: "open")
        timeline.recordProbe(at: at(40), check: "c", status: "unhealthy", detail: "refused")
        timeline.recordTiming(at: at(900), operation: "a", durationMs: 5, failed: false)
        timeline.recordStateChange(at: at(950), run: "r", breaker: "b", to: "closed")
        timeline.forget(before: at(600))
        let firstBucket = timeline.buckets.keys.min().map { $0 * timeline.width } ?? 0
        #expect(firstBucket >= start + 590 * 1_000_000, "buckets before the window are gone")
        #expect(timeline.stateChanges["b"]?.map(\.state) == ["open", "closed"], "the state when the window starts, then what followed")
        #expect(timeline.lastProbes["c"]?.detail == "refused", "the last probe stays")
    }

    @Test func theLatestProbeAndAlertsSurviveAMergeInTimeOrder() {
        var early = Timeline()
        var late = Timeline()
        let base = Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000)
        let later = Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000 + 5_000_000)
        late.recordProbe(at: later, check: "c", status: "healthy", detail: "back")
        early.recordProbe(at: base, check: "c", status: "unhealthy", detail: "down")
        late.recordAlert(at: later, rule: "r", check: "c", fired: false, reason: "")
        early.recordAlert(at: base, rule: "r", check: "c", fired: true, reason: "3 failures")
        late.merge(early)
        #expect(late.lastProbes["c"]?.detail == "back")
        #expect(late.alertChanges.map(\.fired) == [true, false])
    }
}
