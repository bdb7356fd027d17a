import Dispatch
import Hardening
import HardeningTestKit
import HardeningTestSupport
import Testing

private struct Flaky: Error, Equatable {}
private struct Fatal: Error {}
private struct RateLimited: RetryAfterProviding {
    var retryAfter: Duration?
}

/// Counts calls and fails the first `failures` of them.
private final class Script: Sendable {
    private let calls = Locked(0)
    let failures: Int
    let error: any Error & Sendable

    init(failures: Int, error: any Error & Sendable = Flaky()) {
        self.failures = failures
        self.error = error
    }

    var count: Int { calls.withLock { $0 } }

    func call() throws -> String {
        let number = calls.withLock { calls -> Int in
            calls += 1
            return calls
        }
        if number <= failures { throw error }
        return "ok \(number)"
    }
}

@Suite struct RetryTests {
    private func noJitter(maxAttempts: Int = 5, maxElapsed: Duration? = nil) -> RetryPolicy {
        RetryPolicy(maxAttempts: maxAttempts, initialDelay: .milliseconds(100), maxDelay: .seconds(1), multiplier: 2,
                    jitter: .none, maxElapsed: maxElapsed)
    }

    /// Runs `retry` in a task and advances the manual clock through every wait.
    private func drive<T: Sendable>(_ clock: ManualClock, _ work: @escaping @Sendable () async throws(RetryError) -> T)
        async -> (Result<T, RetryError>, waits: [Duration])
    {
        let task = Task { () -> Result<T, RetryError> in
            do throws(RetryError) { return .success(try await work()) } catch { return .failure(error) }
        }
        var waits: [Duration] = []
        let done = Locked(false)
        let watcher = Task {
            _ = await task.value
            done.withLock { $0 = true }
        }
        var pause = PoolFriendlyPause()
        while !done.withLock({ $0 }) {
            if let step = clock.advanceToNextSleeper() {
                waits.append(step)
                pause.progressed()
            } else {
                await pause.pause()
            }
        }
        await watcher.value
        return (await task.value, waits)
    }

    @Test(arguments: [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (60, 1000), (100_000, 1000)])
    func exponentialBackoffIsCappedAndSaturates(attempt: Int, milliseconds: Int64) {
        #expect(noJitter().baseDelay(afterAttempt: attempt) == .milliseconds(milliseconds))
    }

    @Test func hugeMultipliersAndDelaysNeverTrap() {
        let policy = RetryPolicy(initialDelay: .seconds(Int64.max / 2), maxDelay: .seconds(Int64.max), multiplier: 1e300)
        #expect(policy.baseDelay(afterAttempt: 50) == .seconds(Int64.max))
        #expect(RetryPolicy(multiplier: .infinity).multiplier == 2)
    }

    @Test(arguments: [RetryPolicy.Jitter.none, .full, .equal, .decorrelated])
    func jitterStaysInItsBounds(jitter: RetryPolicy.Jitter) {
        let policy = RetryPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(2), multiplier: 2, jitter: jitter)
        var random = SplitMix64(seed: 11)
        var previous: Duration? = nil
        for attempt in 1...12 {
            for _ in 0..<500 {
                let base = policy.baseDelay(afterAttempt: attempt)
                let delay = policy.delay(afterAttempt: attempt, previous: previous, using: &random)
                switch jitter {
                case .none: #expect(delay == base)
                case .full: #expect(delay >= .zero && delay <= base)
                case .equal: #expect(delay >= base / 2 && delay <= base)
                case .decorrelated:
                    let high = max(Duration.milliseconds(100), (previous ?? .milliseconds(100)) * 3)
                    #expect(delay >= .milliseconds(100) && delay <= min(.seconds(2), high))
                }
                previous = delay
            }
        }
    }

    @Test func succeedsAfterFailuresWithTheExactWaitsAndEvents() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let script = Script(failures: 2)
        let retry = Retry(policy: noJitter(), clock: clock, bus: bus)
        let (result, waits) = await drive(clock) { () throws(RetryError) in try await retry.run("notion.fetch") { try script.call() } }
        #expect(try result.get() == "ok 3")
        #expect(waits == [.milliseconds(100), .milliseconds(200)])
        await bus.shutdown()
        #expect(sink.events.map(\.kind) == [.retryAttemptFailed, .retryAttemptFailed, .retrySucceeded])
        let failed = try sink.events[1].payload(as: RetryAttemptFailed.self)
        #expect(failed.attempt == 2 && failed.delayMs == 200 && failed.errorType == "Flaky")
        let succeeded = try sink.events[2].payload(as: RetrySucceeded.self)
        #expect(succeeded.attempts == 3 && succeeded.elapsedMs == 300)
    }

    @Test func firstTimeSuccessEmitsNothing() async throws {
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let value = try await Retry(policy: noJitter(), clock: ManualClock(), bus: bus).run("op") { 42 }
        #expect(value == 42)
        await bus.shutdown()
        #expect(sink.events.isEmpty)
    }

    @Test func stopsAfterMaxAttemptsWithTheLastError() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let script = Script(failures: 100)
        let retry = Retry(policy: noJitter(maxAttempts: 4), clock: clock, bus: bus)
        let (result, waits) = await drive(clock) { () throws(RetryError) in try await retry.run("op") { try script.call() } }
        let error = try #require(result.failureValue)
        #expect(error.reason == .exhausted)
        #expect(error.attempts == 4)
        #expect(error.lastError is Flaky)
        #expect(error.elapsed == .milliseconds(700))
        #expect(script.count == 4)
        #expect(waits.count == 3)
        await bus.shutdown()
        #expect(sink.events.filter { $0.kind == .retryAttemptFailed }.count == 3)
        #expect(try sink.events.last?.payload(as: RetryExhausted.self).reason == "exhausted")
    }

    @Test func errorsThatAreNotRetryableStopAtOnce() async throws {
        let clock = ManualClock()
        let script = Script(failures: 1, error: Fatal())
        let retry = Retry(policy: .retrying([Flaky.self], maxAttempts: 5, jitter: .none), clock: clock)
        let (result, waits) = await drive(clock) { () throws(RetryError) in try await retry.run("op") { try script.call() } }
        #expect(result.failureValue?.reason == .notRetryable)
        #expect(result.failureValue?.attempts == 1)
        #expect(waits.isEmpty)
        let flaky = Script(failures: 1)
        let (second, _) = await drive(clock) { () throws(RetryError) in try await retry.run("op") { try flaky.call() } }
        #expect(try second.get() == "ok 2")
    }

    @Test func serverHintsAreHonoured() async throws {
        let clock = ManualClock()
        let script = Script(failures: 1, error: RateLimited(retryAfter: .seconds(5)))
        let retry = Retry(policy: noJitter(), clock: clock)
        let (result, waits) = await drive(clock) { () throws(RetryError) in try await retry.run("op") { try script.call() } }
        #expect(try result.get() == "ok 2")
        #expect(waits == [.seconds(5)])
    }

    @Test func theDeadlineIncludesTheWaitsAndIsNeverSleptPast() async throws {
        let clock = ManualClock()
        let script = Script(failures: 100)
        // Waits 100, 200, 400 ms end at 700 ms; the next, 800 ms, would end past 1 s: stop there.
        let retry = Retry(policy: noJitter(maxAttempts: 10, maxElapsed: .seconds(1)), clock: clock)
        let (result, waits) = await drive(clock) { () throws(RetryError) in try await retry.run("op") { try script.call() } }
        #expect(result.failureValue?.reason == .deadline)
        #expect(result.failureValue?.attempts == 4)
        #expect(result.failureValue?.elapsed == .milliseconds(700))
        #expect(waits == [.milliseconds(100), .milliseconds(200), .milliseconds(400)])
        // A per-call deadline works the same way, and a server hint past it ends retrying.
        let hinted = Script(failures: 1, error: RateLimited(retryAfter: .seconds(60)))
        let deadline = clock.now.advanced(by: .seconds(30))
        let (second, secondWaits) = await drive(clock) { () throws(RetryError) in
            try await retry.run("op", deadline: deadline) { try hinted.call() }
        }
        #expect(second.failureValue?.reason == .deadline)
        #expect(secondWaits.isEmpty)
    }

    @Test func cancellationStopsTheWaitAtOnceAndIsNotRetried() async throws {
        let clock = ManualClock()
        let script = Script(failures: 100)
        let retry = Retry(policy: noJitter(), clock: clock)
        let task = Task { () -> RetryError? in
            do throws(RetryError) {
                _ = try await retry.run("op") { try script.call() }
                return nil
            } catch {
                return error
            }
        }
        await clock.waitForSleepers(1)
        task.cancel()
        let error = await task.value
        #expect(error?.reason == .cancelled)
        #expect(error?.attempts == 1)
        #expect(error?.lastError is CancellationError)
        #expect(script.count == 1)
        #expect(clock.now.offset == .zero, "no time had to pass")
    }

    @Test func aSharedBudgetStopsRetryStorms() async throws {
        let clock = ManualClock()
        let budget = RetryBudget(capacity: 10, retryCost: 5, successDeposit: 1)
        let script = Script(failures: 100)
        let retry = Retry(policy: noJitter(maxAttempts: 10), budget: budget, clock: clock)
        let (result, waits) = await drive(clock) { () throws(RetryError) in try await retry.run("op") { try script.call() } }
        #expect(result.failureValue?.reason == .budget)
        #expect(result.failureValue?.attempts == 3, "two retries paid, the third refused")
        #expect(waits.count == 2)
        #expect(budget.available == 0)
        // Successes refill it, one token each, up to the capacity.
        let fine = Script(failures: 0)
        for _ in 0..<12 { _ = try await retry.run("op") { try fine.call() } }
        #expect(budget.available == 10)
    }

    @Test func budgetCountsAddUpUnderConcurrency() {
        let budget = RetryBudget(capacity: 100_000, retryCost: 3, successDeposit: 0)
        let granted = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            var mine = 0
            for _ in 0..<10_000 where budget.withdrawForRetry() { mine += 1 }
            granted.withLock { $0 += mine }
        }
        #expect(granted.withLock { $0 } == 33_333)
        #expect(budget.available == 100_000 - 33_333 * 3)
    }

    @Test func resultsCanBeRetriedToo() async throws {
        let clock = ManualClock()
        let counter = Locked(0)
        let retry = Retry(policy: noJitter(), clock: clock)
        let (result, waits) = await drive(clock) { () throws(RetryError) in
            try await retry.run("poll", retryOnResult: { (value: Int) in value < 3 }) {
                counter.withLock { count -> Int in
                    count += 1
                    return count
                }
            }
        }
        #expect(try result.get() == 3)
        #expect(waits.count == 2)
    }

    @Test func blockingRetryMakesTheSameDecisionsAndWaits() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let retry = Retry(policy: noJitter(maxAttempts: 4, maxElapsed: .seconds(10)), clock: clock, bus: bus)
        let waits = Locked<[Duration]>([])
        let sleep: (Duration) -> Void = { delay in
            waits.withLock { $0.append(delay) }
            clock.advance(by: delay)
        }
        let script = Script(failures: 2)
        #expect(try retry.runBlocking("sync.op", sleep: sleep) { try script.call() } == "ok 3")
        #expect(waits.withLock { $0 } == [.milliseconds(100), .milliseconds(200)])
        let hopeless = Script(failures: 100)
        #expect {
            try retry.runBlocking("sync.op", sleep: sleep) { try hopeless.call() }
        } throws: { error in
            (error as? RetryError)?.reason == .exhausted && (error as? RetryError)?.attempts == 4
        }
        let fatal = Script(failures: 1, error: Fatal())
        let picky = Retry(policy: .retrying([Flaky.self], jitter: .none), clock: clock)
        #expect { try picky.runBlocking("sync.op", sleep: sleep) { try fatal.call() } } throws: { error in
            (error as? RetryError)?.reason == .notRetryable
        }
        let polls = Locked(0)
        #expect(try retry.runBlocking("poll", retryOnResult: { (value: Int) in value < 3 }, sleep: sleep) {
            polls.withLock { count -> Int in
                count += 1
                return count
            }
        } == 3, "a rejected result is retried like an error")
        await bus.shutdown()
        #expect(sink.events.map(\.kind).prefix(3) == [.retryAttemptFailed, .retryAttemptFailed, .retrySucceeded])
    }

    @Test func theRealBlockingSleepWaits() throws {
        let clock = ContinuousClock()
        let start = clock.now
        blockingSleep(.milliseconds(20))
        blockingSleep(.seconds(-1))
        #expect(start.duration(to: clock.now) >= .milliseconds(20))
    }

    @Test func withoutAnElapsedLimitElapsedCountsFromTheFirstFailure() async throws {
        let clock = ManualClock()
        let script = Script(failures: 100)
        let retry = Retry(policy: noJitter(maxAttempts: 3, maxElapsed: nil), clock: clock)
        let (result, _) = await drive(clock) { () throws(RetryError) in
            try await retry.run("op") {
                clock.advance(by: .seconds(1))  // every attempt takes a second
                return try script.call()
            }
        }
        // Waits 100 + 200 ms and the last two attempts' 2 s; the first attempt is not counted.
        #expect(result.failureValue?.elapsed == .milliseconds(2_300))
        let limited = Retry(policy: noJitter(maxAttempts: 3, maxElapsed: .seconds(60)), clock: clock)
        let again = Script(failures: 100)
        let (second, _) = await drive(clock) { () throws(RetryError) in
            try await limited.run("op") {
                clock.advance(by: .seconds(1))
                return try again.call()
            }
        }
        #expect(second.failureValue?.elapsed == .milliseconds(3_300), "with a limit, from the first attempt's start")
    }

    @Test func seededJitterIsReproducible() async throws {
        func waits(seed: UInt64) async -> [Duration] {
            let clock = ManualClock()
            let script = Script(failures: 4)
            let retry = Retry(policy: RetryPolicy(maxAttempts: 5, maxElapsed: nil), clock: clock, jitterSeed: seed)
            return await drive(clock) { () throws(RetryError) in try await retry.run("op") { try script.call() } }.waits
        }
        let first = await waits(seed: 1)
        #expect(first.count == 4)
        #expect(await waits(seed: 1) == first)
        #expect(await waits(seed: 2) != first)
    }
}

@Suite struct BreakerRefusalRetryTests {
    /// A breaker's refusal at the first attempt is the breaker's event alone: no retry event,
    /// nothing retried, whatever the policy retries; after retried failures it ends retrying
    /// with its own reason.
    @Test func aRefusalIsNeverRetriedAndAtTheFirstAttemptEmitsNoRetryEvent() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let retry = Retry(policy: RetryPolicy(maxAttempts: 5, initialDelay: .milliseconds(10), jitter: .none, maxElapsed: nil),
                          clock: clock, bus: bus)
        let refusal = CircuitOpenError(breaker: "notion", state: .open, retryAfter: .seconds(30))
        let refused = Script(failures: 10, error: refusal)
        var caught: RetryError?
        do throws(RetryError) {
            _ = try await retry.run("notion.fetch") { try refused.call() }
        } catch {
            caught = error
        }
        #expect(caught?.reason == .breakerOpen && caught?.attempts == 1 && refused.count == 1)
        #expect(clock.now.offset == .zero, "no wait for the breaker's retry-after")

        let calls = Locked(0)
        let later = Task { () throws(RetryError) -> String in
            try await retry.run("notion.fetch") { () throws -> String in
                let call = calls.withLock { count -> Int in
                    count += 1
                    return count
                }
                throw call == 1 ? Flaky() as any Error : refusal as any Error
            }
        }
        await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(10))
        let result = await later.result
        #expect((result.failureValue as? RetryError)?.reason == .breakerOpen && calls.withLock { $0 } == 2)
        await bus.shutdown()
        #expect(sink.events.map(\.kind) == [.retryAttemptFailed, .retryExhausted])
        #expect(try sink.events.last?.payload(as: RetryExhausted.self).reason == "breaker_open")
    }
}

/// A real clock that counts the sleeps asked of it.
private final class SleepCountingClock: Clock, Sendable {
    private let base = ContinuousClock()
    private let sleeps = Locked(0)
    var sleepCount: Int { sleeps.withLock { $0 } }
    var now: ContinuousClock.Instant { base.now }
    var minimumResolution: Duration { base.minimumResolution }
    func sleep(until deadline: ContinuousClock.Instant, tolerance: Duration?) async throws {
        sleeps.withLock { $0 += 1 }
        try await base.sleep(until: deadline, tolerance: tolerance)
    }
}

@Suite struct ZeroWaitRetryTests {
    @Test func aZeroWaitRunsTheNextAttemptWithoutSleeping() async throws {
        let clock = SleepCountingClock()
        let policy = RetryPolicy.retrying([Flaky.self], maxAttempts: 4, initialDelay: .zero, jitter: .none)
        let retry = Retry(policy: policy, clock: clock)
        let script = Script(failures: 3)
        #expect(try await retry.run("op") { try script.call() } == "ok 4")
        #expect(clock.sleepCount == 0, "a zero wait gives up no thread")
        let slept = Locked(0)
        let blocking = Script(failures: 2)
        #expect(try retry.runBlocking("op", sleep: { _ in slept.withLock { $0 += 1 } }) { try blocking.call() } == "ok 3")
        #expect(slept.withLock { $0 } == 0)
        let waiting = Retry(policy: .retrying([Flaky.self], maxAttempts: 2, initialDelay: .milliseconds(1), jitter: .none),
                            clock: clock)
        let once = Script(failures: 1)
        #expect(try await waiting.run("op") { try once.call() } == "ok 2")
        #expect(clock.sleepCount == 1, "a wait above zero still sleeps on the clock")
    }
}

extension Result {
    var failureValue: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
