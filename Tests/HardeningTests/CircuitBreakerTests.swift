import Hardening
import HardeningTestKit
import Testing

private struct Boom: Error {}
private struct Benign: Error {}

@Suite struct CircuitBreakerTests {
    private func breaker(_ configuration: CircuitBreakerConfiguration, clock: ManualClock = ManualClock(),
                         bus: EventBus? = nil) -> CircuitBreaker<ManualClock> {
        CircuitBreaker(name: "notion", configuration: configuration, clock: clock, bus: bus)
    }

    private func fail(_ breaker: CircuitBreaker<ManualClock>, times: Int = 1) async {
        for _ in 0..<times { _ = try? await breaker.call { () async throws -> Int in throw Boom() } }
    }

    private func succeed(_ breaker: CircuitBreaker<ManualClock>) async throws -> Int {
        try await breaker.call { 1 }
    }

    @Test func opensAfterConsecutiveFailuresAndRecoversThroughHalfOpen() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let cb = breaker(.init(trip: .consecutiveFailures(5), recoveryTimeout: .seconds(60)), clock: clock, bus: bus)
        await fail(cb, times: 4)
        _ = try await succeed(cb)  // a success resets the run
        await fail(cb, times: 4)
        #expect(cb.snapshot.state == .closed)
        await fail(cb)
        #expect(cb.snapshot.state == .open)
        clock.advance(by: .seconds(20))
        do {
            _ = try await succeed(cb)
            Issue.record("an open breaker must reject")
        } catch let error as CircuitOpenError {
            #expect(error.state == .open)
            #expect(error.retryAfter == .seconds(40))
        }
        clock.advance(by: .seconds(40))
        #expect(try await succeed(cb) == 1)
        #expect(cb.snapshot.state == .closed)
        await bus.shutdown()
        let changes = try sink.events.filter { $0.kind == .breakerStateChanged }.map { try $0.payload(as: BreakerStateChanged.self) }
        #expect(changes.map { "\($0.from)->\($0.to):\($0.reason)" } == [
            "closed->open:failure_threshold", "open->half_open:recovery_timeout", "half_open->closed:trial_succeeded",
        ])
        #expect(changes[0].failures == 9 && changes[0].successes == 1, "the counts before the reset")
        #expect(try sink.events.first { $0.kind == .breakerRejected }?.payload(as: BreakerRejected.self).retryAfterMs == 40_000)
    }

    @Test func aFailedTrialReopensForLongerWhenConfigured() async throws {
        let clock = ManualClock()
        let cb = breaker(.init(trip: .consecutiveFailures(1), recoveryTimeout: .seconds(10), openDurationMultiplier: 2,
                               maxOpenDuration: .seconds(30)), clock: clock)
        await fail(cb)
        for expected in [20, 30, 30] as [Int64] {
            clock.advance(by: cb.snapshot.retryAfter ?? .zero)
            await fail(cb)  // the trial fails
            #expect(cb.snapshot.state == .open)
            #expect(cb.snapshot.retryAfter == .seconds(expected))
        }
        clock.advance(by: .seconds(30))
        _ = try await succeed(cb)
        await fail(cb)
        #expect(cb.snapshot.retryAfter == .seconds(10), "a success resets the open time")
    }

    @Test func halfOpenAdmitsOnlyItsPermitsUnderConcurrentCallers() async throws {
        let clock = ManualClock()
        let cb = breaker(.init(trip: .consecutiveFailures(1), recoveryTimeout: .seconds(1), halfOpenPermits: 2), clock: clock)
        await fail(cb)
        clock.advance(by: .seconds(1))
        let gate = AsyncGate()
        let admitted = Counter()
        let results = await withTaskGroup(of: Bool.self) { group -> [Bool] in
            for _ in 0..<20 {
                group.addTask {
                    do {
                        _ = try await cb.call { () async throws -> Int in
                            admitted.increment()
                            await gate.wait()
                            return 1
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            #expect(await eventually { admitted.value >= 2 })
            for _ in 0..<100 { await Task.yield() }
            gate.open()
            var results: [Bool] = []
            for await result in group { results.append(result) }
            return results
        }
        #expect(admitted.value == 2)
        #expect(results.filter { $0 }.count == 2)
        #expect(cb.snapshot.state == .closed, "both trials succeeded")
    }

    @Test func neverStaysStuckHalfOpen() async throws {
        let clock = ManualClock()
        let cb = breaker(.init(trip: .consecutiveFailures(1), recoveryTimeout: .seconds(1), halfOpenPermits: 1,
                               maxHalfOpenDuration: .seconds(5)), clock: clock)
        await fail(cb)
        clock.advance(by: .seconds(1))
        let gate = AsyncGate()
        let hanging = Task { try await cb.call { () async throws -> Int in await gate.wait(); return 1 } }
        #expect(await eventually { cb.snapshot.state == .halfOpen })
        await #expect(throws: CircuitOpenError.self) { try await succeed(cb) }
        clock.advance(by: .seconds(6))
        await #expect(throws: CircuitOpenError.self) { try await succeed(cb) }
        #expect(cb.snapshot.state == .open, "the stuck trial timed out")
        gate.open()
        _ = try await hanging.value
        #expect(cb.snapshot.state == .open, "its late success belongs to an earlier generation and is dropped")
    }

    @Test func lateResultsFromAnEarlierStateAreDropped() async throws {
        let clock = ManualClock()
        let cb = breaker(.init(trip: .consecutiveFailures(1)), clock: clock)
        let gate = AsyncGate()
        let slow = Task { try await cb.call { () async throws -> Int in await gate.wait(); throw Boom() } }
        #expect(await eventually { !(cb.snapshot.generation == 0 && !gate.hasWaiter) })
        cb.reset()
        gate.open()
        _ = try? await slow.value
        #expect(cb.snapshot.state == .closed)
        #expect(cb.snapshot.failures == 0)
    }

    @Test func successesCountedWithoutTheLockReachTheTransition() async throws {
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let cb = breaker(.init(trip: .consecutiveFailures(2)), bus: bus)
        for _ in 0..<3 { _ = try await succeed(cb) }
        #expect(cb.snapshot.successes == 3)
        await fail(cb)
        _ = try await succeed(cb)  // resets the run of failures, through the lock
        await fail(cb, times: 2)
        #expect(cb.snapshot.state == .open)
        await bus.shutdown()
        let opened = try #require(sink.events.first { $0.kind == .breakerStateChanged }).payload(as: BreakerStateChanged.self)
        #expect(opened.successes == 4 && opened.failures == 3)
    }

    @Test func aLateSuccessFromAnEarlierClosedStateIsDropped() async throws {
        let cb = breaker(.init(trip: .consecutiveFailures(5)))
        let gate = AsyncGate()
        let slow = Task { try await cb.call { () async throws -> Int in await gate.wait(); return 1 } }
        #expect(await eventually { gate.hasWaiter })
        cb.forceOpen()
        cb.reset()
        gate.open()
        #expect(try await slow.value == 1)
        #expect(cb.snapshot.successes == 0, "admitted two generations ago")
        _ = try await succeed(cb)
        #expect(cb.snapshot.successes == 1)
    }

    @Test func cancellationIsNeitherSuccessNorFailure() async throws {
        let clock = ManualClock()
        let cb = breaker(.init(trip: .consecutiveFailures(1), recoveryTimeout: .seconds(1)), clock: clock)
        await fail(cb)
        clock.advance(by: .seconds(1))
        let cancelled = Task { try await cb.call { () async throws -> Int in throw CancellationError() } }
        _ = try? await cancelled.value
        #expect(cb.snapshot.state == .halfOpen)
        #expect(try await succeed(cb) == 1, "the permit came back")
        #expect(cb.snapshot.state == .closed)
    }

    @Test(arguments: [
        ([true, false, true, false, false], nil as CircuitBreakerState?),  // 2 of 5 failed: closed
        ([true, true, false, true, false], .open),  // 3 of 5 failed: open
        ([true, true, true, false], nil),  // fewer than the minimum calls
    ])
    func failureRateOverACountWindow(outcomes: [Bool], opens: CircuitBreakerState?) async throws {
        let cb = breaker(.init(trip: .failureRate(threshold: 0.6, window: .count(5), minimumCalls: 5)))
        for failed in outcomes {
            if failed { await fail(cb) } else { _ = try await succeed(cb) }
        }
        #expect(cb.snapshot.state == (opens ?? .closed))
    }

    @Test func aSuccessThatCompletesTheMinimumCallsOpensWithTheRightTime() async throws {
        let clock = ManualClock()
        let cb = breaker(.init(trip: .failureRate(threshold: 0.5, window: .count(10), minimumCalls: 4),
                               recoveryTimeout: .seconds(30)), clock: clock)
        clock.advance(by: .seconds(100))
        await fail(cb, times: 3)
        _ = try await succeed(cb)  // 3 of 4 failed, and the minimum is reached by this success
        #expect(cb.snapshot.state == .open)
        #expect(cb.snapshot.retryAfter == .seconds(30))
    }

    @Test func failureRateOverATimeWindowForgetsOldCalls() async throws {
        let clock = ManualClock()
        let cb = breaker(.init(trip: .failureRate(threshold: 0.5, window: .time(.seconds(10)), minimumCalls: 4)), clock: clock)
        await fail(cb, times: 3)
        clock.advance(by: .seconds(11))
        for _ in 0..<3 { _ = try await succeed(cb) }
        await fail(cb)
        #expect(cb.snapshot.state == .closed, "1 of 4 in the window")
        #expect(cb.snapshot.windowCalls == 4)
        await fail(cb, times: 3)
        #expect(cb.snapshot.state == .open)
    }

    @Test func slowCallsCountAsFailures() async throws {
        let clock = ManualClock()
        let cb = breaker(.init(trip: .consecutiveFailures(2), slowCallThreshold: .seconds(2)), clock: clock)
        for _ in 0..<2 {
            _ = try await cb.call { () async throws -> Int in
                clock.advance(by: .seconds(3))
                return 1
            }
        }
        #expect(cb.snapshot.state == .open)
    }

    @Test func onlyConfiguredErrorsAreFailures() async throws {
        let cb = breaker(.init(trip: .consecutiveFailures(1), isFailure: { $0 is Boom }))
        _ = try? await cb.call { () async throws -> Int in throw Benign() }
        #expect(cb.snapshot.state == .closed)
        #expect(cb.snapshot.successes == 1)
        await fail(cb)
        #expect(cb.snapshot.state == .open)
    }

    @Test func manualControls() async throws {
        let cb = breaker(.init(trip: .consecutiveFailures(1)))
        cb.isolate()
        await #expect(throws: CircuitOpenError(breaker: "notion", state: .isolated, retryAfter: nil)) { try await succeed(cb) }
        cb.disable()
        await fail(cb, times: 10)
        #expect(cb.snapshot.state == .disabled)
        #expect(try await succeed(cb) == 1)
        cb.forceOpen()
        #expect(cb.snapshot.state == .open)
        cb.reset()
        #expect(cb.snapshot.state == .closed)
        #expect(try await succeed(cb) == 1)
    }

    @Test func countsAddUpUnderConcurrency() async throws {
        let cb = breaker(.init(trip: .consecutiveFailures(1_000_000)))
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<16 {
                group.addTask {
                    for index in 0..<500 {
                        if (task + index) % 3 == 0 { await fail(cb) } else { _ = try? await succeed(cb) }
                    }
                }
            }
        }
        let snapshot = cb.snapshot
        #expect(snapshot.failures + snapshot.successes == 8000)
        #expect(snapshot.state == .closed)
        #expect(snapshot.failures == (0..<16).reduce(0) { total, task in total + (0..<500).filter { (task + $0) % 3 == 0 }.count })
    }
}

extension CircuitBreakerTests {
    @Test func successesOnManyThreadsAddUpExactly() async throws {
        let cb = breaker(.init(trip: .consecutiveFailures(3)))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { for _ in 0..<20_000 { _ = try? await succeed(cb) } }
            }
            // A reader takes the lock (and empties the lock-free count) all the while.
            group.addTask { for _ in 0..<2_000 { _ = cb.snapshot } }
        }
        #expect(cb.snapshot.successes == 160_000)
    }
}
