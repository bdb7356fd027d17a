import Hardening
import HardeningTestKit
import HardeningTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A durable sink (the files, the live summary) is never given up for being slow, however long a
/// write takes; a sink that is not durable (standard output) is, and never makes the bus drop for
/// every sink.
@Suite struct SinkDurabilityTests {
    /// A sink whose writes take `pause` each, as a starved or slow writer's do.
    final class SlowSink: EventSink {
        let name: String
        let isDurable: Bool
        let pause: Duration
        let memory = InMemorySink()
        init(name: String, durable: Bool, pause: Duration) {
            self.name = name
            self.isDurable = durable
            self.pause = pause
        }
        func write(_ events: [Event]) {
            var request = timespec(tv_sec: Int(pause.components.seconds), tv_nsec: Int(pause.components.attoseconds / 1_000_000_000))
            nanosleep(&request, nil)
            memory.write(events)
        }
        func flush() {}
        func close() {}
    }

    @Test func aDurableSinkSlowerThanTheStallTimeoutGetsEveryEvent() async throws {
        // Each write takes three times the stall timeout, after which a sink that is not durable
        // is given up (EventBusTests.aSinkThatStallsIsWaitedForThenDropsOnlyItsOwn).
        let durable = SlowSink(name: "files", durable: true, pause: .milliseconds(300))
        let bus = EventBus(configuration: .init(service: "slow", capacity: 100_000, overflowPolicy: .block, maxBatchSize: 10,
                                                sinkQueueCapacity: 10, shutdownTimeout: .seconds(120), sinkStallTimeout: .milliseconds(100),
                                                volume: .full),
                           sinks: [durable])
        for index in 0..<60 { bus.emit(.info, "slow.test", message: "\(index)") }
        await bus.shutdown()
        #expect(durable.memory.events.map(\.message) == (0..<60).map { "\($0)" })
        let statistics = bus.sinkStatistics
        #expect(statistics[0].dropped == 0 && !statistics[0].isAbandoned)
    }

    @Test func aStalledSinkThatIsNotDurableNeverMakesTheBusDropForEverySink() async throws {
        let stalled = GatedSink()
        let files = InMemorySink(name: "files")
        let bus = EventBus(configuration: .init(service: "pressure", capacity: 4_000, overflowPolicy: .dropNewest, maxBatchSize: 100,
                                                sinkQueueCapacity: 100, shutdownTimeout: .seconds(2), sinkStallTimeout: .seconds(3600),
                                                volume: .full),
                           sinks: [stalled, files])
        // Faster than a stalled sink could ever take, never faster than the drain (the emitter
        // waits for the bus's queue to go below half before the next 500, however busy the
        // machine): without the rule the bus fills while the drain waits for the stalled sink,
        // and drops for both.
        for index in 0..<50_000 {
            bus.emit(.info, "pressure.test", message: "\(index)")
            if index % 500 == 499 {
                let drained = await eventually(timeout: .seconds(60)) { bus.statistics.pending < 2_000 }
                #expect(drained, "the bus's queue never drained below half: the drain waits for the stalled sink")
                if !drained { break }
            }
        }
        let dropped = bus.statistics.dropped
        stalled.open()
        await bus.shutdown()
        #expect(dropped == 0, "the bus dropped \(dropped) for every sink")
        #expect(files.events.filter { $0.kind == "pressure.test" }.count == 50_000)
        #expect(bus.sinkStatistics[0].dropped > 0, "the stalled sink dropped its own")
    }
}
