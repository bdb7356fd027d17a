import Hardening
import HardeningTestKit
import HardeningTestSupport
import Testing

/// The production detail (``EventVolume``): what it folds, what it writes in full, and that
/// folding its windows gives what folding every event one by one gives.
@Suite struct RollupTests {
    /// Feeds `events` through a bus of `volume` on a manual clock that follows their timestamps
    /// (so windows end as time passes), flushes, and returns what was delivered and the live summary.
    static func deliver(_ events: [Event], volume: EventVolume) async -> (events: [Event], summary: Summary, statistics: EventBus.Statistics) {
        let clock = ManualWallClock(start: events.first?.timestamp ?? Timestamp(microsecondsSinceEpoch: 0))
        let memory = InMemorySink()
        let live = SummarySink()
        let bus = EventBus(configuration: .init(service: "rollup", host: "h", run: "0123456789abcdef", capacity: 1 << 20,
                                                overflowPolicy: .block, tickInterval: .milliseconds(1), capacityBytes: 1 << 30,
                                                sinkQueueCapacityBytes: 1 << 30, volume: volume),
                           sinks: [memory, live], clock: clock)
        for (index, event) in events.enumerated() {
            clock.set(event.timestamp)
            bus.emit(event)
            if index % 500 == 0 { await Task.yield() }
        }
        await bus.flush()
        let statistics = bus.statistics
        await bus.shutdown()
        return (memory.events, live.summary, statistics)
    }

    /// The summary as JSON without the parts that count lines (events by kind and level, runs).
    static func callsOnly(_ summary: Summary) -> String {
        var object = summary.json.objectValue ?? Attributes()
        object["events"] = nil
        object["runs"] = nil
        return AttributeValue.object(object).jsonText
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func foldingTheWindowsEqualsFoldingEveryEvent(seed: UInt64) async throws {
        var workload = RollupWorkload(seed: seed, clockStepsBack: true)
        let events = workload.next(6_000)
        let full = await Self.deliver(events, volume: .full)
        let production = await Self.deliver(events, volume: EventVolume(windowInterval: .seconds(2)))
        #expect(full.events.count == events.count)
        #expect(Self.callsOnly(production.summary) == Self.callsOnly(full.summary))
        // The same histograms, so the same percentiles, to the bucket.
        for (operation, calls) in full.summary.operations {
            let windowed = try #require(production.summary.operations[operation])
            #expect(windowed.latency.count == calls.latency.count && windowed.latency.totalMicroseconds == calls.latency.totalMicroseconds)
            for percentile in [1.0, 50, 90, 99, 99.9] {
                #expect(windowed.latency.percentileMilliseconds(percentile) == calls.latency.percentileMilliseconds(percentile))
            }
        }
        // Fewer lines, every one numbered without a hole, and the count of what was folded.
        #expect(production.events.count < events.count / 2, "\(production.events.count) lines of \(events.count)")
        #expect(production.events.map(\.seq) == Array(1...UInt64(production.events.count)))
        let written = production.events.filter { $0.attrs["in_window"] == nil && Self.isOriginal($0.kind) }.count
        #expect(Int64(written) + production.statistics.folded == Int64(events.count))
        let kinds = Set(production.events.map(\.kind))
        #expect(kinds.isSuperset(of: [.timingWindow, .healthWindow, .eventsRepeated]))
        // What starts or ends something is never folded.
        for kind in [EventKind.breakerStateChanged, .errorRecorded, .retryExhausted] {
            #expect(production.events.filter { $0.kind == kind }.count == events.filter { $0.kind == kind }.count, "\(kind)")
        }
        let slow = events.filter { $0.kind == .timingRecorded && $0.attrs["slow"] == .bool(true) }.count
        #expect(production.events.filter { $0.kind == .timingRecorded && $0.attrs["slow"] == .bool(true) }.count == slow)
    }

    private static func isOriginal(_ kind: EventKind) -> Bool {
        ![EventKind.timingWindow, .healthWindow, .eventsRepeated].contains(kind)
    }

    @Test func aFailureIsPrecededByTheRoutineCallsOfItsTraceCountedOnce() async throws {
        let trace = String(repeating: "ab", count: 16)
        let other = String(repeating: "cd", count: 16)
        var events: [Event] = []
        var time: Int64 = 1_796_000_000_000_000
        func add(_ payload: some EventPayload, trace: String?) {
            time += 1_000
            events.append(Event(timestamp: Timestamp(microsecondsSinceEpoch: time), level: payload.defaultLevel, kind: type(of: payload).kind,
                                message: payload.message, traceID: trace, spanID: trace.map { String($0.prefix(16)) }, attrs: payload.attributes))
        }
        for operation in ["notes.fetch", "vectors.query", "llm.complete"] {
            add(TimingRecorded(operation: operation, durationMs: 12.5, outcome: "success"), trace: trace)
            add(TimingRecorded(operation: operation, durationMs: 7.25, outcome: "success"), trace: other)
        }
        add(ErrorRecorded(operation: "rag.answer", errorType: "RetryError", error: "gave up"), trace: trace)
        let delivered = await Self.deliver(events, volume: .production)
        let kinds = delivered.events.map(\.kind)
        let error = try #require(kinds.firstIndex(of: .errorRecorded))
        let context = delivered.events[..<error].filter { $0.kind == .timingRecorded }
        #expect(context.map { $0.attrs["operation"]?.stringValue } == ["notes.fetch", "vectors.query", "llm.complete"])
        #expect(context.allSatisfy { $0.traceID == trace && $0.attrs["in_window"] == .bool(true) })
        #expect(!delivered.events.contains { $0.kind == .timingRecorded && $0.traceID == other }, "a trace that did not fail stays in its window")
        // Each call counts once: in its window, not again as context.
        for operation in ["notes.fetch", "vectors.query", "llm.complete"] {
            #expect(delivered.summary.operations[operation]?.count == 2)
        }
    }

    @Test func repeatsKeepTheFirstAndTheLastAndCountTheRest() async throws {
        var events: [Event] = []
        var time: Int64 = 1_796_000_000_000_000
        func add(_ payload: some EventPayload) {
            time += 1_000
            events.append(Event(timestamp: Timestamp(microsecondsSinceEpoch: time), level: payload.defaultLevel, kind: type(of: payload).kind,
                                message: payload.message, attrs: payload.attributes))
        }
        for _ in 0..<10 { add(BreakerRejected(breaker: "llm", state: "open", retryAfterMs: 100)) }
        add(BreakerStateChanged(breaker: "llm", from: "open", to: "half_open", reason: "recovery_timeout", failures: 0, successes: 0))
        for _ in 0..<3 { add(BreakerRejected(breaker: "llm", state: "open", retryAfterMs: 100)) }
        for delay in [10.0004, 20.0004, 30.0004, 40.0004] {
            add(RetryAttemptFailed(operation: "llm.complete", attempt: 1, delayMs: delay, errorType: "HTTPError", error: "503"))
        }
        let delivered = await Self.deliver(events, volume: .production)
        let kinds = delivered.events.map(\.kind)
        // The first and the last before the change, the change, the first and the last after it.
        let change = try #require(kinds.firstIndex(of: .breakerStateChanged))
        #expect(kinds[..<change].filter { $0 == .breakerRejected }.count == 2)
        #expect(kinds[change...].filter { $0 == .breakerRejected }.count == 2)
        let repeats = delivered.events.filter { $0.kind == .eventsRepeated }.compactMap { try? $0.payload(as: EventsRepeated.self) }
        #expect(repeats.map(\.count).sorted() == [2, 9])
        #expect(delivered.summary.breakers["llm"]?.rejected == 13)
        // The waits between attempts add up as each attempt's would (in whole microseconds).
        #expect(delivered.summary.retries["llm.complete"]?.retriedAttempts == 4)
        #expect(delivered.summary.retries["llm.complete"]?.waitedMicroseconds == 100_000)
    }

    @Test func unchangedProbesAreFoldedAndChangesWrittenInFull() async throws {
        var events: [Event] = []
        for (index, status) in ["healthy", "healthy", "healthy", "unhealthy", "unhealthy", "healthy", "healthy"].enumerated() {
            let payload = HealthProbed(check: "vectors", status: status, latencyMs: Double(index) + 0.5, detail: status)
            events.append(Event(timestamp: Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000 + Int64(index) * 1_000_000),
                                level: payload.defaultLevel, kind: HealthProbed.kind, message: payload.message, attrs: payload.attributes))
        }
        let delivered = await Self.deliver(events, volume: .production)
        let probes = delivered.events.filter { $0.kind == .healthProbed }.compactMap { try? $0.payload(as: HealthProbed.self) }
        #expect(probes.map(\.status) == ["healthy", "unhealthy", "healthy"])
        let health = try #require(delivered.summary.health["vectors"])
        #expect(health.probes == 7 && health.byStatus == ["healthy": 5, "unhealthy": 2])
        #expect(health.last?.status == "healthy" && health.last?.at.timestamp == events.last?.timestamp)
    }

    @Test func aKindTurnedOffTakesNoSeqAndAKindLevelIsApplied() async throws {
        var workload = RollupWorkload(seed: 9, clockStepsBack: true)
        let events = workload.next(500)
        let volume = EventVolume(detail: .full, kindLevels: [.healthProbed: .off, .retrySucceeded: .level(.notice)])
        let delivered = await Self.deliver(events, volume: volume)
        #expect(!delivered.events.contains { $0.kind == .healthProbed })
        #expect(delivered.events.map(\.seq) == Array(1...UInt64(delivered.events.count)))
        #expect(delivered.events.filter { $0.kind == .retrySucceeded }.allSatisfy { $0.level == .notice })
        #expect(delivered.statistics.turnedOff == Int64(events.filter { $0.kind == .healthProbed }.count))
        #expect(delivered.summary.missingEvents == 0)
    }

    @Test func operationsNamedPerRequestAreWrittenInFullPastTheWindowsLimit() async throws {
        let events = (0..<2_000).map { index in
            let call = TimingRecorded(operation: "request-\(index)", durationMs: 1.5, outcome: "success")
            return Event(timestamp: Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000 + Int64(index)), level: call.defaultLevel,
                         kind: TimingRecorded.kind, message: call.message, attrs: call.attributes)
        }
        let delivered = await Self.deliver(events, volume: EventVolume(windowInterval: .seconds(3600)))
        #expect(delivered.events.filter { $0.kind == .timingRecorded }.count == 2_000 - 1_024)
        #expect(delivered.events.filter { $0.kind == .timingWindow }.count == 1_024, "the limit of one window")
        #expect(delivered.summary.operations.count == 2_000 && delivered.summary.operations.values.allSatisfy { $0.count == 1 })
    }

    /// A sink that takes only what is at its level or above.
    final class LevelSink: EventSink {
        let name = "levels"
        let minimumLevel: EventLevel
        let memory = InMemorySink()
        init(_ level: EventLevel) { minimumLevel = level }
        func write(_ events: [Event]) { memory.write(events) }
        func flush() {}
        func close() {}
    }

    @Test func eachSinkGetsItsLevelAndAbove() async throws {
        let warnings = LevelSink(.warning)
        let everything = InMemorySink()
        let bus = EventBus(configuration: .init(service: "levels", volume: .full), sinks: [warnings, everything])
        var workload = RollupWorkload(seed: 4, clockStepsBack: true)
        for event in workload.next(400) { bus.emit(event) }
        await bus.shutdown()
        #expect(warnings.memory.events == everything.events.filter { $0.level >= .warning })
        #expect(everything.events.contains { $0.level < .warning })
    }

    @Test func latencyBucketsReadBackExactlyAndRefuseWhatTheWriterNeverWrites() throws {
        var stats = LatencyStats()
        var random = SplitMix64(seed: 7)
        for _ in 0..<20_000 { stats.record(milliseconds: Double(random.next() % 5_000_000) / 1000) }
        let window = LatencyWindow(count: stats.count, totalMicroseconds: stats.totalMicroseconds, minMicroseconds: stats.minMicroseconds,
                                   maxMicroseconds: stats.maxMicroseconds, buckets: stats.buckets)
        #expect(LatencyWindow.buckets(parsing: LatencyWindow.text(of: window.buckets)) == window.buckets)
        let parts = window.parts(maxBucketBytes: 8_000)
        #expect(parts.count > 1 && parts.dropFirst().allSatisfy { $0.count == 0 })
        #expect(parts.allSatisfy { LatencyWindow.text(of: $0.buckets).utf8.count <= 8_000 })
        var folded = LatencyStats()
        for part in parts { folded.merge(part) }
        #expect(folded.json == stats.json)
        for bad in ["0:1", "5 3", "01", "1:0", "a", "1  2", " 1", "1 ", "1:", "12345678901234567", "1:4294967297", "1:4294967296 2"] {
            #expect(LatencyWindow.buckets(parsing: bad) == nil, "\(bad)")
        }
        #expect(LatencyWindow.buckets(parsing: "") == [])
        #expect(LatencyWindow.buckets(parsing: "0 7:3 1000000000000:2")?.map(\.count) == [1, 3, 2])
    }
}
