import Hardening
import HardeningTestKit
import Testing

private struct Unavailable: Error {}

@Suite struct ResiliencePipelineTests {
    private let noJitter = RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(100), maxDelay: .seconds(1), jitter: .none,
                                       maxElapsed: nil)

    @Test func anAttemptThatTimesOutIsRetriedAndCountedByTheBreaker() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let breaker = CircuitBreaker(name: "openai", configuration: .init(trip: .consecutiveFailures(5)), clock: clock, bus: bus)
        let pipeline = ResiliencePipeline(clock: clock, bus: bus)
            .attemptTimeout(.seconds(2)).breaker(breaker).retry(noJitter)
        let calls = Counter()
        let result = await clock.drive {
            try await pipeline.run("openai.embed") { () async throws -> String in
                calls.increment()
                if calls.value == 1 { try await clock.sleep(for: .seconds(30)) }
                return "vector"
            }
        }
        #expect(try result.get() == "vector")
        #expect(calls.value == 2)
        let counts = breaker.snapshot
        #expect(counts.failures == 1 && counts.successes == 1 && counts.consecutiveFailures == 0,
                "the timeout counted as a failure, then the success ended the run")
        await bus.shutdown()
        #expect(sink.events.map(\.kind) == [.timeoutFired, .retryAttemptFailed, .retrySucceeded])
        #expect(try sink.events[1].payload(as: RetryAttemptFailed.self).errorType == "TimeoutError")
    }

    @Test func anOpenBreakerEndsRetryingAndTheFallbackAnswers() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let breaker = CircuitBreaker(name: "notion", configuration: .init(trip: .consecutiveFailures(2), recoveryTimeout: .seconds(60)),
                                     clock: clock, bus: bus)
        let policy = RetryPolicy(maxAttempts: 5, initialDelay: .milliseconds(100), jitter: .none, maxElapsed: .seconds(10))
        let pipeline = ResiliencePipeline(clock: clock, bus: bus).retry(policy).breaker(breaker)
        let fallback = Fallback<String>().when(CircuitOpenError.self, name: "cached") { _ in "cached page" }
        let calls = Counter()
        let result = await clock.drive {
            try await pipeline.run("notion.fetch", fallback: fallback) { () async throws -> String in
                calls.increment()
                throw Unavailable()
            }
        }
        #expect(try result.get() == "cached page")
        #expect(calls.value == 2, "the third attempt was refused by the open breaker")
        await bus.shutdown()
        #expect(sink.events.map(\.kind) == [
            .retryAttemptFailed, .breakerStateChanged, .retryAttemptFailed, .breakerRejected, .retryExhausted, .fallbackUsed,
        ])
        // A refusal is never retried, and the retry counters say it was the breaker.
        #expect(try sink.events[4].payload(as: RetryExhausted.self).reason == "breaker_open")
    }

    @Test func theTotalTimeoutCoversTheRetriesWaits() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let policy = RetryPolicy(maxAttempts: 10, initialDelay: .seconds(1), multiplier: 1, jitter: .none, maxElapsed: nil)
        let pipeline = ResiliencePipeline(clock: clock, bus: bus).retry(policy).totalTimeout(.milliseconds(2_500))
        let calls = Counter()
        let result = await clock.drive {
            try await pipeline.run("op") { () async throws -> Int in
                calls.increment()
                throw Unavailable()
            }
        }
        #expect((result.failure as? TimeoutError)?.scope == .total)
        #expect(calls.value == 3, "attempts at 0, 1 and 2 s; the wait for the fourth was cut at 2.5 s")
        #expect(clock.now.offset == .milliseconds(2_500))
        await bus.shutdown()
        #expect(sink.events.map(\.kind).suffix(2) == [.retryExhausted, .timeoutFired])
        #expect(try sink.events.first { $0.kind == .retryExhausted }?.payload(as: RetryExhausted.self).reason == "cancelled")
    }

    @Test func aFullBulkheadIsNeitherRetriedNorCounted() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let bulkhead = Bulkhead(name: "pinecone", maxConcurrent: 1, clock: clock, bus: bus)
        let breaker = CircuitBreaker(name: "pinecone", configuration: .init(trip: .consecutiveFailures(1)), clock: clock, bus: bus)
        let pipeline = ResiliencePipeline(clock: clock, bus: bus).retry(noJitter).breaker(breaker).bulkhead(bulkhead)
        let gate = AsyncGate()
        let holder = Task { try await pipeline.run("q") { () async throws -> Int in await gate.wait(); return 1 } }
        #expect(await eventually { bulkhead.snapshot.inFlight != 0 })
        let answer = try await pipeline.run("q", fallback: .value(0)) { 2 }
        #expect(answer == 0)
        gate.open()
        #expect(try await holder.value == 1)
        #expect(breaker.snapshot.state == .closed)
        await bus.shutdown()
        #expect(sink.events.map(\.kind) == [.bulkheadRejected, .fallbackUsed])
    }

    @Test func theOrderDoesNotDependOnTheBuilder() async throws {
        func run(_ build: (ResiliencePipeline<ManualClock>) -> ResiliencePipeline<ManualClock>) async -> ([EventKind], Double) {
            let clock = ManualClock()
            let sink = InMemorySink()
            let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
            let limiter = RateLimiter(name: "l", ratePerSecond: 0.001, burst: 10, clock: clock, bus: bus)
            let breaker = CircuitBreaker(name: "b", configuration: .init(trip: .consecutiveFailures(10)), clock: clock, bus: bus)
            let pipeline = build(ResiliencePipeline(clock: clock, bus: bus)).rateLimiter(limiter).breaker(breaker)
            let calls = Counter()
            _ = await clock.drive {
                try await pipeline.run("op") { () async throws -> Int in
                    calls.increment()
                    if calls.value < 3 { throw Unavailable() }
                    return 1
                }
            }
            await bus.shutdown()
            return (sink.events.map(\.kind), limiter.available.rounded(.down))
        }
        let policy = RetryPolicy(maxAttempts: 5, initialDelay: .milliseconds(100), jitter: .none, maxElapsed: nil)
        let first = await run { $0.retry(policy).attemptTimeout(.seconds(5)).totalTimeout(.seconds(60)) }
        let second = await run { $0.totalTimeout(.seconds(60)).attemptTimeout(.seconds(5)).retry(policy) }
        #expect(first.0 == second.0)
        #expect(first.0 == [.retryAttemptFailed, .retryAttemptFailed, .retrySucceeded])
        #expect(first.1 == 7 && second.1 == 7, "every attempt took a permit: the limiter is inside the retry")
    }

    @Test func aRateLimitRefusalIsRetriedAfterItsHint() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let limiter = RateLimiter(name: "l", ratePerSecond: 2, burst: 1, clock: clock, bus: bus)
        let policy = RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(1), jitter: .none, maxElapsed: nil)
        let pipeline = ResiliencePipeline(clock: clock, bus: bus).retry(policy).rateLimiter(limiter)
        let calls = Counter()
        let result = await clock.drive {
            try await pipeline.run("op") { () async throws -> Int in
                calls.increment()
                if calls.value == 1 { throw Unavailable() }
                return 1
            }
        }
        #expect(try result.get() == 1)
        await bus.shutdown()
        #expect(sink.events.map(\.kind) == [.retryAttemptFailed, .rateLimiterRejected, .retryAttemptFailed, .retrySucceeded])
        let waited = try sink.events[2].payload(as: RetryAttemptFailed.self)
        #expect(waited.errorType == "RateLimitedError" && waited.delayMs > 400, "waited for the limiter's hint, not the 2 ms backoff")
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
