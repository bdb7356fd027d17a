import Hardening
import HardeningTestKit
import Testing

/// Events as the bus delivers them: numbered per run, one millisecond apart.
private func delivered(_ payloads: [any EventPayload], run: String = "0123456789abcdef", firstSeq: UInt64 = 1,
                       start: Int64 = 1_796_000_000_000_000) -> [Event] {
    payloads.enumerated().map { index, payload in
        Event(timestamp: Timestamp(microsecondsSinceEpoch: start + Int64(index) * 1000), level: payload.defaultLevel,
              kind: type(of: payload).kind, message: payload.message, service: "rag", host: "web-1", run: run,
              seq: firstSeq + UInt64(index), attrs: payload.attributes)
    }
}

@Suite struct SummaryTests {
    @Test func operationsHaveTheGuidesCountMeanMinMaxAndPercentiles() throws {
        let durations: [Double] = (1...100).map { Double($0) }
        var payloads: [any EventPayload] = durations.map { TimingRecorded(operation: "pinecone.query", durationMs: $0, outcome: "success", slow: $0 > 95) }
        payloads.append(TimingRecorded(operation: "pinecone.query", durationMs: 0.25, outcome: "error", slow: false))
        let summary = Summary(folding: delivered(payloads))
        let query = try #require(summary.operations["pinecone.query"])
        #expect(query.count == 101 && query.errors == 1 && query.slow == 5)
        #expect(query.latency.minMilliseconds == 0.25 && query.latency.maxMilliseconds == 100)
        #expect(query.latency.meanMilliseconds == (5050 + 0.25) / 101)
        #expect(abs(query.latency.percentileMilliseconds(50) - 50) <= 0.05)
        #expect(abs(query.latency.percentileMilliseconds(99) - 99) <= 0.1)
        #expect(query.latency.percentileMilliseconds(100) == 100)
    }

    /// Hostile numbers: sums stop at the largest value instead of wrapping negative,
    /// percentiles stay between min and max, negative durations are counted and reported.
    @Test func hugeAndNegativeDurationsNeitherWrapNorHide() throws {
        var payloads: [any EventPayload] = [1e308, 1e308, 1e308, 5, -5].map {
            TimingRecorded(operation: "op", durationMs: $0, outcome: "success")
        }
        payloads += [BusDropped(count: .max, totalDropped: .max, policy: "drop_newest"), BusDropped(count: .max, totalDropped: .max, policy: "drop_newest")]
        payloads += [RetryAttemptFailed(operation: "op", attempt: 1, delayMs: 1e300, errorType: "E", error: ""),
                     RetryAttemptFailed(operation: "op", attempt: 2, delayMs: 1e300, errorType: "E", error: "")]
        let summary = Summary(folding: delivered(payloads))
        let latency = try #require(summary.operations["op"]?.latency)
        #expect(latency.count == 5 && latency.invalidDurations == 1 && latency.isTotalSaturated)
        #expect(latency.meanMilliseconds > 0, "a saturated total never wraps negative")
        #expect(latency.minMilliseconds == 0 && latency.maxMilliseconds == 9e15)
        for percentile in [50.0, 90, 99] {
            let value = latency.percentileMilliseconds(percentile)
            #expect(value >= latency.minMilliseconds && value <= latency.maxMilliseconds, "p\(percentile) = \(value)")
        }
        #expect(latency.problem == "1 negative or non-finite duration(s) counted as 0; the total reached the largest number it can hold (the mean is a lower bound)")
        #expect(summary.loss.droppedByBus == .max)
        #expect(summary.retries["op"]?.waitedMicroseconds == .max)
        let json = summary.json.jsonText
        #expect(json.contains(#""invalid_durations":1,"total_saturated":true"#), "\(json)")
        // Merging keeps the flags and saturates too.
        var merged = summary
        merged.merge(summary)
        #expect(merged.operations["op"]?.latency.isTotalSaturated == true && merged.operations["op"]?.latency.invalidDurations == 2)
        #expect(merged.loss.droppedByBus == .max)
    }

    /// Counts are 32-bit until as many values as a bucket could overflow with: then they widen,
    /// value for value, and every percentile stays what 64-bit counts give (here the limit is
    /// made small; normally it is `UInt32.max`).
    @Test func histogramCountsWidenWithoutChangingAPercentile() {
        var reference = LatencyStats()
        var widening = LatencyStats(compactCountLimit: 1_000)
        var mergedCompact = LatencyStats(compactCountLimit: 1_000)
        var part = LatencyStats()
        for index in 0..<5_000 {
            let milliseconds = Double((index * 7_919) % 3_001) / 10
            reference.record(milliseconds: milliseconds)
            widening.record(milliseconds: milliseconds)
            if index % 2 == 0 { mergedCompact.record(milliseconds: milliseconds) } else { part.record(milliseconds: milliseconds) }
        }
        mergedCompact.merge(part)
        #expect(!reference.hasWideCounts && widening.hasWideCounts && mergedCompact.hasWideCounts)
        for stats in [widening, mergedCompact] {
            #expect(stats.json.jsonText == reference.json.jsonText)
        }
    }

    @Test func retriesBreakersAndLimitsAreCounted() throws {
        let summary = Summary(folding: delivered([
            RetryAttemptFailed(operation: "notion", attempt: 1, delayMs: 100, errorType: "E", error: "x"),
            RetryAttemptFailed(operation: "notion", attempt: 2, delayMs: 200, errorType: "E", error: "x"),
            RetrySucceeded(operation: "notion", attempts: 3, elapsedMs: 300),
            RetryExhausted(operation: "notion", attempts: 1, elapsedMs: 0, reason: "not_retryable", errorType: "F", error: "y"),
            BreakerStateChanged(breaker: "notion", from: "closed", to: "open", reason: "failure_threshold", failures: 5, successes: 0),
            BreakerRejected(breaker: "notion", state: "open", retryAfterMs: 59_999),
            BreakerStateChanged(breaker: "notion", from: "open", to: "half_open", reason: "recovery_timeout", failures: 0, successes: 0),
            BreakerStateChanged(breaker: "notion", from: "half_open", to: "closed", reason: "trial_succeeded", failures: 0, successes: 1),
            FallbackUsed(operation: "rag.answer", fallback: "cached", errorType: "E", error: "x"),
            TimeoutFired(operation: "openai", scope: "attempt", timeoutMs: 2000),
            BulkheadRejected(bulkhead: "pinecone", reason: "full", inFlight: 2, queued: 0, maxConcurrent: 2, maxQueue: 0),
            RateLimiterRejected(limiter: "openai", ratePerSecond: 5, burst: 1, retryAfterMs: 200),
            BusDropped(count: 7, totalDropped: 7, policy: "drop_newest"),
        ]))
        let retries = try #require(summary.retries["notion"])
        #expect(retries.retriedAttempts == 2 && retries.succeededAfterRetry == 1 && retries.exhausted == ["not_retryable": 1])
        #expect(retries.waitedMicroseconds == 300_000)
        let breaker = try #require(summary.breakers["notion"])
        #expect(breaker.opened == 1 && breaker.rejected == 1)
        #expect(breaker.openMicroseconds == 2_000, "open from the 5th to the 7th event, 1 ms apart")
        #expect(breaker.latest?.state == "closed")
        #expect(summary.fallbacks["rag.answer"] == ["cached": 1])
        #expect(summary.timeouts["openai"] == ["attempt": 1])
        #expect(summary.bulkheads["pinecone"] == ["full": 1])
        #expect(summary.rateLimiters == ["openai": 1])
        #expect(summary.loss.droppedByBus == 7)
    }

    @Test func recentErrorsAreBoundedAndNewestWin() throws {
        let payloads = (0..<50).map { ErrorRecorded(operation: "op\($0 % 3)", errorType: "E\($0 % 2)", error: "error \($0)", context: [:]) }
        let summary = Summary(folding: delivered(payloads))
        #expect(summary.errors.total == 50)
        #expect(summary.errors.byOperation == ["op0": 17, "op1": 17, "op2": 16])
        #expect(summary.errors.recent.count == Summary.recentErrorLimit)
        #expect(summary.errors.recent.map(\.message) == (30..<50).map { "error \($0)" })
    }

    @Test func holesInSeqAreLostEventsAndDuplicatesAreNot() {
        var coverage = SequenceCoverage()
        for seq in [1, 2, 3, 7, 8, 5, 3, 2, 10, 0] as [UInt64] { coverage.insert(seq) }
        #expect(coverage.count == 7 && coverage.highest == 10 && coverage.missing == 3)
        #expect(coverage.holes == [4...4, 6...6, 9...9])
        var other = SequenceCoverage()
        for seq in [4, 6, 9] as [UInt64] { other.insert(seq) }
        coverage.merge(other)
        #expect(coverage.missing == 0 && coverage.holes.isEmpty)
    }

    @Test func mergingSummariesOfPartsEqualsFoldingTheWhole() {
        var generator = SplitMix64(seed: 7)
        var events: [Event] = []
        for run in ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"] {
            let payloads: [any EventPayload] = (0..<400).map { index in
                switch generator.next() % 6 {
                case 0: return TimingRecorded(operation: "op\(index % 4)", durationMs: Double(generator.next() % 50_000) / 100,
                                              outcome: index % 7 == 0 ? "error" : "success", slow: false)
                case 1: return ErrorRecorded(operation: "op\(index % 4)", errorType: "E", error: "e\(index)", context: [:])
                case 2: return HealthProbed(check: "pinecone", status: index % 5 == 0 ? "unhealthy" : "healthy",
                                            latencyMs: Double(index), detail: "")
                case 3: return BreakerStateChanged(breaker: "b", from: index % 2 == 0 ? "closed" : "open",
                                                   to: index % 2 == 0 ? "open" : "closed", reason: "r", failures: 1, successes: 0)
                case 4: return RetryAttemptFailed(operation: "op", attempt: 1, delayMs: 10.5, errorType: "E", error: "x")
                default: return BusDropped(count: 1, totalDropped: 1, policy: "drop_newest")
                }
            }
            // A hole: seq 100 of each run never arrives.
            events += delivered(payloads, run: run).filter { $0.seq != 100 }
        }
        let whole = Summary(folding: events)
        for cut in [1, 250, 399, 400, 650] {
            var merged = Summary(folding: events[..<cut])
            merged.merge(Summary(folding: events[cut...]))
            #expect(merged.jsonText == whole.jsonText, "cut at \(cut)")
        }
        #expect(whole.missingEvents == 2)
    }

    @Test func theJSONIsStableAndSkipsFileHeaders() throws {
        var events = delivered([TimingRecorded(operation: "b", durationMs: 1, outcome: "success", slow: false),
                                TimingRecorded(operation: "a", durationMs: 3, outcome: "success", slow: false)])
        events.insert(Event(timestamp: events[0].timestamp, level: .info, kind: .fileOpened, message: "", run: events[0].run, seq: 0,
                            attrs: FileOpened(fileID: "0123456789abcdef", firstSeq: 1, path: "events.jsonl", format: "jsonl").attributes),
                      at: 0)
        let summary = Summary(folding: events)
        #expect(summary.events == 2)
        #expect(summary.jsonText == Summary(folding: events.reversed()).jsonText, "sums in whole microseconds: order does not matter")
        let text = summary.jsonText
        let a = try #require(text.firstRange(of: #""a":"#))
        let b = try #require(text.firstRange(of: #""b":"#))
        #expect(a.lowerBound < b.lowerBound, "keys sorted")
        #expect(text.contains(#""a":{"count":1,"mean_ms":3.0,"min_ms":3.0,"max_ms":3.0,"p50_ms":3.0"#))
    }

    @Test func malformedAttrsAreCountedNotFolded() {
        let bad = Event(timestamp: Timestamp(microsecondsSinceEpoch: 0), level: .info, kind: .timingRecorded, message: "",
                        run: "0123456789abcdef", seq: 1, attrs: ["operation": .int(3)])
        let summary = Summary(folding: [bad])
        #expect(summary.malformed == ["timing.recorded": 1])
        #expect(summary.operations.isEmpty)
        #expect(summary.events == 1)
    }

    @Test func theLiveSinkReadsItsWrites() async throws {
        let live = SummarySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [live])
        let timing = Timing(clock: ManualClock(), bus: bus)
        for _ in 0..<3 { timing.timed("op") { () } }
        let summary = await live.summary(after: bus)
        #expect(summary.operations["op"]?.count == 3)
        await bus.shutdown()
    }
}

/// A run's `file.closed` record, read in a file of its own (a rotation just before shutdown),
/// tells the run's coverage how far it went and changes nothing else: the run's times and the
/// replay-equals-live comparison stay as the events make them.
@Suite struct ClosingRecordTests {
    @Test func aClosingRecordAloneInAFileDoesNotMoveTheRunsTimes() {
        let events = (1...5).map { seq in
            Event(timestamp: Timestamp(microsecondsSinceEpoch: 1_000_000 * Int64(seq)), level: .info, kind: .logMessage, message: "e",
                  service: "s", host: "h", run: "00000000000000aa", seq: UInt64(seq))
        }
        let live = Summary(folding: events)
        let closing = Event(timestamp: Timestamp(microsecondsSinceEpoch: 99_000_000), level: .info, kind: .fileClosed, message: "",
                            service: "s", host: "h", run: "00000000000000aa", seq: 0,
                            attrs: FileClosed(lastSeqWritten: 5, lastSeqReceived: 5, lostEvents: 0, reason: "shutdown").attributes)
        var lastFile = Summary()
        lastFile.fold(closing)
        var replayed = Summary(folding: events)
        replayed.merge(lastFile)
        #expect(replayed.json.jsonText == live.json.jsonText)
        var reversed = lastFile
        reversed.merge(Summary(folding: events))
        #expect(reversed.json.jsonText == live.json.jsonText)
        // The same record announcing more than was written: a lost tail.
        var lossy = Summary()
        lossy.fold(Event(timestamp: closing.timestamp, level: .error, kind: .fileClosed, message: "", service: "s", host: "h",
                         run: "00000000000000aa", seq: 0,
                         attrs: FileClosed(lastSeqWritten: 5, lastSeqReceived: 9, lostEvents: 4, reason: "shutdown").attributes))
        lossy.merge(Summary(folding: events))
        #expect(lossy.lostTailEvents == 4)
        #expect(lossy.runs["00000000000000aa"]?.last == events.last?.timestamp)
    }
}
