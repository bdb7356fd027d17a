import ArgumentParser
import Hardening
import HardeningLog

/// What a steady service writes per instance under each detail: `--rate` requests a second, each
/// with `--operations` timed calls in a trace of its own, health checks probed every 10 s, for
/// `--seconds` of simulated time (the bus's clock is set, not waited for). Reports lines and
/// bytes a second and GB a day, as JSON lines would be shipped (uncompressed).
struct VolumeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "volume",
                                                    abstract: "Lines and bytes a second of a steady service, production detail against full.")

    @Option(help: "Requests a second.")
    var rate = 1_000
    @Option(help: "Timed operations per request.")
    var operations = 3
    @Option(help: "Health checks, each probed every 10 s.")
    var checks = 4
    @Option(help: "Seconds of simulated time.")
    var seconds = 600
    @Option(help: "production or full.")
    var detail = "production"

    /// A clock the benchmark sets.
    final class SimulatedClock: WallClock {
        private let current: Locked<Timestamp>
        init(_ start: Timestamp) { current = Locked(start) }
        func now() -> Timestamp { current.withLock { $0 } }
        func set(_ timestamp: Timestamp) { current.withLock { $0 = timestamp } }
    }

    /// Encodes every delivered event and counts its lines and bytes.
    final class CountingSink: EventSink {
        let name = "counting"
        private let encoder = JSONLineEncoder()
        private let counts = Locked((lines: 0, bytes: 0))
        func write(_ events: [Event]) {
            var bytes = 0
            for event in events { bytes += encoder.encode(event).count }
            counts.withLock { $0 = ($0.lines + events.count, $0.bytes + bytes) }
        }
        func flush() {}
        func close() {}
        var totals: (lines: Int, bytes: Int) { counts.withLock { $0 } }
    }

    func run() async throws {
        let start = Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000)
        let clock = SimulatedClock(start)
        let sink = CountingSink()
        let bus = EventBus(configuration: .init(service: "steady", host: "web-1", capacity: 1 << 20, overflowPolicy: .block,
                                                volume: detail == "full" ? .full : .production),
                           sinks: [sink], clock: clock)
        var random = SplitMix64(seed: 42)
        let names = (0..<operations).map { "operation\($0)" }
        for second in 0..<seconds {
            for request in 0..<rate {
                let at = start.microsecondsSinceEpoch + Int64(second) * 1_000_000 + Int64(request) * 1_000_000 / Int64(rate)
                clock.set(Timestamp(microsecondsSinceEpoch: at))
                let traceID = RunID.hex(random.next()) + RunID.hex(random.next())
                let spanID = RunID.hex(random.next())
                for name in names {
                    // A few to a few hundred milliseconds, with microseconds: a service's spread.
                    let milliseconds = Double(2_000 + random.next() % 200_000) / 1000
                    bus.emit(TimingRecorded(operation: name, durationMs: milliseconds, outcome: "success"),
                             traceID: traceID, spanID: spanID)
                }
            }
            if second % 10 == 0 {
                for check in 0..<checks {
                    bus.emit(HealthProbed(check: "check\(check)", status: "healthy", latencyMs: Double(random.next() % 50_000) / 1000, detail: ""))
                }
                // Each simulated window's events are taken before the clock moves past it.
                while bus.statistics.pending > 0 { await Task.yield() }
            }
        }
        await bus.shutdown()
        let totals = sink.totals
        let perSecond = (lines: Double(totals.lines) / Double(seconds), bytes: Double(totals.bytes) / Double(seconds))
        print("volume detail=\(detail) rate=\(rate) operations=\(operations) checks=\(checks) seconds=\(seconds) lines=\(totals.lines) bytes=\(totals.bytes) "
              + "lines_per_second=\(perSecond.lines) bytes_per_second=\(Int(perSecond.bytes)) gb_per_day=\(perSecond.bytes * 86_400 / 1e9)")
    }
}
