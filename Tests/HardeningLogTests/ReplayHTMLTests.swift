import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import Testing

/// The post-mortem page of a scripted workload: errors counted once however many nested
/// operations they fail, readable axes, who and when in the header, no empty sections.
@Suite struct ReplayHTMLTests {
    /// Three questions fail: each one error (`error.recorded`) through three nested timed
    /// operations (retrieval inside answering inside the request), between successful ones.
    static func scriptedLines() -> String {
        let encoder = JSONLineEncoder()
        var clock: Int64 = 1_796_000_000_000_000
        var seq: UInt64 = 0
        var text = ""
        func emit(_ payload: any EventPayload) {
            clock += 1_500_000
            seq += 1
            let event = Event(timestamp: Timestamp(microsecondsSinceEpoch: clock), level: payload.defaultLevel, kind: type(of: payload).kind,
                              message: payload.message, service: "rag-demo", host: "web-7", run: "cccccccccccccccc", seq: seq,
                              attrs: payload.attributes)
            text += String(decoding: encoder.encode(event), as: UTF8.self)
        }
        for question in 0..<30 {
            let fails = [7, 15, 23].contains(question)
            for operation in ["pinecone.query", "rag.answer", "http.request"] {
                emit(TimingRecorded(operation: operation, durationMs: Double(20 + question), outcome: fails ? "error" : "success"))
                if fails && operation == "pinecone.query" {
                    emit(ErrorRecorded(operation: "pinecone.query", errorType: "HTTPError", error: "HTTP 503"))
                }
            }
        }
        return text
    }

    static func page() throws -> String {
        let directory = TemporaryDirectory(prefix: "replay-html")
        defer { directory.remove() }
        try directory.write("events.jsonl", scriptedLines())
        return try Replay().run(ReplayInputs([directory.path + "/events.jsonl"])).html
    }

    /// The bars of the errors chart: each bar's count is its `<title>`.
    static func errorBars(_ html: String) -> [Int] {
        guard let start = html.range(of: "aria-label=\"errors\""), let end = html[start.upperBound...].range(of: "</svg>") else { return [] }
        let chart = html[start.upperBound..<end.lowerBound]
        return chart.components(separatedBy: "<title>").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
    }

    @Test func theErrorChartCountsEachErrorOnceWhateverItFailedOnTheWay() throws {
        let html = try Self.page()
        let bars = Self.errorBars(html)
        #expect(bars.reduce(0, +) == 3, "three errors, one bar each or summed: \(bars)")
        #expect(html.contains("Errors: 3"))
        // The operations still count their own failures.
        #expect(html.contains("<td>rag.answer</td><td class=\"n\">30</td><td class=\"n\">3</td>"))
    }

    @Test func theHeaderSaysWhoAndWhenAndTheAxesHaveTicks() throws {
        let html = try Self.page()
        #expect(html.contains("<title>swift-hardening replay: rag-demo</title>"))
        #expect(html.contains("service rag-demo on host web-7, run cccccccccccccccc: 2026-"))
        #expect(html.contains(">UTC</text>"), "the time zone is stated")
        // 123 events 1.5 s apart: about three minutes, ticks every 30 s (HH:MM:SS).
        let ticks = html.components(separatedBy: "class=\"time\">").dropFirst().map { $0.prefix { $0 != "<" } }
        #expect(ticks.count >= 3 * 2, "ticks on the latency and the errors chart: \(ticks)")
        #expect(ticks.allSatisfy { $0.count == 8 && ($0.hasSuffix(":00") || $0.hasSuffix(":30")) }, "HH:MM:SS at a 30 s step: \(ticks)")
        #expect(html.contains(">ms</text>"), "the latency axis says its unit")
    }

    @Test func sectionsWithNothingToShowAreLeftOut() throws {
        let html = try Self.page()
        #expect(!html.contains(">none</p>"))
        for absent in ["Circuit breakers", "Breaker states", "Retries", "Health", "Counters", "Recorders"] {
            #expect(!html.contains("<h2>\(absent)"), "\(absent) has nothing to show")
        }
        #expect(html.contains("<h2>Operations (ms)</h2>") && html.contains("<h2>Events by kind</h2>"))
    }

    @Test func ticksFallOnRoundStepsForEverySpan() {
        let start: Int64 = 1_796_000_000_123_456
        for (span, label) in [(Int64(900_000), "12"), (Int64(20_000_000), "8"), (Int64(1_800_000_000), "5"), (Int64(3 * 86_400_000_000), "11")] {
            let ticks = TimelineChart.ticks(from: start, to: start + span)
            #expect((2...7).contains(ticks.count), "\(span) µs: \(ticks.map(\.label))")
            #expect(ticks.allSatisfy { $0.label.count == Int(label)! }, "\(span) µs: \(ticks.map(\.label))")
            #expect(ticks.allSatisfy { $0.microseconds >= start && $0.microseconds <= start + span })
        }
        // A damaged timestamp decades away still gives a handful of ticks, on whole days.
        let decades = TimelineChart.ticks(from: 0, to: start)
        #expect((2...7).contains(decades.count) && decades.allSatisfy { $0.label.count == 10 }, "\(decades.map(\.label))")
    }
}
