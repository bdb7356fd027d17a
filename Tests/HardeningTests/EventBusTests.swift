import Dispatch
import Hardening
import HardeningTestKit
import Logging
import ServiceLifecycle
import Testing

@Suite struct EventBusTests {
    private func configuration(capacity: Int = 1024, policy: OverflowPolicy = .dropNewest) -> EventBus.Configuration {
        EventBus.Configuration(service: "svc", host: "host-1", run: "run-a", capacity: capacity, overflowPolicy: policy)
    }

    @Test func deliversInSeqOrderWithEnvelopeStamped() async {
        let sink = InMemorySink()
        let bus = EventBus(configuration: configuration(), sinks: [sink])
        for index in 0..<500 {
            bus.emit(TimingRecorded(operation: "op\(index)", durationMs: Double(index), outcome: "success"))
        }
        await bus.flush()
        let events = sink.events
        #expect(events.count == 500)
        #expect(events.map(\.seq) == Array(1...500))
        #expect(events.allSatisfy { $0.service == "svc" && $0.host == "host-1" && $0.run == "run-a" })
        #expect(events.map { $0.attrs["operation"]?.stringValue } == (0..<500).map { "op\($0)" })
        #expect(sink.flushCount >= 1)
        await bus.shutdown()
        #expect(sink.isClosed)
    }

    @Test func shutdownDeliversEverythingAndRejectsLaterEvents() async {
        let sink = InMemorySink()
        let bus = EventBus(configuration: configuration(capacity: 100_000), sinks: [sink])
        for _ in 0..<20_000 { bus.emit(.info, "custom.kind", message: "m") }
        await bus.shutdown()
        #expect(sink.events.count == 20_000)
        #expect(sink.events.last?.seq == 20_000)
        #expect(bus.emit(Event(timestamp: .init(microsecondsSinceEpoch: 0), level: .info, kind: "late", message: "")) == false)
        #expect(bus.statistics.rejectedAfterShutdown == 1)
        await bus.flush()  // returns at once after shutdown
        await bus.shutdown()  // idempotent
    }

    @Test func concurrentProducersLoseNothing() async {
        let sink = InMemorySink()
        let bus = EventBus(configuration: configuration(capacity: 512, policy: .block), sinks: [sink])
        let producers = 4
        let perProducer = 25_000
        DispatchQueue.concurrentPerform(iterations: producers) { producer in
            for index in 0..<perProducer {
                bus.emit(.info, "load.test", message: "", attrs: ["producer": .int(Int64(producer)), "index": .int(Int64(index))])
            }
        }
        await bus.shutdown()
        let events = sink.events
        #expect(events.count == producers * perProducer)
        #expect(events.map(\.seq) == (1...UInt64(producers * perProducer)).map { $0 })
        // Per producer, events arrive in the order emitted, each exactly once.
        var next = [Int64](repeating: 0, count: producers)
        for event in events {
            let producer = Int(event.attrs["producer"]!.intValue!)
            #expect(event.attrs["index"]?.intValue == next[producer])
            next[producer] += 1
        }
        #expect(bus.statistics.dropped == 0)
    }

    @Test func dropNewestCountsExactlyWhatItDropped() async {
        let gate = GatedSink()
        let bus = EventBus(configuration: configuration(capacity: 10, policy: .dropNewest), sinks: [gate])
        // The first event may be taken by the drain (which then blocks in the gate) before the
        // rest arrive; emit one, wait until it is taken, then fill the buffer.
        bus.emit(.info, "first", message: "")
        while bus.statistics.delivered == 0 { await Task.yield() }
        var accepted = 0
        for index in 0..<100 where bus.emit(Event(timestamp: .init(microsecondsSinceEpoch: 0), level: .info, kind: "k", message: "\(index)")) {
            accepted += 1
        }
        #expect(accepted == 10)
        #expect(bus.statistics.dropped == 90)
        gate.open()
        await bus.shutdown()
        let events = gate.events
        let dropped = events.filter { $0.kind == .busDropped }
        #expect(dropped.count == 1)
        let payload = try? dropped.first?.payload(as: BusDropped.self)
        #expect(payload?.count == 90)
        #expect(payload?.totalDropped == 90)
        #expect(payload?.policy == "drop_newest")
        // The kept events are the oldest ten.
        #expect(events.filter { $0.kind == "k" }.map(\.message) == (0..<10).map { "\($0)" })
        #expect(events.map(\.seq) == Array(1...UInt64(events.count)))
    }

    @Test func dropOldestKeepsTheNewest() async {
        let gate = GatedSink()
        let bus = EventBus(configuration: configuration(capacity: 10, policy: .dropOldest), sinks: [gate])
        bus.emit(.info, "first", message: "")
        while bus.statistics.delivered == 0 { await Task.yield() }
        for index in 0..<100 { bus.emit(.info, "k", message: "\(index)") }
        #expect(bus.statistics.dropped == 90)
        gate.open()
        await bus.shutdown()
        let events = gate.events
        #expect(events.filter { $0.kind == "k" }.map(\.message) == (90..<100).map { "\($0)" })
        let payload = try? events.first { $0.kind == .busDropped }?.payload(as: BusDropped.self)
        #expect(payload?.count == 90)
        #expect(payload?.policy == "drop_oldest")
    }

    @Test func blockPolicyWaitsAndDropsNothing() async {
        let gate = GatedSink()
        let bus = EventBus(configuration: configuration(capacity: 4, policy: .block), sinks: [gate])
        let done = AsyncFlag()
        let producer = Task.detached {
            for index in 0..<50 { bus.emit(.info, "k", message: "\(index)") }
            done.set()
        }
        try? await Task.sleep(for: .milliseconds(50))
        #expect(!done.isSet, "emit must block while the buffer is full")
        gate.open()
        await producer.value
        await bus.shutdown()
        #expect(gate.events.map(\.message) == (0..<50).map { "\($0)" })
        #expect(bus.statistics.dropped == 0)
    }

    @Test func redactsBeforeDelivery() async {
        let sink = InMemorySink()
        let bus = EventBus(configuration: configuration(), sinks: [sink])
        bus.emit(ErrorRecorded(operation: "openai.chat", errorType: "AuthError", error: "invalid key sk-abcdefghijklmnopqrstuvwxyz",
                               context: ["api_key": "sk-abcdefghijklmnopqrstuvwxyz", "password": "hunter2"]))
        await bus.shutdown()
        let event = sink.events[0]
        #expect(!event.attrs["error"]!.stringValue!.contains("sk-abc"))
        #expect(event.attrs["context"]?.objectValue?["password"] == .string("[REDACTED]"))
        #expect(!event.message.contains("sk-abc"))
    }

    @Test func runsAsAServiceAndFlushesOnGracefulShutdown() async throws {
        let sink = InMemorySink()
        let bus = EventBus(configuration: configuration(capacity: 100_000), sinks: [sink])
        let group = ServiceGroup(configuration: .init(services: [.init(service: bus)],
                                                      logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for _ in 0..<10_000 { bus.emit(.info, "k", message: "") }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(sink.events.count == 10_000)
        #expect(sink.isClosed)
    }

    @Test func sinksGetTicksWithTheInjectedClock() async throws {
        final class TickSink: EventSink {
            let name = "tick"
            let ticks = Locked<[Timestamp]>([])
            func write(_ events: [Event]) {}
            func flush() {}
            func close() {}
            func tick(now: Timestamp) { ticks.withLock { $0.append(now) } }
        }
        let clock = ManualWallClock()
        let sink = TickSink()
        var configuration = configuration()
        configuration.tickInterval = .milliseconds(10)
        let bus = EventBus(configuration: configuration, sinks: [sink], clock: clock)
        await bus.flush()  // the drain is running and has read the clock
        clock.advance(by: .seconds(1))
        for _ in 0..<200 where !sink.ticks.withLock({ $0.contains(clock.now()) }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        await bus.shutdown()
        #expect(sink.ticks.withLock { $0.contains(clock.now()) })
    }
}


/// A flag set from one task and read from another.
final class AsyncFlag: Sendable {
    private let value = Locked(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
