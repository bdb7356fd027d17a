import Hardening
import HardeningTestKit
import Testing

@Suite struct RateLimiterTests {
    @Test func aBurstIsAllowedThenTheRateHolds() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(name: "openai", ratePerSecond: 10, burst: 3, clock: clock)
        #expect((0..<5).map { _ in limiter.tryAcquire() } == [true, true, true, false, false])
        clock.advance(by: .milliseconds(100))
        #expect(limiter.tryAcquire())
        #expect(!limiter.tryAcquire())
        clock.advance(by: .seconds(60))
        #expect(limiter.available == 3, "the bucket never holds more than the burst")
    }

    @Test func aRefusalSaysWhenAndIsReported() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let limiter = RateLimiter(name: "openai", ratePerSecond: 4, burst: 1, clock: clock, bus: bus)
        try await limiter.acquire()
        await #expect { try await limiter.acquire() } throws: { error in
            (error as? RateLimitedError)?.retryAfter == .milliseconds(250)
        }
        await bus.shutdown()
        let rejected = try #require(sink.events.first).payload(as: RateLimiterRejected.self)
        #expect(rejected == RateLimiterRejected(limiter: "openai", ratePerSecond: 4, burst: 1, retryAfterMs: 250))
    }

    @Test func callersThatMayWaitGetReservedPermitsInOrder() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(name: "l", ratePerSecond: 2, burst: 1, clock: clock)
        try await limiter.acquire()
        let first = Task { try await limiter.acquire(maxWait: .seconds(5)) }
        await clock.waitForSleepers(1)
        let second = Task { try await limiter.acquire(maxWait: .seconds(5)) }
        await clock.waitForSleepers(2)
        #expect(clock.sleeperDeadlines.map(\.offset) == [.milliseconds(500), .milliseconds(1000)])
        // A third may not wait past 1 s: the next permit is 1.5 s away.
        await #expect(throws: RateLimitedError.self) { try await limiter.acquire(maxWait: .seconds(1)) }
        clock.advance(by: .seconds(1))
        try await first.value
        try await second.value
    }

    @Test func aCancelledWaiterGivesItsPermitBack() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(name: "l", ratePerSecond: 1, burst: 1, clock: clock)
        try await limiter.acquire()
        let waiter = Task { try await limiter.acquire(maxWait: .seconds(10)) }
        await clock.waitForSleepers(1)
        #expect(limiter.available == -1)
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(limiter.available == 0)
    }

    @Test func permitsAddUpUnderConcurrency() async throws {
        let limiter = RateLimiter(name: "l", ratePerSecond: 1, burst: 1_000, clock: ManualClock())
        let granted = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { (0..<300).filter { _ in limiter.tryAcquire() }.count } }
            return await group.reduce(0, +)
        }
        #expect(granted == 1_000)
    }
}
