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

    @Test func performanceMetricsSummaryAndErrorSummary() async throws {
        let live = SummarySink()
        let bus = EventBus(configuration: .init(service: "rag"), sinks: [live])
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
}
