import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningWorkload
import Testing

/// Replay's byte scanner must never change an answer: the same logs with and without it give
/// the same report, byte for byte.
@Suite struct LineScannerTests {
    private func both(_ path: String) throws -> (fast: Replay.Report, decoded: Replay.Report) {
        var decoding = Replay()
        decoding.scansBytes = false
        return (try Replay().run(ReplayInputs([path])), try decoding.run(ReplayInputs([path])))
    }

    private func both(_ path: String, filter: ReplayFilter) throws -> (fast: Replay.Report, decoded: Replay.Report) {
        var fast = Replay(filter: filter)
        fast.scansBytes = true
        var decoding = Replay(filter: filter)
        decoding.scansBytes = false
        return (try fast.run(ReplayInputs([path])), try decoding.run(ReplayInputs([path])))
    }

    private func expectSame(_ reports: (fast: Replay.Report, decoded: Replay.Report)) {
        #expect(reports.fast.json.jsonText == reports.decoded.json.jsonText)
        #expect(reports.fast.html == reports.decoded.html, "the timelines agree too")
    }

    @Test func theSyntheticWorkloadGivesTheSameReport() throws {
        let directory = TemporaryDirectory(prefix: "scanner-workload")
        defer { directory.remove() }
        var workload = SyntheticWorkload(seed: 5)
        let encoder = JSONLineEncoder()
        var bytes: [UInt8] = []
        for seq in 1...20_000 {
            let next = workload.next()
            let event = Event(timestamp: Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000 + Int64(seq) * 997), level: next.level,
                              kind: next.kind, message: next.message, service: "rag", host: "web-1", run: "0123456789abcdef",
                              seq: UInt64(seq), attrs: next.attrs)
            encoder.append(event, to: &bytes)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: directory.path + "/events.jsonl"))
        let reports = try both(directory.path + "/events.jsonl")
        expectSame(reports)
        var withoutTimeline = Replay()
        withoutTimeline.buildsTimeline = false
        let lean = try withoutTimeline.run(ReplayInputs([directory.path + "/events.jsonl"]))
        #expect(lean.json.jsonText == reports.fast.json.jsonText, "the timeline changes nothing in the summary")
        #expect(lean.timeline.buckets.isEmpty && !reports.fast.timeline.buckets.isEmpty)
    }

    /// The CLI folds from bytes whatever the filter (but one on operations): each filter gives
    /// the report the decoder gives, and keeps what it should.
    @Test func everyEnvelopeFilterGivesTheSameReportOnBothPaths() throws {
        let directory = TemporaryDirectory(prefix: "scanner-filters")
        defer { directory.remove() }
        var workload = SyntheticWorkload(seed: 9)
        let encoder = JSONLineEncoder()
        var bytes: [UInt8] = []
        for seq in 1...6_000 {
            let next = workload.next()
            let event = Event(timestamp: Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000 + Int64(seq) * 1000), level: next.level,
                              kind: next.kind, message: next.message, service: seq % 3 == 0 ? "rag" : "ingest",
                              host: seq % 2 == 0 ? "web-1" : "web-2", run: "0123456789abcdef", seq: UInt64(seq), attrs: next.attrs)
            encoder.append(event, to: &bytes)
        }
        let path = directory.path + "/events.jsonl"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var filters: [ReplayFilter] = []
        var since = ReplayFilter()
        since.since = Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000 + 2_000_000)
        since.until = Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000 + 4_500_000)
        filters.append(since)
        var service = ReplayFilter()
        service.services = ["rag"]
        service.hosts = ["web-1"]
        filters.append(service)
        var level = ReplayFilter()
        level.minimumLevel = .warning
        filters.append(level)
        var kinds = ReplayFilter()
        kinds.kinds = ["breaker.*", "timing.recorded"]
        filters.append(kinds)
        for filter in filters {
            let reports = try both(path, filter: filter)
            expectSame(reports)
            #expect(reports.fast.input.eventsRead == 6_000)
            #expect(reports.fast.input.eventsKept > 0 && reports.fast.input.eventsKept < 6_000, "\(filter)")
            #expect(reports.fast.input.eventsKept == reports.decoded.input.eventsKept)
            #expect(reports.fast.summary.runs["0123456789abcdef"]?.seen.count == 6_000, "every event read counts in its run")
        }
    }

    @Test func oddButValidLinesAndDamagedLinesGiveTheSameReport() throws {
        let directory = TemporaryDirectory(prefix: "scanner-odd")
        defer { directory.remove() }
        let head = #"{"timestamp":"2026-11-29T00:00:00.000000Z","level":"info","event":"timing.recorded","message":"m","service":"s","host":"h","run":"0123456789abcdef","seq":"#
        let variants = [
            #"1,"attrs":{"operation":"op","duration_ms":12.5,"outcome":"success","slow":false}}"#,
            #"2,"attrs":{"operation":"op","duration_ms":12,"outcome":"error"}}"#,
            #"3,"attrs":{"operation":"op","duration_ms":1.0e2,"outcome":"success","slow":true}}"#,
            #"4,"attrs":{"operation":"op","duration_ms":0.1,"outcome":"success","slow":"yes"}}"#,
            #"5,"attrs":{"operation":"o\"p","duration_ms":3,"outcome":"success"}}"#,
            #"6,"attrs":{"operation":"op","duration_ms":"3","outcome":"success"}}"#,
            #"7,"attrs":{"operation":"op","operation":"other","duration_ms":3,"outcome":"success"}}"#,
            #"8,"attrs":{"operation":"op","duration_ms":123456789012345678901234567890,"outcome":"success"}}"#,
            #"9,"attrs":{"operation":"op","duration_ms":-0.0,"outcome":"success","extra":{"a":[1,{"b":null}]}}}"#,
            #"10,"attrs":{"operation":"op","duration_ms":0.30000000000000004,"outcome":"success"}}"#,
            #"11, "attrs":{"operation":"op","duration_ms":3,"outcome":"success"}}"#,
            #"12,"attrs":{"operation":"op","duration_ms":3,"outcome":"success"},"new_field":1}"#,
            #"013,"attrs":{"operation":"op","duration_ms":3,"outcome":"success"}}"#,
            #"14,"attrs":{"operation":"op","duration_ms":3,"outcome":"success"}"#,
            #"15,"attrs":{"operation":"op","duration_ms":1e999,"outcome":"success"}}"#,
            #"16,"attrs":{"operation":"op","duration_ms":3,"outcome":"success","x":[1,2,]}}"#,
            #"20,"attrs":{"operation":"op","duration_ms":-5,"outcome":"success"}}"#,
            #"21,"attrs":{"operation":"op","duration_ms":1e308,"outcome":"success"}}"#,
            #"22,"attrs":{"operation":"op","duration_ms":1e308,"outcome":"success"}}"#,
        ]
        var text = variants.map { head + $0 + "\n" }.joined()
        text += #"{"timestamp":"2026-11-29T00:00:01.000000Z","level":"warning","event":"health.probed","message":"m","service":"s","host":"h","run":"0123456789abcdef","seq":17,"attrs":{"check":"db","status":"unhealthy","latency_ms":5,"detail":7}}"# + "\n"
        text += #"{"timestamp":"2026-11-29T00:00:01.000000Z","level":"error","event":"error.recorded","message":"m","service":"s","host":"h","run":"0123456789abcdef","seq":18,"attrs":{"operation":"op","error_type":"E","error":"boom","context":"not an object"}}"# + "\n"
        text += #"{"timestamp":"2026-11-29T00:00:01.000000Z","level":"notice","event":"breaker.state_changed","message":"m","service":"s","host":"h","run":"0123456789abcdef","seq":19,"attrs":{"breaker":"b","from":"closed","to":"open","reason":"r","failures":2.0,"successes":0}}"# + "\n"
        let path = directory.path + "/events.jsonl"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let reports = try both(path)
        expectSame(reports)
        #expect(reports.fast.summary.operations["op"]?.count ?? 0 >= 8)
        #expect(reports.fast.summary.operations["op"]?.latency.invalidDurations ?? 0 >= 1)
        #expect(reports.fast.text.contains("! op: "), "the text report says what is wrong with the durations")
    }

    @Test func mutatedLinesGiveTheSameReport() throws {
        let directory = TemporaryDirectory(prefix: "scanner-mutated")
        defer { directory.remove() }
        var workload = SyntheticWorkload(seed: 8)
        var generator = SplitMix64(seed: 8)
        let encoder = JSONLineEncoder()
        var bytes: [UInt8] = []
        for seq in 1...3_000 {
            let next = workload.next()
            var line = encoder.encode(Event(timestamp: Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000 + Int64(seq)), level: next.level,
                                            kind: next.kind, message: next.message, service: "rag", host: "h", run: "0123456789abcdef",
                                            seq: UInt64(seq), attrs: next.attrs))
            if generator.next() % 4 == 0 {
                let at = Int(generator.next() % UInt64(line.count - 1))
                line[at] = Array(#"0.9e-":,{}[]"\ aZ"#.utf8)[Int(generator.next() % 16)]
            }
            bytes += line
        }
        try Data(bytes).write(to: URL(fileURLWithPath: directory.path + "/events.jsonl"))
        expectSame(try both(directory.path + "/events.jsonl"))
    }
}
