import Hardening
import HardeningTestKit
import Testing

@Suite struct BulkheadTests {
    @Test func runsUpToTheLimitQueuesTheNextAndRejectsTheRest() async throws {
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let bulkhead = Bulkhead(name: "pinecone", maxConcurrent: 2, maxQueue: 1, clock: ManualClock(), bus: bus)
        let gate = AsyncGate()
        let running = Counter()
        let calls = (0..<3).map { _ in
            Task { try await bulkhead.run { () async throws -> Int in running.increment(); await gate.wait(); return 1 } }
        }
        #expect(await eventually { bulkhead.snapshot == .init(inFlight: 2, queued: 1) })
        #expect(running.value == 2, "the third waits")
        await #expect { try await bulkhead.run { 1 } } throws: { error in
            (error as? BulkheadRejectedError) == BulkheadRejectedError(bulkhead: "pinecone", reason: .full, inFlight: 2, queued: 1)
        }
        gate.open()
        for call in calls { #expect(try await call.value == 1) }
        #expect(running.value == 3)
        #expect(bulkhead.snapshot == .init(inFlight: 0, queued: 0), "every slot came back")
        await bus.shutdown()
        let rejected = try #require(sink.events.first).payload(as: BulkheadRejected.self)
        #expect(rejected.reason == "full" && rejected.inFlight == 2 && rejected.queued == 1 && rejected.maxQueue == 1)
    }

    @Test func aQueuedCallThatWaitsTooLongIsRejected() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let bulkhead = Bulkhead(name: "b", maxConcurrent: 1, maxQueue: 4, maxWait: .seconds(3), clock: clock, bus: bus)
        let gate = AsyncGate()
        let holder = Task { try await bulkhead.run { () async throws -> Int in await gate.wait(); return 1 } }
        #expect(await eventually { bulkhead.snapshot.inFlight != 0 })
        let waiter = Task { try await bulkhead.run { 2 } }
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(3))
        await #expect { try await waiter.value } throws: { ($0 as? BulkheadRejectedError)?.reason == .queueTimeout }
        #expect(bulkhead.snapshot == .init(inFlight: 1, queued: 0))
        gate.open()
        _ = try await holder.value
        #expect(bulkhead.snapshot == .init(inFlight: 0, queued: 0))
        await bus.shutdown()
        #expect(try sink.events.map { try $0.payload(as: BulkheadRejected.self).reason } == ["queue_timeout"])
    }

    @Test func aCancelledWaiterLeavesTheQueueAndTheSlotGoesToTheNext() async throws {
        let bulkhead = Bulkhead(name: "b", maxConcurrent: 1, maxQueue: 4, clock: ManualClock())
        let gate = AsyncGate()
        let holder = Task { try await bulkhead.run { () async throws -> Int in await gate.wait(); return 1 } }
        #expect(await eventually { bulkhead.snapshot.inFlight != 0 })
        let cancelled = Task { try await bulkhead.run { 2 } }
        #expect(await eventually { bulkhead.snapshot.queued >= 1 })
        let next = Task { try await bulkhead.run { 3 } }
        #expect(await eventually { bulkhead.snapshot.queued >= 2 })
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(bulkhead.snapshot.queued == 1)
        gate.open()
        #expect(try await holder.value == 1)
        #expect(try await next.value == 3)
        #expect(bulkhead.snapshot == .init(inFlight: 0, queued: 0))
    }

    @Test func neverMoreThanTheLimitRunAtOnceUnderLoad() async throws {
        let bulkhead = Bulkhead(name: "b", maxConcurrent: 3, maxQueue: 1_000, clock: ManualClock())
        let now = Locked((running: 0, peak: 0))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    try await bulkhead.run {
                        now.withLock { $0.running += 1; $0.peak = max($0.peak, $0.running) }
                        await Task.yield()
                        now.withLock { $0.running -= 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(now.withLock { $0.peak } <= 3)
        #expect(bulkhead.snapshot == .init(inFlight: 0, queued: 0))
    }
}
