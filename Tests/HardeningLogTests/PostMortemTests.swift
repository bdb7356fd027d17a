import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import Testing

/// Replay's post-mortem sections (first failure, open and unhealthy periods, the incident's
/// timeline), the time-ordered events output, and the trace and run filters.
@Suite struct PostMortemTests {
    private static let start: Int64 = 1_796_000_000_000_000
    private let encoder = JSONLineEncoder()

    /// One line our encoder writes: `payload` at `seconds` after a fixed start.
    private func line(_ payload: any EventPayload, run: String, host: String, seq: UInt64, at seconds: Double,
                      trace: String? = nil) -> String {
        let event = Event(timestamp: Timestamp(microsecondsSinceEpoch: Self.start + Int64(seconds * 1e6)), level: payload.defaultLevel,
                          kind: type(of: payload).kind, message: payload.message, service: "rag", host: host, run: run, seq: seq,
                          traceID: trace, spanID: trace.map { _ in "00f067aa0ba902b7" }, attrs: payload.attributes)
        return String(decoding: encoder.encode(event), as: UTF8.self)
    }

    private func write(_ lines: [String], to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try lines.joined().write(toFile: path, atomically: true, encoding: .utf8)
    }

    private func json(_ report: Replay.Report) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(report.json.jsonText.utf8))) as? [String: Any] ?? [:]
    }

    private func timing(_ operation: String, _ outcome: String = "success") -> TimingRecorded {
        TimingRecorded(operation: operation, durationMs: 12.5, outcome: outcome)
    }

    /// Two hosts: web-2 fails first (a timeout), web-1 later; web-1's breaker opens, closes and
    /// opens again until the end of its logs; web-2's check goes unhealthy and recovers.
    private func incident() -> (web1: [String], web2: [String]) {
        let a = "aaaaaaaaaaaaaaaa", b = "bbbbbbbbbbbbbbbb"
        let web1 = [
            line(timing("llm.complete"), run: a, host: "web-1", seq: 1, at: 0),
            line(RetryAttemptFailed(operation: "llm.complete", attempt: 1, delayMs: 100, errorType: "HTTPError", error: "503"),
                 run: a, host: "web-1", seq: 2, at: 5, trace: "4bf92f3577b34da6a3ce929d0e0e4736"),
            line(BreakerStateChanged(breaker: "llm", from: "closed", to: "open", reason: "failure_threshold", failures: 5, successes: 0),
                 run: a, host: "web-1", seq: 3, at: 6),
            line(BreakerRejected(breaker: "llm", state: "open", retryAfterMs: 1000), run: a, host: "web-1", seq: 4, at: 6.5,
                 trace: "4bf92f3577b34da6a3ce929d0e0e4736"),
            line(FallbackUsed(operation: "rag.answer", fallback: "cached", errorType: "RetryError", rootErrorType: "HTTPError", error: "gave up"),
                 run: a, host: "web-1", seq: 5, at: 6.6, trace: "4bf92f3577b34da6a3ce929d0e0e4736"),
            line(BreakerStateChanged(breaker: "llm", from: "open", to: "half_open", reason: "recovery_timeout", failures: 0, successes: 0),
                 run: a, host: "web-1", seq: 6, at: 16),
            line(BreakerStateChanged(breaker: "llm", from: "half_open", to: "closed", reason: "trial_succeeded", failures: 0, successes: 1),
                 run: a, host: "web-1", seq: 7, at: 16.5),
            line(BreakerStateChanged(breaker: "llm", from: "closed", to: "open", reason: "failure_threshold", failures: 5, successes: 0),
                 run: a, host: "web-1", seq: 8, at: 20),
            line(timing("llm.complete", "error"), run: a, host: "web-1", seq: 9, at: 21),
            line(timing("vectors.query"), run: a, host: "web-1", seq: 10, at: 30),
        ]
        let web2 = [
            line(TimeoutFired(operation: "vectors.query", scope: "attempt", timeoutMs: 300), run: b, host: "web-2", seq: 1, at: 2),
            line(HealthChanged(check: "vectors", from: "healthy", to: "unhealthy", detail: "HTTP 503"), run: b, host: "web-2", seq: 2, at: 3),
            line(AlertFired(rule: "consecutive_failures", check: "vectors", reason: "3 failures", consecutiveFailures: 3),
                 run: b, host: "web-2", seq: 3, at: 4),
            line(HealthChanged(check: "vectors", from: "unhealthy", to: "degraded", detail: "slow"), run: b, host: "web-2", seq: 4, at: 9),
            line(ErrorRecorded(operation: "rag.answer", errorType: "RetryError", rootErrorType: "TimeoutError", error: "gave up"),
                 run: b, host: "web-2", seq: 5, at: 10),
        ]
        return (web1, web2)
    }

    @Test func theSectionsAnswerWhatFailedFirstAndWhatWasOpenWhenOnEachHost() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (web1, web2) = incident()
        try write(web1, to: directory.path + "/web-1/events.jsonl")
        try write(web2, to: directory.path + "/web-2/events.jsonl")
        let report = try Replay().run(ReplayInputs([directory.path]))
        let object = json(report)
        let first = try #require(object["first_failure"] as? [String: Any])
        #expect(first["host"] as? String == "web-2" && first["event"] as? String == "timeout.fired")
        #expect(first["operation"] as? String == "vectors.query" && first["root_error_type"] as? String == "TimeoutError")
        #expect(first["timestamp"] as? String == Timestamp(microsecondsSinceEpoch: Self.start + 2_000_000).description)
        let byHost = try #require(object["first_failure_by_host"] as? [String: [String: Any]])
        #expect(byHost["web-1"]?["event"] as? String == "retry.attempt_failed")
        #expect(byHost["web-1"]?["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")

        let breakers = try #require(object["breaker_intervals"] as? [[String: Any]])
        #expect(breakers.count == 2)
        #expect(breakers[0]["open_seconds"] as? Double == 10 && breakers[0]["ended_as"] as? String == "half_open")
        #expect(breakers[0]["reason"] as? String == "failure_threshold" && breakers[0]["host"] as? String == "web-1")
        // Still open when the logs end: no close, and open until the run's last event (30 s), not for no time.
        #expect(breakers[1]["closed_at"] is NSNull && breakers[1]["open_seconds"] as? Double == 10)
        let unhealthy = try #require(object["unhealthy_intervals"] as? [[String: Any]])
        #expect(unhealthy.count == 1 && unhealthy[0]["check"] as? String == "vectors" && unhealthy[0]["unhealthy_seconds"] as? Double == 6)
        #expect(unhealthy[0]["ended_as"] as? String == "degraded" && unhealthy[0]["detail"] as? String == "HTTP 503")

        let timeline = try #require(object["timeline"] as? [[String: Any]])
        let whats = timeline.map { "\($0["host"]!) \($0["what"]!)" }
        #expect(whats == [
            "web-2 first_failure", "web-2 health_changed", "web-2 alert_fired", "web-1 first_failure", "web-1 breaker_changed",
            "web-1 first_failure", "web-1 fallback_started", "web-2 health_changed", "web-2 first_failure", "web-1 breaker_changed",
            "web-1 breaker_changed", "web-1 breaker_changed",
        ], "\(whats)")
        let times = timeline.compactMap { $0["timestamp"] as? String }
        #expect(times == times.sorted())
        // Errors group by what failed as well as by the wrapper.
        let errors = try #require(object["errors"] as? [String: Any])
        #expect((errors["by_type"] as? [String: Int]) == ["RetryError": 1] && (errors["by_root_cause"] as? [String: Int]) == ["TimeoutError": 1])
        #expect(report.text.contains("First failure: \(Timestamp(microsecondsSinceEpoch: Self.start + 2_000_000)) web-2 operation vectors.query"))
        #expect(report.text.contains("(still, at the end)"))
        #expect(report.html.contains("<h2>Post-mortem</h2>"))
    }

    @Test func theSectionsAreTheSameWhateverReadsThem() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (web1, web2) = incident()
        // web-1's run in three files (a reader may fold them apart), web-2's in one.
        try write(Array(web1[0..<3]), to: directory.path + "/web-1/events-1.jsonl")
        try write(Array(web1[3..<7]), to: directory.path + "/web-1/events-2.jsonl")
        try write(Array(web1[7...]), to: directory.path + "/web-1/events-3.jsonl")
        try write(web2, to: directory.path + "/web-2/events.jsonl")
        let inputs = ReplayInputs([directory.path])
        func sections(_ replay: Replay, decoding: Bool = false) throws -> String {
            let report = decoding ? try replay.run(inputs, onEvent: { _ in }) : try replay.run(inputs)
            let object = json(report)
            let keys = ["first_failure", "first_failure_by_host", "breaker_intervals", "unhealthy_intervals", "timeline", "timeline_omitted"]
            return String(decoding: try JSONSerialization.data(withJSONObject: keys.map { object[$0] ?? NSNull() }, options: [.sortedKeys]),
                          as: UTF8.self)
        }
        var sequential = Replay()
        sequential.workers = 1
        let expected = try sections(sequential)
        #expect(expected.contains("breaker_changed"))
        for workers in [2, 4] {
            var parallel = Replay()
            parallel.workers = workers
            #expect(try sections(parallel) == expected, "\(workers) workers")
        }
        var decoder = Replay()
        decoder.scansBytes = false
        #expect(try sections(decoder) == expected, "the decoder and the byte scanner")
        #expect(try sections(Replay(), decoding: true) == expected, "the time-ordered events path")
    }

    @Test func theTimelineKeepsTheEarliestAndCountsTheRest() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let count = PostMortem.timelineLimit + 250
        var lines: [String] = []
        for index in 0..<count {
            let to = index % 2 == 0 ? "open" : "half_open"
            let from = index % 2 == 0 ? "half_open" : "open"
            lines.append(line(BreakerStateChanged(breaker: "llm", from: index == 0 ? "closed" : from, to: to, reason: "r", failures: 0, successes: 0),
                              run: "cccccccccccccccc", host: "web-3", seq: UInt64(index + 1), at: Double(index)))
        }
        try write(lines.reversed(), to: directory.path + "/events.jsonl")
        let object = json(try Replay().run(ReplayInputs([directory.path])))
        let timeline = try #require(object["timeline"] as? [[String: Any]])
        #expect(timeline.count == PostMortem.timelineLimit)
        #expect(object["timeline_omitted"] as? Int == 250)
        #expect(timeline.first?["seq"] as? Int == 1 && timeline.last?["seq"] as? Int == PostMortem.timelineLimit)
        // Every open period is there, however many: the cap is the timeline's alone.
        #expect((object["breaker_intervals"] as? [Any])?.count == count / 2)
    }

    @Test func eventsOfSeveralDirectoriesComeOutInTimeOrderOnceEach() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (web1, web2) = incident()
        // A failure's context comes after the failure in the file (written when the trace
        // failed): the merged output still puts it in its place.
        let late = line(TimingRecorded(operation: "llm.complete", durationMs: 3, outcome: "success", inWindow: true),
                        run: "aaaaaaaaaaaaaaaa", host: "web-1", seq: 11, at: 4.5, trace: "4bf92f3577b34da6a3ce929d0e0e4736")
        try write(web1 + [late], to: directory.path + "/web-1/events.jsonl")
        try write(web2, to: directory.path + "/web-2/events.jsonl")
        // A copy of web-2's file elsewhere: its events come out once.
        try write(web2, to: directory.path + "/backup/events.jsonl")
        var events: [Event] = []
        let report = try Replay().run(ReplayInputs([directory.path]), onEvent: { events.append($0) })
        #expect(events.count == web1.count + 1 + web2.count)
        let keys = events.map { ($0.timestamp, $0.host, $0.run, $0.seq) }
        #expect(zip(keys, keys.dropFirst()).allSatisfy { $0 <= $1 }, "\(events.map { "\($0.timestamp) \($0.host)" })")
        #expect(report.input.duplicateEvents == Int64(web2.count))
        #expect(report.summary.events == Int64(web1.count + 1 + web2.count))
    }

    @Test func traceAndRunFiltersKeepOneRequestOrOneRunOnEveryReader() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (web1, web2) = incident()
        try write(web1, to: directory.path + "/web-1/events.jsonl")
        try write(web2, to: directory.path + "/web-2/events.jsonl")
        var filter = ReplayFilter()
        filter.traceIDs = ["4bf92f3577b34da6a3ce929d0e0e4736"]
        var events: [Event] = []
        let decoded = try Replay(filter: filter).run(ReplayInputs([directory.path]), onEvent: { events.append($0) })
        #expect(events.map(\.kind) == [.retryAttemptFailed, .breakerRejected, .fallbackUsed])
        let scanned = try Replay(filter: filter).run(ReplayInputs([directory.path]))
        #expect(scanned.summary.json.jsonText == decoded.summary.json.jsonText)
        #expect(scanned.input.eventsKept == 3)

        var byRun = ReplayFilter()
        byRun.runs = ["bbbbbbbbbbbbbbbb"]
        let run = try Replay(filter: byRun).run(ReplayInputs([directory.path]))
        #expect(run.input.eventsKept == Int64(web2.count))
        #expect(run.summary.byKind["breaker.state_changed"] == nil)
    }
}
