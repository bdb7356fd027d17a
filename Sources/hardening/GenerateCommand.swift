import ArgumentParser
import Hardening
import HardeningLog
import HardeningWorkload
import Logging
import ServiceLifecycle
import UnixSignals
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `hardening generate`: pushes a seeded, realistic mix of every event kind through the real bus
/// and sinks, and reports throughput on stderr.
struct GenerateCommand: AsyncParsableCommand, StopsGracefully {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate a seeded, realistic mix of every event kind through the real bus and sinks.",
        discussion: """
            Use it to test a Datadog, Loki or Vector pipeline before real traffic arrives, and to \
            benchmark the sinks. SIGTERM or SIGINT stop it cleanly: every event emitted so far is \
            written before it exits, within --shutdown-timeout whatever a sink does (standard output that \
            nobody reads holds up only itself). The summary line goes to stderr.
            """
    )

    @Option(help: "How many events to emit.")
    var events: Int = 100_000

    @Option(help: "Events per second; 0 emits as fast as the sinks take them.")
    var rate: Double = 0

    @OptionGroup(title: "Output (files go to ./hardening-logs/generate without --log-dir, unless only --stdout is given)")
    var output: OutputOptions

    @OptionGroup(title: "Files")
    var files: FileSinkOptions

    @OptionGroup(title: "Volume (generate writes every event it generates unless --detail production)")
    var volume: VolumeOptions

    @Option(help: "Seed of the workload; the same seed gives the same events.")
    var seed: UInt64 = 1

    @Option(help: "What emit does when the buffer is full: block, drop-newest or drop-oldest.")
    var overflow: OverflowOption = .block

    @Option(help: "Capacity of the bus buffer, in events.")
    var capacity: Int = 65_536

    @Option(name: .customLong("capacity-bytes"), help: "Capacity of the bus buffer and of each sink's queue, in bytes of events (estimated).")
    var capacityBytes: Int = 2 << 20

    @Option(help: "The service field of the events.")
    var service: String = "hardening-generate"

    @Option(name: .customLong("summary-json"), help: "At exit, write the live Summary (the fold of every delivered event) as JSON to this file; `hardening replay --format json` of the logs gives the same.")
    var summaryJSON: String?

    /// Where the files go: `--log-dir`, else the command's own directory unless only stdout was asked for.
    static let defaultDirectory = "./hardening-logs/generate"

    func validate() throws {
        guard events >= 0 else { throw ValidationError("--events must be 0 or more, not \(events).") }
        guard rate >= 0, rate.isFinite else { throw ValidationError("--rate must be 0 (unlimited) or a positive number.") }
        guard capacity > 0, capacityBytes > 0 else { throw ValidationError("--capacity and --capacity-bytes must be more than 0.") }
    }

    func run() async throws {
        var sinks: [any EventSink] = []
        var fileSink: RotatingFileSink?
        if let directory = output.logDirectory ?? (output.stdout ? nil : Self.defaultDirectory) {
            let configuration = files.configuration(directory: directory, minimumLevel: volume.fileLevel.level)
            try FileSinkOptions.refuseIfWritten(configuration, command: "generate")
            let sink = RotatingFileSink(configuration: configuration)
            fileSink = sink
            sinks.append(sink)
        }
        if let stdoutSink = output.stdoutSink(minimumLevel: volume.stdoutLevel.level) { sinks.append(stdoutSink) }
        let live = SummarySink()
        if summaryJSON != nil { sinks.append(live) }
        var busConfiguration = output.busConfiguration(service: service, capacity: capacity, overflow: overflow.policy,
                                                       volume: try volume.volume(defaultDetail: .full))
        busConfiguration.capacityBytes = capacityBytes
        busConfiguration.sinkQueueCapacityBytes = capacityBytes
        let bus = EventBus(configuration: busConfiguration, sinks: sinks)
        let generator = GeneratorService(bus: bus, events: events, rate: rate, seed: seed)
        let logger = Logger(label: "hardening.generate", factory: { _ in SwiftLogNoOpLogHandler() })
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: bus),
                .init(service: generator, successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        let started = ContinuousClock.now
        try await group.run()
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let statistics = bus.statistics
        let emitted = generator.emitted
        var line = "generated \(emitted) events in \(format(seconds)) s: \(format(Double(emitted) / max(seconds, 1e-9))) events/s"
        line += "; delivered \(statistics.delivered), dropped \(statistics.dropped)"
        if let fileSink {
            let fileStatistics = fileSink.statistics
            line += "; written \(fileStatistics.writtenEvents), lost \(fileStatistics.lostEvents), rotations \(fileStatistics.rotations)"
        }
        line += OutputOptions.sinkLosses(bus)
        FileHandleStandardError.write(line + "\n")
        if let summaryJSON {
            let out = try OutputStream(path: summaryJSON)
            out.write(live.summary.jsonText + "\n")
            out.close()
        }
        if let fileSink { try FileSinkOptions.failIfLost(fileSink, command: "generate") }
    }

    private func format(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return String(rounded)
    }
}

enum StdoutFormatOption: String, ExpressibleByArgument, CaseIterable {
    case json, human, auto

    var format: StdoutSink.Format {
        switch self {
        case .json: .json
        case .human: .human(colors: true)
        case .auto: .automatic(colors: true)
        }
    }
}

enum OverflowOption: String, ExpressibleByArgument, CaseIterable {
    case block
    case dropNewest = "drop-newest"
    case dropOldest = "drop-oldest"

    var policy: OverflowPolicy {
        switch self {
        case .block: .block
        case .dropNewest: .dropNewest
        case .dropOldest: .dropOldest
        }
    }
}

/// Emits the synthetic workload at the requested rate until done or until graceful shutdown.
final class GeneratorService: Service, Sendable {
    private let bus: EventBus
    private let count: Int
    private let rate: Double
    private let seed: UInt64
    private let emittedCount = Atomic<Int>(0)

    init(bus: EventBus, events: Int, rate: Double, seed: UInt64) {
        self.bus = bus
        self.count = events
        self.rate = rate
        self.seed = seed
    }

    var emitted: Int { emittedCount.load(ordering: .relaxed) }

    func run() async throws {
        // A stalled sink under the block policy can hold `emit`; graceful shutdown starts the
        // bus's shutdown clock so that it lets go within the timeout.
        try await withGracefulShutdownHandler {
            try await emitAll()
        } onGracefulShutdown: { [bus] in
            bus.beginShutdown()
        }
    }

    private func emitAll() async throws {
        var workload = SyntheticWorkload(seed: seed)
        let clock = ContinuousClock()
        let start = clock.now
        var index = 0
        // Paced in steps of about 10 ms (256 events at most): a low rate is even, not bursts.
        let step = rate > 0 ? max(1, min(256, Int(rate / 100))) : 256
        while index < count {
            if index % step == 0 {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                if rate > 0 {
                    let due = start + .microseconds(Int64(Double(index) / rate * 1_000_000))
                    if due > clock.now {
                        do { try await Task.sleep(until: due, clock: clock) } catch { break }
                        if Task.isShuttingDownGracefully { break }
                    }
                }
            }
            let next = workload.next()
            bus.emit(next.level, next.kind, message: next.message, attrs: next.attrs)
            index += 1
            emittedCount.store(index, ordering: .relaxed)
        }
    }
}

/// Writes to standard error without Foundation (through the same writer as the outputs).
enum FileHandleStandardError {
    static func write(_ text: String) {
        let stderr = OutputStream(descriptor: 2)
        stderr.write(text)
        stderr.flush()
    }
}
