import Hardening
import HardeningTestKit
import Testing

private struct Broken: Error {}

@Suite struct TimeoutTests {
    @Test func aFastBodyReturnsItsValueAndNothingIsReported() async throws {
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let timeout = Timeout(clock: ManualClock(), bus: bus)
        #expect(try await timeout.run("op", timeout: .seconds(1)) { 7 } == 7)
        await #expect(throws: Broken.self) { try await timeout.run("op", timeout: .seconds(1)) { () async throws -> Int in throw Broken() } }
        await bus.shutdown()
        #expect(sink.events.isEmpty)
    }

    @Test func aSlowBodyIsCancelledAndTheTimeoutIsReported() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let timeout = Timeout(clock: clock, bus: bus)
        let bodyWasCancelled = Locked(false)
        let call = Task {
            try await timeout.run("openai.embed", timeout: .seconds(2), scope: .attempt) { () async throws -> Int in
                do {
                    try await clock.sleep(for: .seconds(60))
                } catch {
                    bodyWasCancelled.withLock { $0 = true }
                    throw error
                }
                return 1
            }
        }
        await clock.waitForSleepers(2)
        clock.advance(by: .seconds(2))
        await #expect { try await call.value } throws: { error in
            (error as? TimeoutError) == TimeoutError(operation: "openai.embed", timeout: .seconds(2), scope: .attempt)
        }
        #expect(bodyWasCancelled.withLock { $0 })
        #expect(clock.now.offset == .seconds(2), "stopped at the limit, not at the body's end")
        await bus.shutdown()
        let fired = try #require(sink.events.first).payload(as: TimeoutFired.self)
        #expect(fired == TimeoutFired(operation: "openai.embed", scope: "attempt", timeoutMs: 2_000))
    }

    @Test func theCallersCancellationIsNotATimeout() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let timeout = Timeout(clock: clock, bus: bus)
        let call = Task {
            try await timeout.run("op", timeout: .seconds(2)) { () async throws -> Int in
                try await clock.sleep(for: .seconds(60))
                return 1
            }
        }
        await clock.waitForSleepers(2)
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
        await bus.shutdown()
        #expect(sink.events.isEmpty)
    }

    @Test func aBodyThatIgnoresCancellationIsWaitedForAndItsValueKept() async throws {
        let clock = ManualClock()
        let timeout = Timeout(clock: clock)
        let gate = AsyncGate()
        let call = Task { try await timeout.run("op", timeout: .seconds(1)) { () async throws -> Int in await gate.wait(); return 5 } }
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        for _ in 0..<100 { await Task.yield() }
        gate.open()
        #expect(try await call.value == 5)
    }

    @Test func aZeroLimitFailsWithoutRunningTheBody() async throws {
        let ran = Locked(false)
        await #expect(throws: TimeoutError.self) {
            try await Timeout(clock: ManualClock()).run("op", timeout: .zero) { ran.withLock { $0 = true } }
        }
        #expect(!ran.withLock { $0 })
    }
}
