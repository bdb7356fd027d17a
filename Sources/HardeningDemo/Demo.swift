import AsyncHTTPClient
import Hardening
import HardeningAgent
import HardeningLog
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import Tracing
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `hardening demo`: fake dependencies with scripted faults, a RAG-like pipeline through the
/// primitives, the health monitor and configuration validation, events to stdout and rotating
/// files; then the live summary, the replay of the files, and whether the two are equal.
public enum Demo {
    /// What to run.
    public struct Options: Sendable {
        /// How long the workload runs.
        public var duration: Duration = .seconds(20)
        /// Where the files go (a directory the demo owns: see ``prepare(_:)``).
        public var logDirectory = "./hardening-logs/demo"
        /// The stdout sink's format; `nil`: no stdout sink.
        public var stdout: StdoutSink.Format? = .automatic(colors: true)
        /// The stdout sink's longest line, newline included (``StdoutSink/defaultMaxLineBytes``).
        public var stdoutMaxLineBytes = StdoutSink.defaultMaxLineBytes
        /// Concurrent questions.
        public var workers = 4
        /// Seed of the fakes' noise.
        public var seed: UInt64 = 1
        /// A port on 127.0.0.1 for the live `/dashboard` and `/events/stream` while the demo
        /// runs (0 picks a free one); `nil`: none.
        public var dashboardPort: Int?
        /// Called with the dashboard's address once it listens.
        public var onDashboard: @Sendable (String) -> Void = { _ in }
        /// The tracer of the demo's spans (a `question` span per question, the primitives' spans
        /// under it, health probes); `nil`: none.
        public var tracer: (any Tracer)?
        /// The service that exports the tracer's spans (`OTLPExport/service`): it runs before the
        /// workload and stops after it, flushing what is left.
        public var tracingService: (any Service)?
        /// Called with the bus once it exists (to attach `ExportDiagnostics`).
        public var onBus: @Sendable (EventBus) -> Void = { _ in }
        /// More sinks for the demo's events (`OTLPLogSink`).
        public var extraSinks: [any EventSink] = []
        /// How much becomes a line (the production profile by default).
        public var volume = EventVolume.production
        /// The lowest level on stdout.
        public var stdoutLevel = EventLevel.trace
        /// The lowest level in the files (above `trace`, the replay no longer equals the live summary).
        public var fileLevel = EventLevel.trace
        /// The `host` field of the demo's events; `nil`: the machine's host name.
        public var host: String?
        /// The faults the fake dependencies play (``DemoScript/Faults``).
        public var faults = DemoScript.Faults.scripted

        /// The defaults.
        public init() {}
    }

    /// What the demo is doing, once a second.
    public struct Progress: Sendable {
        /// Time since the workload started.
        public var elapsed: Duration
        /// The workload's length.
        public var duration: Duration
        /// Questions answered fully, with a fallback, and failed.
        public var answered: Int, degraded: Int, failed: Int
        /// Breaker states by dependency.
        public var breakers: [String: String]
        /// The health monitor's overall status.
        public var health: String
    }

    /// How the demo ended.
    public struct Result: Sendable {
        /// The live summary (every delivered event).
        public var live: Summary
        /// The replay of the files.
        public var replay: Replay.Report
        /// Top-level sections of the summary that differ (empty: equal).
        public var differences: [String]
        /// Questions answered fully, with a fallback, and failed.
        public var answered: Int, degraded: Int, failed: Int
        /// What the file sink did (its lost events and last error, if writes failed).
        public var files: RotatingFileSink.Statistics
        /// Whether the live summary equals the replay.
        public var equal: Bool { differences.isEmpty }
    }

    /// The marker that makes a directory the demo's own (cleared at the next run).
    public static let marker = ".hardening-demo"

    /// Makes `directory` ready: creates it, or clears the demo's files from an earlier run; refuses
    /// a directory with other files (the demo never deletes what it did not write).
    public static func prepare(_ directory: String, fileSystem: some FileSystem = PosixFileSystem()) throws {
        let holder = DirectoryLock.holder(of: DirectoryLock.path(directory: directory, baseName: "events.jsonl"), fileSystem: fileSystem)
        if holder.held {
            throw DemoError(message: DirectoryLock.refusal(directory: directory, holder: holder.pid) + " (another demo runs there?)")
        }
        if try fileSystem.info(directory) == nil {
            try fileSystem.makeDirectory(directory, mode: 0o750)
        } else {
            let names = try fileSystem.contentsOfDirectory(directory)
            guard names.isEmpty || names.contains(marker) else {
                throw DemoError(message: "\(directory) holds files the demo did not write; give --log-dir an empty or new directory")
            }
            for name in names where name != marker { try fileSystem.remove(directory + "/" + name) }
        }
        let descriptor = try fileSystem.open(directory + "/" + marker, flags: O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode: 0o640)
        fileSystem.close(descriptor)
    }

    /// The environment the configuration check reads: the RAG preset's keys with demo values.
    static let environment: [String: String] = [
        "OPENAI_API_KEY": "sk-demo-0000000000000000000000000000", "PINECONE_API_KEY": "pcsk_demo_00000000000000000000",
        "PINECONE_INDEX_NAME": "demo-notes", "NOTION_API_KEY": "ntn_demo_000000000000000000000000",
        "NOTION_DATABASE_ID": "0123456789abcdef0123456789abcdef", "ZOTERO_API_KEY": "zotero-demo-0000000000",
        "ZOTERO_LIBRARY_ID": "123456",
    ]

    /// Runs the demo; `progress` is called about once a second. SIGINT or SIGTERM end the
    /// workload early (the summary and the replay still follow).
    public static func run(_ options: Options, progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> Result {
        try prepare(options.logDirectory)
        // Rotation by age (four segments a run, whatever the volume) and by size, so that even a
        // short run shows closed, compressed segments; the size is large enough that the
        // production detail's windows, closed at each rotation, do not follow the number of calls.
        let fileSink = RotatingFileSink(configuration: .init(
            directory: options.logDirectory, maxFileBytes: 256 << 10, maxFileAge: max(.seconds(1), options.duration / 4),
            minRotationInterval: .milliseconds(500),
            compression: .init(level: 6, delay: .zero), retention: .init(maxFiles: 1000), minimumLevel: options.fileLevel))
        let live = SummarySink()
        var sinks: [any EventSink] = [fileSink, live]
        let dashboard = options.dashboardPort.map { _ in LiveDashboard(summary: live) }
        sinks += dashboard?.sinks ?? []
        if let format = options.stdout {
            sinks.append(StdoutSink(format: format, maxLineBytes: options.stdoutMaxLineBytes, minimumLevel: options.stdoutLevel))
        }
        sinks += options.extraSinks
        // Lossless for the files and the live summary; standard output (a terminal, or a pipe
        // that may be read slowly) drops only its own lines when its reader falls behind.
        let bus = EventBus(configuration: .init(service: "rag-demo", host: options.host, capacity: 1 << 16, overflowPolicy: .block,
                                                redactor: Redactor(knownSecrets: ConfigRule.ragService.filter(\.isSecret).compactMap { environment[$0.key] }),
                                                sinkOverflowPolicies: ["stdout": .dropNewest], tracer: options.tracer, volume: options.volume),
                           sinks: sinks)
        options.onBus(bus)
        let script = DemoScript(duration: options.duration, faults: options.faults)
        let fakes = FakeDependencies(script: script, seed: options.seed)
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        let logger = Logger(label: "hardening.demo", factory: { EventLogHandler(label: $0, bus: bus, logLevel: .warning) })
        let pipeline = DemoPipeline(client: client, dependencies: fakes, bus: bus, script: script, workers: options.workers)
        let alerts = HealthAlerts(rules: [AlertRule(name: "consecutive_failures", trigger: .consecutiveFailures(2), resolveAfterSuccesses: 2)],
                                  bus: bus)
        let llmBreaker = pipeline.breakers["llm"]!
        // The checks are made once the fakes listen (their ports are known then).
        let checks: @Sendable () -> [any HealthCheck] = {
            DemoScript.Dependency.allCases.map { dependency in
                HTTPHealthCheck(name: dependency.rawValue, url: fakes.url(dependency) + "/health", timeout: .milliseconds(500),
                                isCritical: dependency != .references, client: client)
            } + [SinkHealthCheck(bus: bus, fileSink: fileSink), BreakerHealthCheck(breaker: llmBreaker)]
        }
        let workload = DemoWorkload(pipeline: pipeline, fakes: fakes, checks: checks, alerts: alerts, options: options, progress: progress)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = fakes.applications().map { .init(service: $0) }
        // First in, last out: the exporter flushes the spans of everything after it.
        if let tracingService = options.tracingService { services.insert(.init(service: tracingService), at: 0) }
        if let dashboard, let port = options.dashboardPort {
            let onDashboard = options.onDashboard
            let server = Application(router: Router().addHardeningDashboard(dashboard, title: "hardening demo"),
                                     configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port)),
                                     onServerRunning: { channel in onDashboard("http://127.0.0.1:\(channel.localAddress?.port ?? port)/dashboard") },
                                     logger: Logger(label: "hardening.demo.dashboard", factory: { _ in SwiftLogNoOpLogHandler() }))
            // The streams end (the dashboard stops) before the server stops.
            services += [.init(service: server), .init(service: dashboard)]
        }
        services.append(.init(service: workload, successTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                                                                          logger: logger))
        try await group.run(thenClosing: client, bus)
        let liveSummary = live.summary
        let replay = try Replay().run(ReplayInputs([options.logDirectory]))
        let (answered, degraded, failed) = workload.counts
        return Result(live: liveSummary, replay: replay, differences: differences(liveSummary, replay.summary),
                      answered: answered, degraded: degraded, failed: failed, files: fileSink.statistics)
    }

    /// The top-level summary sections whose JSON differs.
    static func differences(_ live: Summary, _ replayed: Summary) -> [String] {
        let (left, right) = (live.json.objectValue ?? Attributes(), replayed.json.objectValue ?? Attributes())
        let keys = Set(left.map(\.key)).union(right.map(\.key)).sorted()
        return keys.filter { left[$0]?.jsonText != right[$0]?.jsonText }
    }
}

/// A demo that cannot start.
public struct DemoError: Error, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    public var description: String { message }
}

/// The workers, the configuration check and the health monitor, for the run's length.
final class DemoWorkload: Service, Sendable {
    let pipeline: DemoPipeline
    let fakes: FakeDependencies
    let checks: @Sendable () -> [any HealthCheck]
    let alerts: HealthAlerts
    let options: Demo.Options
    let progress: @Sendable (Demo.Progress) -> Void
    private let answered = Atomic<Int>(0)
    private let degraded = Atomic<Int>(0)
    private let failed = Atomic<Int>(0)
    private let questions = Atomic<Int>(0)

    init(pipeline: DemoPipeline, fakes: FakeDependencies, checks: @escaping @Sendable () -> [any HealthCheck], alerts: HealthAlerts,
         options: Demo.Options, progress: @escaping @Sendable (Demo.Progress) -> Void) {
        self.pipeline = pipeline
        self.fakes = fakes
        self.checks = checks
        self.alerts = alerts
        self.options = options
        self.progress = progress
    }

    var counts: (Int, Int, Int) { (answered.load(ordering: .relaxed), degraded.load(ordering: .relaxed), failed.load(ordering: .relaxed)) }

    func run() async throws {
        let clock = ContinuousClock()
        while fakes.ports.withLock({ $0.count }) < DemoScript.Dependency.allCases.count {
            try await Task.sleep(for: .milliseconds(5))
        }
        let checks = self.checks()
        let monitor = HealthMonitor(prober: HealthProber(checks: checks, timeout: .seconds(1), bus: pipeline.bus),
                                    interval: max(.milliseconds(200), options.duration / 20), alerts: alerts, bus: pipeline.bus)
        // The configuration check, with one connectivity probe (the notes API).
        _ = await ConfigValidator(rules: ConfigRule.ragService, connectivity: checks.filter { $0.name == "notes" })
            .validate(ConfigSources(environment: Demo.environment), offline: false, timeout: .seconds(1), bus: pipeline.bus)
        let start = clock.now
        let deadline = start + options.duration
        await withTaskGroup(of: Void.self) { background in
            background.addTask { try? await monitor.run() }
            background.addTask { await self.report(monitor: monitor, start: start, deadline: deadline) }
            // The workers end at the deadline (or at SIGINT); then the monitor and the reporter stop.
            await withTaskGroup(of: Void.self) { workers in
                for _ in 0..<max(1, options.workers) {
                    workers.addTask { await self.work(until: deadline) }
                }
            }
            background.cancelAll()
        }
        report(monitor: monitor, start: start)
        // The last windows reach every sink while the services after the workload (an OTLP
        // exporter) still run.
        await pipeline.bus.flush()
    }

    private func work(until deadline: ContinuousClock.Instant) async {
        let clock = ContinuousClock()
        while clock.now < deadline && !Task.isShuttingDownGracefully && !Task.isCancelled {
            let question = questions.add(1, ordering: .relaxed).newValue
            switch await pipeline.answer(question: question) {
            case .answered: answered.add(1, ordering: .relaxed)
            case .degraded: degraded.add(1, ordering: .relaxed)
            case .failed: failed.add(1, ordering: .relaxed)
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    private func report(monitor: HealthMonitor<ContinuousClock>, start: ContinuousClock.Instant, deadline: ContinuousClock.Instant) async {
        let clock = ContinuousClock()
        while clock.now < deadline && !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            if Task.isCancelled { return }
            report(monitor: monitor, start: start)
        }
    }

    private func report(monitor: HealthMonitor<ContinuousClock>, start: ContinuousClock.Instant) {
        let (answered, degraded, failed) = counts
        progress(Demo.Progress(elapsed: min(options.duration, start.duration(to: ContinuousClock.now)), duration: options.duration,
                               answered: answered, degraded: degraded, failed: failed,
                               breakers: pipeline.breakers.mapValues { $0.snapshot.state.rawValue },
                               health: monitor.snapshot.overall.rawValue))
    }
}
