import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Testing

/// Replay tells the same truth in every format and never crashes on hostile runs: the inputs of
/// an attack run, and the wrong answers it found.
@Suite struct TruthfulReplayTests {
    static func line(_ seconds: Int, _ run: String, _ seq: UInt64, kind: String = "log.message",
                     attrs: String = #"{"logger":"l","source":"s","text":"t","metadata":{}}"#) -> String {
        #"{"timestamp":"2026-11-30T00:00:"# + String(format: "%02d", seconds) + #".000000Z","level":"info","event":""# + kind
            + #"","message":"m","service":"s","host":"h","run":""# + run + #"","seq":\#(seq),"attrs":"# + attrs + "}\n"
    }

    static func replay(_ text: String) throws -> (Replay.Report, TemporaryDirectory) {
        let directory = TemporaryDirectory(prefix: "truthful")
        try text.write(toFile: directory.path + "/events.jsonl", atomically: true, encoding: .utf8)
        return (try Replay().run(ReplayInputs([directory.path + "/events.jsonl"])), directory)
    }

    /// Every format renders (the sums saturate instead of trapping).
    static func renderEveryFormat(_ report: Replay.Report) -> (text: String, json: String, html: String, prometheus: String) {
        (report.text, report.json.jsonText, report.html, report.prometheusText)
    }

    @Test func runsWhoseSeqReachesTwoToTheSixtyThreeNeverCrashTheReader() throws {
        var text = ""
        for run in ["0123456789abcdef", "1123456789abcdef", "2123456789abcdef"] {
            text += Self.line(0, run, 1) + Self.line(1, run, 9_223_372_036_854_775_807)
        }
        text += Self.line(2, "3123456789abcdef", 18_446_744_073_709_551_615) + Self.line(3, "3123456789abcdef", 1)
        let (report, directory) = try Self.replay(text)
        defer { directory.remove() }
        #expect(report.summary.missingEvents == UInt64.max, "saturated, not wrapped")
        let formats = Self.renderEveryFormat(report)
        #expect(formats.text.contains("events missing") && formats.json.contains("missing_events"))
    }

    @Test func aLostTailIsToldInEveryFormat() throws {
        var text = ""
        for run in ["0123456789abcdef", "1123456789abcdef", "2123456789abcdef"] {
            text += Self.line(0, run, 1) + Self.line(2, run, 0, kind: "file.closed",
                                                    attrs: #"{"last_seq_written":1,"last_seq_received":6086,"lost_events":6085,"reason":"shutdown"}"#)
        }
        text += Self.line(4, "3123456789abcdef", 1) + Self.line(5, "3123456789abcdef", 0, kind: "file.closed",
                                                                  attrs: #"{"last_seq_written":1,"last_seq_received":4611686018427387905,"lost_events":4611686018427387904,"reason":"shutdown"}"#)
        let (report, directory) = try Self.replay(text)
        defer { directory.remove() }
        let lost = report.summary.lostTailEvents
        #expect(lost == 3 * 6085 + 4_611_686_018_427_387_904)
        let formats = Self.renderEveryFormat(report)
        #expect(formats.text.contains("lost at the end of a run (file.closed)  4,611,686,018,427,406,159"), "\(formats.text)")
        #expect(formats.json.contains(#""lost_tail_events":4611686018427406159"#))
        #expect(formats.html.contains("lost at the end of a run: 4,611,686,018,427,406,159"))
        #expect(formats.prometheus.contains("hardening_events_lost_tail_total 4.611686018427406e+18"), "\(formats.prometheus)")
    }

    @Test func aBreakerStillOpenWhenTheLogsEndHasBeenOpenUntilTheirLastEvent() throws {
        let opened = #"{"breaker":"llm","from":"closed","to":"open","reason":"failure_threshold","failures":5,"successes":0}"#
        let text = Self.line(0, "0123456789abcdef", 1) + Self.line(10, "0123456789abcdef", 2, kind: "breaker.state_changed", attrs: opened)
            + Self.line(40, "0123456789abcdef", 3)
        let (report, directory) = try Self.replay(text)
        defer { directory.remove() }
        #expect(report.summary.openMicroseconds(of: "llm") == 30_000_000)
        let formats = Self.renderEveryFormat(report)
        #expect(formats.json.contains(#""open_ms":30000"#), "\(formats.json)")
        #expect(formats.prometheus.contains(#"hardening_breaker_open_seconds_total{breaker="llm"} 30"#))
        #expect(formats.text.contains("30 s"))
    }

    @Test func degradedProbesAreDrawnDegradedNotFailing() throws {
        var text = ""
        for (index, status) in ["degraded", "degraded", "unhealthy"].enumerated() {
            text += Self.line(index * 20, "0123456789abcdef", UInt64(index + 1), kind: "health.probed",
                              attrs: #"{"check":"llm","status":""# + status + #"","latency_ms":5,"detail":"slow","observed":{}}"#)
        }
        let (report, directory) = try Self.replay(text)
        defer { directory.remove() }
        let points = report.timeline.buckets.values.compactMap { $0.probes["llm"] }
        #expect(points.map(\.degraded).reduce(0, +) == 2 && points.map(\.failing).reduce(0, +) == 1)
        let html = report.html
        #expect(html.contains(##"fill="#fb8c00""##) && html.contains(##"fill="#e53935""##), "degraded in amber, unhealthy in red")
    }

    @Test func segmentsDeletedByRetentionAreNotCountedAsMissing() async throws {
        let directory = TemporaryDirectory(prefix: "retention")
        defer { directory.remove() }
        let files = RotatingFileSink(configuration: .init(directory: directory.path, maxFileBytes: 4_096, minRotationInterval: .zero,
                                                          compression: .init(level: 1, delay: .zero), retention: .init(maxFiles: 2)))
        let bus = EventBus(configuration: .init(service: "retention", volume: .full), sinks: [files])
        for index in 0..<2_000 {
            bus.emit(.info, "test.retention", message: "event \(index)")
            if index % 100 == 0 { await bus.flush() }
        }
        await bus.shutdown()
        files.waitForBackgroundWork()
        let report = try Replay().run(ReplayInputs([directory.path]))
        let run = try #require(report.summary.runs.values.first)
        #expect(run.beforeFirstFile > 0 && run.missing == 0 && report.summary.missingEvents == 0, "\(report.summary.jsonText)")
        #expect(UInt64(report.summary.events) + run.beforeFirstFile == run.seen.highest)
        #expect(report.text.contains("in earlier files not read (deleted by retention, or not named; not loss)"))
        #expect(report.summary.jsonText.contains(#""before_first_file":\#(run.beforeFirstFile)"#))
    }

    @Test(arguments: [5_000, 70_000, 0])
    func garbageBeforeAGzipMemberHidesNothingAfterIt(garbageBytes: Int) throws {
        let directory = TemporaryDirectory(prefix: "garbage-gzip")
        defer { directory.remove() }
        var plain = ""
        for seq in 1...5_000 { plain += Self.line(seq % 60, "0123456789abcdef", UInt64(seq)) }
        var bytes = Array(String(repeating: "x", count: max(0, garbageBytes - 1)).utf8) + (garbageBytes > 0 ? [0x0A] : [])
        if garbageBytes == 0 { bytes = Array("a torn line without its end".utf8) + bytes }
        try GzipCompressor().compressMember(Array(plain.utf8), into: &bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: directory.path + "/events.jsonl.gz"))
        for scans in [true, false] {
            var replay = Replay()
            replay.scansBytes = scans
            let report = try replay.run(ReplayInputs([directory.path + "/events.jsonl.gz"]))
            #expect(report.summary.events == 5_000 && report.summary.missingEvents == 0, "\(garbageBytes): \(report.input.issues)")
            #expect(report.input.issueCount >= 1, "the garbage is reported")
        }
    }
}
