import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Testing

private struct Unavailable: Error {}
private struct Fatal: Error {}

/// A scripted workload that uses every primitive once or more, on a manual clock.
private struct ScriptedWorkload: Sendable {
    let clock: ManualClock
    let bus: EventBus

    /// The kinds the workload emits, in order (pipeline events aside).
    static let expectedKinds: [EventKind] = [
        .timingRecorded, .timingRecorded,
        .retryAttemptFailed, .retryAttemptFailed, .retrySucceeded,
        .retryExhausted,
        .breakerStateChanged, .breakerRejected, .breakerStateChanged, .breakerStateChanged,
        .fallbackUsed,
        .timeoutFired,
        .bulkheadRejected,
        .rateLimiterRejected,
        .errorRecorded, .errorRecorded,
        .healthProbed, .healthProbed, .healthChanged, .configChecked, .alertFired, .alertResolved,
    ]

    func run() async throws {
        let timing = Timing(clock: clock, bus: bus, defaultSlowThreshold: .milliseconds(25))
        timing.timed("pinecone.query") { clock.advance(by: .milliseconds(12)) }
        timing.timed("pinecone.query") { clock.advance(by: .milliseconds(30)) }

        let policy = RetryPolicy(maxAttempts: 4, initialDelay: .milliseconds(100), jitter: .none, maxElapsed: .seconds(10),
                                 isRetryable: { !($0 is Fatal) })
        let retry = Retry(policy: policy, clock: clock, bus: bus)
        let attempts = Counter()
        _ = try await retry.run("notion.fetch") { () async throws -> Int in
            attempts.increment()
            if attempts.value < 3 { throw Unavailable() }
            return 1
        }
        _ = try? await retry.run("zotero.sync") { () async throws -> Int in throw Fatal() }
        await bus.flush()  // the files hold a few hundred bytes now: the next writes rotate them

        let breaker = CircuitBreaker(name: "openai", configuration: .init(trip: .consecutiveFailures(2), recoveryTimeout: .seconds(60)),
                                     clock: clock, bus: bus)
        for _ in 0..<2 { _ = try? await breaker.call { () async throws -> Int in throw Unavailable() } }
        _ = try? await breaker.call { 1 }
        clock.advance(by: .seconds(60))
        _ = try await breaker.call { 1 }
        await bus.flush()

        _ = try await gracefulDegradation("rag.answer", fallback: "cached", bus: bus) { () async throws -> String in throw Unavailable() }

        _ = try? await Timeout(clock: clock, bus: bus).run("openai.embed", timeout: .seconds(1)) { () async throws -> Int in
            try await clock.sleep(for: .seconds(10))
            return 1
        }

        let bulkhead = Bulkhead(name: "pinecone", maxConcurrent: 1, clock: clock, bus: bus)
        let gate = AsyncGate()
        let holder = Task { try await bulkhead.run { () async throws -> Int in await gate.wait(); return 1 } }
        #expect(await eventually { bulkhead.snapshot.inFlight != 0 })
        _ = try? await bulkhead.run { 2 }
        gate.open()
        _ = try await holder.value

        let limiter = RateLimiter(name: "openai", ratePerSecond: 1, burst: 1, clock: clock, bus: bus)
        try await limiter.acquire()
        _ = try? await limiter.acquire()

        let tracker = ErrorTracker(bus: bus)
        tracker.record(operation: "ingest", error: Unavailable(), context: ["page": "p-1", "api_key": "sk-live-abcdefghijklmnopqrstuv"])
        tracker.record(operation: "ingest", error: Fatal())

        bus.emit(HealthProbed(check: "pinecone", status: "healthy", latencyMs: 12.5, detail: "ok"))
        bus.emit(HealthProbed(check: "pinecone", status: "unhealthy", latencyMs: 2000, detail: "timeout"))
        bus.emit(HealthChanged(check: "pinecone", from: "healthy", to: "unhealthy", detail: "timeout"))
        bus.emit(ConfigChecked(key: "OPENAI_API_KEY", source: "environment", status: "ok", detail: "set"))
        bus.emit(AlertFired(rule: "consecutive_failures", check: "pinecone", reason: "1 failure", consecutiveFailures: 1))
        bus.emit(AlertResolved(rule: "consecutive_failures", check: "pinecone", consecutiveSuccesses: 1, firedForMs: 5))
    }
}

@Suite struct ReplayEqualsLiveTests {
    private static let pipelineKinds: Set<EventKind> = [.fileOpened, .fileRotated, .sinkFailed, .sinkRecovered, .busDropped]

    /// One process run: the workload on a bus with a live summary, a rotating file sink and a
    /// recording sink. Returns the live summary and the recorded events.
    private func runOnce(into directory: String, run: String, format: RotatingFileSink.FileFormat) async throws -> (Summary, [Event]) {
        let files = RotatingFileSink(configuration: .init(directory: directory, format: format,
                                                          maxFileBytes: format == .plain ? 1_500 : 300,
                                                          minRotationInterval: .zero, compression: .init(level: 1, delay: .zero),
                                                          retention: .init(maxFiles: nil), flushInterval: .zero))
        let live = SummarySink()
        let recorded = InMemorySink()
        let bus = EventBus(configuration: .init(service: "rag", host: "web-1", run: run, tickInterval: .milliseconds(5), volume: .full),
                           sinks: [files, live, recorded])
        let clock = ManualClock()
        let workload = ScriptedWorkload(clock: clock, bus: bus)
        try await clock.drive { try await workload.run() }.get()
        // Read your writes: the last event of the workload is in the live summary already.
        #expect(await live.summary(after: bus).alertsResolved == ["consecutive_failures/pinecone": 1])
        await bus.shutdown()
        files.waitForBackgroundWork()
        return (live.summary, recorded.events)
    }

    @Test(arguments: [RotatingFileSink.FileFormat.plain, .gzipStream])
    func theLiveSummaryEqualsTheOneFoldedFromDiskAcrossRotationsAndRuns(format: RotatingFileSink.FileFormat) async throws {
        let output = TestOutput.directory(named: "replay-equals-live")
        defer { output.finish() }
        let (first, firstEvents) = try await runOnce(into: output.path, run: "1111111111111111", format: format)
        let (second, _) = try await runOnce(into: output.path, run: "2222222222222222", format: format)

        // The workload's own events, exactly and in order.
        #expect(firstEvents.map(\.kind).filter { !Self.pipelineKinds.contains($0) } == ScriptedWorkload.expectedKinds)
        #expect(first.operations["pinecone.query"]?.count == 2 && first.operations["pinecone.query"]?.slow == 1)
        #expect(first.breakers["openai"]?.opened == 1 && first.breakers["openai"]?.rejected == 1)
        #expect(first.breakers["openai"]?.latest?.state == "closed")
        #expect(first.retries["notion.fetch"]?.succeededAfterRetry == 1 && first.retries["zotero.sync"]?.exhausted == ["not_retryable": 1])
        #expect(!first.jsonText.contains("sk-live"), "secrets never reach a summary")
        #expect((first.byKind["file.rotated"] ?? 0) > 0, "the files rotated during the run")

        let reader = LogReader()
        let result = reader.readAll(reader.logFiles(in: output.path))
        #expect(result.issues.isEmpty)
        let replayed = Summary(folding: result.events)
        var live = first
        live.merge(second)
        #expect(replayed.jsonText == live.jsonText)
        // One metric catalogue: what the agent's /metrics renders from the live summary is what
        // `replay --format prometheus` prints for the files, family for family and value for value.
        let report = try Replay().run(ReplayInputs([output.path]))
        // (and replay's own family, declared without samples: nothing was damaged)
        var issues = PrometheusExposition()
        issues.family(Replay.issuesFamily, [])
        #expect(report.prometheusText == live.prometheusExposition + issues.text)
        #expect(live.prometheusExposition.contains("hardening_breaker_state{breaker=\"openai\",state=\"closed\"} 1"))
        #expect(replayed.missingEvents == 0)
        #expect(replayed.runs.count == 2)
    }
}
