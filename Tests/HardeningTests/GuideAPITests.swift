import Hardening
import HardeningTestKit
import Testing

private struct HTTPError: Error { var status: Int }
private struct ParseError: Error {}

/// The original Python guide's API, call by call, in its Swift form (README shows each).
@Suite struct GuideAPITests {
    @Test func retryWithBackoffAndRetryConfig() async throws {
        // RetryConfig(max_attempts=3, initial_delay=0, retryable_exceptions=(HTTPError,))
        let policy = RetryPolicy.retrying([HTTPError.self], maxAttempts: 3, initialDelay: .zero, jitter: .none)
        let calls = Locked(0)
        let value = try await retryWithBackoff("notion.fetch_page", policy: policy) { () async throws -> String in
            let call = calls.withLock { count -> Int in
                count += 1
                return count
            }
            if call < 3 { throw HTTPError(status: 503) }
            return "page"
        }
        #expect(value == "page" && calls.withLock { $0 } == 3)
        await #expect { try await retryWithBackoff("parse", policy: policy) { () async throws -> Int in throw ParseError() } } throws: {
            ($0 as? RetryError)?.reason == .notRetryable
        }
    }

    @Test func circuitBreakerWithFailureThresholdAndRecoveryTimeout() async throws {
        // CircuitBreaker(failure_threshold=3, recovery_timeout=60); breaker.call(fn)
        let breaker = CircuitBreaker(name: "notion", failureThreshold: 3, recoveryTimeout: .seconds(60))
        for _ in 0..<3 { _ = try? await breaker.call { () async throws -> Int in throw HTTPError(status: 500) } }
        await #expect { try await breaker.call { 1 } } throws: { error in
            guard let open = error as? CircuitOpenError else { return false }
            return open.state == .open && (open.retryAfter ?? .zero) > .seconds(59)
        }
    }

    @Test func circuitBreakerCallOfAPlainFunction() throws {
        // breaker.call(actual_api_call) with a synchronous function
        let breaker = CircuitBreaker(name: "notion", failureThreshold: 2, recoveryTimeout: .seconds(60))
        #expect(try breaker.callBlocking { () throws -> Int in 7 } == 7)
        for _ in 0..<2 { #expect(throws: HTTPError.self) { try breaker.callBlocking { () throws -> Int in throw HTTPError(status: 500) } } }
        #expect(breaker.snapshot.state == .open)
        #expect { try breaker.callBlocking { () throws -> Int in 1 } } throws: { ($0 as? CircuitOpenError)?.state == .open }
    }

    @Test func performanceMetricsSummaryAndErrorSummary() async throws {
        let live = SummarySink()
        let bus = EventBus(configuration: .init(service: "rag", volume: .full), sinks: [live])
        let clock = ManualClock()
        // @timed(operation_name="pinecone.query", log_threshold=0.05)
        let timing = Timing(clock: clock, bus: bus)
        for milliseconds in [10, 20, 60] as [Int64] {
            timing.timed("pinecone.query", slowThreshold: .milliseconds(50)) { clock.advance(by: .milliseconds(milliseconds)) }
        }
        // with timer("batch"):
        let timer = timing.start("batch")
        clock.advance(by: .milliseconds(5))
        timer.stop()
        // get_error_tracker().record_error(operation, error, context)
        let tracker = ErrorTracker(bus: bus)
        tracker.record(operation: "notion.fetch", error: HTTPError(status: 500), context: ["page_id": "abc"])
        // get_performance_metrics().get_summary() and get_error_summary()['total_errors']
        let summary = await live.summary(after: bus)
        let query = try #require(summary.operations["pinecone.query"])
        #expect(query.count == 3 && query.slow == 1)
        #expect(query.latency.meanMilliseconds == 30 && query.latency.minMilliseconds == 10 && query.latency.maxMilliseconds == 60)
        #expect(summary.operations["batch"]?.latency.maxMilliseconds == 5)
        #expect(summary.errors.total == 1 && tracker.summary.totalErrors == 1)
        await bus.shutdown()
    }

    @Test func gracefulDegradationWithAFallbackValue() async throws {
        // @graceful_degradation(fallback_value=[]) def fetch(): ...
        let items = try await gracefulDegradation("zotero.items", fallback: [String]()) { () async throws -> [String] in
            throw HTTPError(status: 503)
        }
        #expect(items.isEmpty)
        #expect(try Self.synchronousFetch() == "default_value", "and for synchronous code")
    }

    private static func synchronousFetch() throws -> String {
        // @graceful_degradation(fallback_value="default_value") on a plain function
        try gracefulDegradation("fetch", fallback: "default_value") { () throws -> String in throw HTTPError(status: 500) }
    }

    @Test func validateConfiguration() {
        // if not validate_configuration(): sys.exit(1)
        let validator = ConfigValidator(rules: ConfigRule.ragService)
        #expect(!validator.validate(ConfigSources(environment: [:])).passed)
        let complete = ConfigSources(environment: [
            "OPENAI_API_KEY": "sk-abcdefghijklmnopqrstuvwx", "PINECONE_API_KEY": "pcsk_key", "PINECONE_INDEX_NAME": "docs",
            "NOTION_API_KEY": "secret_abcdefghijklmnop", "NOTION_DATABASE_ID": "0123456789abcdef0123456789abcdef",
            "ZOTERO_API_KEY": "zotero", "ZOTERO_LIBRARY_ID": "12345",
        ])
        #expect(validator.validate(complete).passed)
    }

    @Test func checkSystemHealthAndTheFlaskHealthEndpoint() async throws {
        // results = check_system_health(); results['overall_status']
        let healthy = HealthResult(status: .healthy, message: "Connected successfully")
        let prober = HealthProber(checks: [FixedCheck(name: "Notion API", result: healthy)], clock: ManualClock())
        let results = HealthReport(probes: await prober.probeAll().map { ($0.name, $0.isCritical, $0.result) },
                                   time: Timestamp(microsecondsSinceEpoch: 0))
        #expect(results.json["overall_status"] == "healthy")
        // @app.route('/health'): 200 if overall_status == 'healthy' else 503
        let monitor = HealthMonitor(prober: HealthProber(checks: [FixedCheck(name: "Pinecone API", result: healthy),
                                                                  FixedCheck(name: "cache", result: HealthResult(status: .unhealthy, message: "down"),
                                                                             isCritical: false)],
                                                         clock: ManualClock()),
                                    interval: .seconds(15))
        await monitor.round()
        let endpoints = HardeningEndpoints(monitor: monitor, summary: SummarySink())
        let answer = endpoints.health()
        #expect(answer.status == 503, "degraded is not healthy")
        #expect(String(decoding: answer.body, as: UTF8.self).contains(#""overall_status":"degraded""#))
        #expect(HardeningEndpoints(monitor: monitor, summary: SummarySink(), degradedStatus: 200).health().status == 200)
        #expect(endpoints.answer(method: "POST", path: "/health")?.status == 405 && endpoints.answer(method: "GET", path: "/x") == nil)
    }
}

/// A check with a fixed answer.
private struct FixedCheck: HealthCheck {
    var name: String
    var result: HealthResult
    var isCritical = true

    func check() async -> HealthResult { result }
}

