import Foundation
import Hardening
import HardeningAgent
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Testing

/// `/events/stream`: the kinds filter, the per-client queue bounded in bytes, slow clients dropped
/// and counted, never blocking the bus; over a real server, fifty readers and one that never
/// reads.
@Suite struct EventStreamTests {
    @Test func aKindsListNamesKindsAndFamilies() throws {
        let filter = try EventKindFilter(parsing: "health.probed, breaker.*")
        #expect(filter.matches("health.probed") && filter.matches("breaker.state_changed") && filter.matches("breaker.rejected"))
        #expect(!filter.matches("health.changed") && !filter.matches("breakers.x") && !filter.matches("retry.attempt_failed"))
        #expect(try EventKindFilter(parsing: "").isAll && EventKindFilter.all.matches("anything.at_all"))
        for bad in ["Health.probed", "health.probed,", "*", ".probed", "health..probed", "health.probed;drop", "a b", "bogus", "health.probed,bogus"] {
            #expect(throws: EventKindFilter.ParseError.self, "\(bad)") { try EventKindFilter(parsing: bad) }
        }
        let error = #expect(throws: EventKindFilter.ParseError.self) { try EventKindFilter(parsing: "health.probed,Bad!") }
        #expect(error?.item == "Bad!" && error?.description.contains("\"Bad!\" is not an event kind") == true)
    }

    static func event(_ kind: EventKind, seq: UInt64, text: String = "x") -> Event {
        Event(timestamp: Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000 + Int64(seq)), level: .info, kind: kind, message: text,
              service: "s", host: "h", run: "r", seq: seq, attrs: Attributes())
    }

    /// Everything queued for a client so far, as text.
    static func queued(_ client: EventStreamHub.Client) async -> String {
        var text = ""
        var frames = client.frames.makeAsyncIterator()
        while client.queuedBytes > 0, let frame = await frames.next() {
            text += String(buffer: frame)
            client.wrote(frame.readableBytes)
        }
        return text
    }

    @Test func eachClientGetsItsKindsAndOneThatFallsBehindIsDroppedAndCounted() async throws {
        var configuration = EventStreamHub.Configuration()
        configuration.clientQueueBytes = 4_096
        configuration.maxClients = 3
        let hub = EventStreamHub(configuration: configuration)
        let health = try #require(hub.connect(filter: try EventKindFilter(parsing: "health.*")))
        let everything = try #require(hub.connect(filter: .all))
        let slow = try #require(hub.connect(filter: .all))
        #expect(hub.connect(filter: .all) == nil, "a fourth client is refused")
        hub.write([Self.event("health.probed", seq: 1), Self.event("retry.attempt_failed", seq: 2), Self.event("health.changed", seq: 3)])
        let healthText = await Self.queued(health)
        #expect(healthText.hasPrefix("retry: 3000\n"), "\(healthText)")
        #expect(healthText.contains("id: r-1\ndata: {") && healthText.contains("id: r-3\n") && !healthText.contains("retry.attempt_failed"),
                "\(healthText)")
        #expect(await Self.queued(everything).components(separatedBy: "\ndata: ").count - 1 == 3)
        // The slow client reads nothing: its queue passes 4 KiB and it alone is dropped.
        for seq in 4..<40 {
            hub.write([Self.event("log.message", seq: UInt64(seq), text: String(repeating: "y", count: 200))])
            _ = await Self.queued(everything)
        }
        var reasons = slow.ending.makeAsyncIterator()
        #expect(await reasons.next() == .dropped)
        let statistics = hub.statistics
        #expect(statistics.dropped == 1 && statistics.clients == 2 && statistics.refused == 1 && statistics.connected == 3, "\(statistics)")
        #expect(statistics.queuedBytes <= 2 * configuration.clientQueueBytes)
        // Closing ends the others' streams (what was queued stays readable).
        hub.close()
        var healthReasons = health.ending.makeAsyncIterator()
        #expect(await healthReasons.next() == .closed)
        #expect(hub.connect(filter: .all) == nil, "a closed hub takes no client")
    }
}

/// `/events/stream` under load, in a real server: fifty readers and one that never reads.
extension LoadTests {
    @Suite struct EventStream {
        /// A server as the agent runs it (the connection guard with a 1 s request timeout, the
        /// dashboard's routes), 8,000 events of about 1.4 KB (as JSON) emitted at up to 2,000 a
        /// second (slower if the fifty readers fall more than 50 events behind, as they do on a
        /// loaded machine), fifty clients reading the whole stream and one whose socket buffer is
        /// 4 KiB and who never reads; each client's queue is bounded at 256 KiB.
        @Test(.timeLimit(.minutes(2))) func fiftyReadersGetEverythingWhileOneThatNeverReadsIsDroppedAndTheBusNeverWaits() async throws {
            let summary = SummarySink()
            var streamConfiguration = EventStreamHub.Configuration()
            streamConfiguration.clientQueueBytes = 256 << 10
            let dashboard = LiveDashboard(summary: summary, stream: streamConfiguration)
            let bus = EventBus(configuration: .init(service: "sse-test", overflowPolicy: .dropNewest, volume: .full), sinks: [summary] + dashboard.sinks)
            let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
            let application = Application(
                router: Router().addHardeningDashboard(dashboard),
                server: .guardedHTTP1(idleTimeout: .seconds(30), headerTimeout: .seconds(5), requestTimeout: .seconds(1),
                                      limiter: ConnectionLimiter(maxConnections: 200)),
                configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
                logger: Logger(label: "sse-test"))
            let group = ServiceGroup(configuration: .init(services: [bus, application, dashboard], logger: Logger(label: "sse-test")))
            let running = Task { try await group.run() }
            var portIterator = ports.makeAsyncIterator()
            let port = try #require(await portIterator.next())

            let slow = try #require(EventStreamClient(port: port, path: "/events/stream", receiveBuffer: 4_096))
            let readers = (0..<50).compactMap { _ in EventStreamClient(port: port, path: "/events/stream?kinds=log.message") }
            #expect(readers.count == 50)
            readers.forEach { $0.startReading(quietFor: 30) }
            #expect(await eventually(timeout: .seconds(20)) { dashboard.stream.statistics.clients == 51 })

            // The stream outlives the server's 1 s request timeout.
            try await Task.sleep(for: .milliseconds(1_500))
            #expect(dashboard.stream.statistics.clients == 51, "streams are not cut by the request timeout")

            let events = 8_000
            let text = String(repeating: "z", count: 600)
            let latencies = try await onOwnThread { () -> [Duration] in
                var latencies: [Duration] = []
                latencies.reserveCapacity(events)
                let clock = ContinuousClock()
                let deadline = clock.now.advanced(by: .seconds(60))
                for number in 0..<events {
                    let start = clock.now
                    bus.emit(LogMessage(logger: "flood", source: "test", text: "\(number) \(text)"))
                    latencies.append(start.duration(to: clock.now))
                    guard number % 20 == 19 else { continue }
                    usleep(10_000)
                    // The readers set the pace (at most 50 events, about 70 KB, behind: under their
                    // queue's bound however loaded the machine is); the silent one cannot.
                    while readers.map(\.frames).min() ?? 0 < number - 50, clock.now < deadline { usleep(1_000) }
                }
                return latencies
            }
            var peakQueued = 0
            let allRead = await eventually(timeout: .seconds(60), interval: .milliseconds(20)) {
                peakQueued = max(peakQueued, dashboard.stream.statistics.queuedBytes)
                return readers.allSatisfy { $0.frames >= events }
            }
            #expect(allRead, "every reader read every event: \(readers.map(\.frames).min() ?? 0) at least")
            let statistics = dashboard.stream.statistics
            #expect(statistics.dropped == 1 && statistics.clients == 50, "only the one that never reads is dropped: \(statistics)")
            #expect(peakQueued <= 51 * streamConfiguration.clientQueueBytes, "queues stay bounded: \(peakQueued) bytes at most")
            // Each read every event, and the hub's own notice (a log.message too) of the one it dropped.
            #expect(readers.allSatisfy { $0.frames == events + 1 && $0.head.hasPrefix("HTTP/1.1 200") && $0.head.contains("text/event-stream") })
            // Its connection is closed: it reads what the socket held, then the end.
            try await onOwnThread { slow.readUntilClosed(quietFor: 10) }
            #expect(slow.closedByServer && slow.frames < events, "\(slow.frames) events before the close")
            // The bus never waited for a client: emit stays in the microseconds.
            let sorted = latencies.sorted()
            let p50 = sorted[sorted.count / 2], p99 = sorted[sorted.count * 99 / 100]
            #expect(p50 < .microseconds(100) && p99 < .milliseconds(5), "emit p50 \(p50), p99 \(p99)")
            #expect(bus.statistics.dropped == 0, "the bus dropped nothing: \(bus.statistics)")

            // Graceful shutdown ends every stream before the server waits for its requests.
            let clock = ContinuousClock()
            let stopping = clock.now
            await group.triggerGracefulShutdown()
            try await running.value
            #expect(await eventually(timeout: .seconds(40)) { readers.allSatisfy(\.finished) })
            #expect(readers.allSatisfy { $0.closedByServer }, "every reader saw its stream end")
            #expect(stopping.duration(to: clock.now) < .seconds(10), "shutdown took \(stopping.duration(to: clock.now))")
        }
    }
}
