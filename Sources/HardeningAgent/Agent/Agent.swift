// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import AsyncHTTPClient
import Hardening
import HardeningLog
import HardeningOTel
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Tracing
import UnixSignals

/// The `hardening agent`: validates its configuration, runs the health monitor on an interval,
/// writes events to the configured sinks, and serves `/health`, `/health/live`, `/health/ready`,
/// `/metrics`, `/summary`, the live `/dashboard` and its `/events/stream` over Hummingbird
/// (loopback by default).
///
/// It runs as a swift-service-lifecycle `ServiceGroup`. Graceful shutdown (SIGTERM, SIGINT) goes
/// in reverse order of start: the monitor first (readiness turns failing, probes stop), then
/// ``AgentConfiguration/shutdownDrain`` during which the server still answers (so that a load
/// balancer sees readiness fail), then the event streams end, then the HTTP server (in-flight
/// requests are answered), then the webhook (queued alerts are posted), and the bus last (every
/// event reaches every sink, which flush and close); all within
/// ``AgentConfiguration/shutdownTimeout``, after which what is left is cancelled.
public final class Agent: Sendable {
    /// The configuration it runs.
    public let configuration: AgentConfiguration
    /// The bus every component emits on.
    public let bus: EventBus
    /// The health monitor.
    public let monitor: HealthMonitor<ContinuousClock>
    /// The live summary behind `/summary` and `/metrics` (rendered through `MetricCatalogue`,
    /// like `hardening replay --format prometheus`).
    public let summary: SummarySink
    /// The alert webhook, if configured.
    public let webhook: AlertWebhook?
    /// The rotating file sink, if configured.
    public let fileSink: RotatingFileSink?
    private let client: HTTPClient
    /// The probes' own event loop: a flood on the server cannot delay a probe into a timeout.
    private let probeLoops: MultiThreadedEventLoopGroup
    private let logger: Logger
    /// The HTTP server's connection limit and what its connection guards did.
    let connections: ConnectionLimiter
    /// `/summary`'s and `/metrics`' answers, rebuilt in the background.
    let summarySnapshot: SummarySnapshot
    /// `/dashboard` and `/events/stream`, unless `server.dashboard` is off.
    public let dashboard: LiveDashboard?
    /// What the OTLP exporter could not send, when `otlp` is set.
    public let exportDiagnostics: ExportDiagnostics?
    /// The OTLP exporter's service, when `otlp` is set.
    private let exportService: (any Service)?

    /// Builds every part from `configuration` (nothing runs until ``run(onListening:)``).
    public init(configuration: AgentConfiguration) {
        self.configuration = configuration
        let probeLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.probeLoops = probeLoops
        let client = HTTPHealthCheck.probingClient(eventLoopGroup: probeLoops)
        self.client = client
        self.connections = ConnectionLimiter(maxConnections: configuration.server.maxConnections)
        let events = configuration.events
        var sinks: [any EventSink] = []
        if let files = events.files {
            let sink = RotatingFileSink(configuration: files)
            fileSink = sink
            sinks.append(sink)
        } else {
            fileSink = nil
        }
        switch events.stdout {
        case "json": sinks.append(StdoutSink(format: .json, maxLineBytes: events.stdoutMaxLineBytes, minimumLevel: events.stdoutLevel))
        case "human": sinks.append(StdoutSink(format: .human(colors: true), maxLineBytes: events.stdoutMaxLineBytes, minimumLevel: events.stdoutLevel))
        case "auto": sinks.append(StdoutSink(format: .automatic(colors: true), maxLineBytes: events.stdoutMaxLineBytes, minimumLevel: events.stdoutLevel))
        default: break
        }
        let summary = SummarySink()
        self.summarySnapshot = SummarySnapshot(summary: summary, interval: configuration.server.summaryRefresh)
        self.summary = summary
        var stream = EventStreamHub.Configuration()
        stream.maxClients = configuration.server.streamClients
        stream.clientQueueBytes = configuration.server.streamClientQueueBytes
        stream.maxLineBytes = events.stdoutMaxLineBytes
        let dashboard = configuration.server.dashboard ? LiveDashboard(summary: summary, stream: stream) : nil
        self.dashboard = dashboard
        sinks += [summary, StderrNoticeSink()] as [any EventSink]
        sinks += dashboard?.sinks ?? []
        // The webhook needs the bus for its own events and the bus needs the webhook as a sink:
        // the sink list is completed through a box before the bus starts.
        let webhookBox = DeferredSink(name: "webhook")
        if configuration.alerts.webhook != nil { sinks.append(webhookBox) }
        // Every sink drops only its own events when it falls behind (each has its own queue),
        // and the bus gives up on a sink still stalled at the shutdown timeout.
        let export = Self.makeExport(configuration)
        let bus = EventBus(configuration: .init(service: configuration.service, overflowPolicy: .dropNewest,
                                                redactor: Redactor(knownSecrets: configuration.secrets),
                                                shutdownTimeout: configuration.shutdownTimeout,
                                                tracer: export.tracer ?? EventBus.Configuration.bootstrappedTracer(),
                                                volume: events.volume),
                           sinks: sinks)
        self.bus = bus
        self.exportDiagnostics = export.diagnostics
        self.exportService = export.service
        export.diagnostics?.attach(bus)
        if let problem = export.problem { bus.emit(LogMessage(logger: "hardening.agent", source: "HardeningAgent", text: problem), level: .error) }
        if let hook = configuration.alerts.webhook {
            let webhook = AlertWebhook(url: hook.url, headers: hook.headers, timeout: hook.timeout, attempts: hook.attempts, client: client, bus: bus)
            webhookBox.set(webhook)
            self.webhook = webhook
        } else {
            self.webhook = nil
        }
        var logger = Logger(label: "hardening.agent", factory: { EventLogHandler(label: $0, bus: bus) })
        logger.logLevel = .info
        self.logger = logger
        let checks = Self.makeChecks(configuration, client: client, bus: bus, fileSink: fileSink, webhook: webhook)
        let prober = HealthProber(checks: checks, timeout: configuration.health.proberTimeout, bus: bus)
        let alerts = configuration.alerts.rules.isEmpty ? nil : HealthAlerts(rules: configuration.alerts.rules, bus: bus)
        self.monitor = HealthMonitor(prober: prober, interval: configuration.health.interval, alerts: alerts, bus: bus,
                                     slowProbe: configuration.health.slowProbe)
    }

    /// The OTLP exporter `otlp` asks for (with the `OTLP` trait), or why there is none.
    static func makeExport(_ configuration: AgentConfiguration)
        -> (tracer: (any Tracer)?, service: (any Service)?, diagnostics: ExportDiagnostics?, problem: String?)
    {
        guard let otlp = configuration.otlp else { return (nil, nil, nil, nil) }
        #if OTLP
        do {
            let export = try OTLPExport.make(serviceName: configuration.service, endpoint: otlp.endpoint, exportTimeout: otlp.exportTimeout)
            return (export.tracer, export.service, export.diagnostics, nil)
        } catch {
            return (nil, nil, nil, "otlp: no export to \(otlp.endpoint): \(error)")
        }
        #else
        return (nil, nil, nil, "otlp: this build leaves out the OTLP trait; no spans are exported")
        #endif
    }

    /// The health checks the configuration names, built.
    static func makeChecks(_ configuration: AgentConfiguration, client: HTTPClient, bus: EventBus?, fileSink: RotatingFileSink?,
                           webhook: AlertWebhook?) -> [any HealthCheck] {
        configuration.health.checks.compactMap { check -> (any HealthCheck)? in
            let timeout = check.timeout ?? configuration.health.timeout
            switch check.kind {
            case .http(let url, let method, let headers, let expected, let observe):
                return HTTPHealthCheck(name: check.name, url: url, method: method, headers: headers, expectedStatuses: expected,
                                       observe: observe.map { HTTPHealthCheck.ObservedField(path: $0.path, name: $0.name) },
                                       timeout: timeout, slowThreshold: check.slowThreshold, isCritical: check.isCritical,
                                       secrets: configuration.secrets, client: client)
            case .tcp(let host, let port):
                return TCPHealthCheck(name: check.name, host: host, port: port, timeout: timeout, slowThreshold: check.slowThreshold,
                                      isCritical: check.isCritical)
            case .disk(let path, let minimum):
                return DiskSpaceHealthCheck(name: check.name, path: path, minimumFreeBytes: minimum, isCritical: check.isCritical)
            case .sinks:
                guard let bus else { return nil }
                return SinkHealthCheck(name: check.name, bus: bus, fileSink: fileSink, isCritical: check.isCritical)
            case .configuration:
                let rules = configuration.validation.allRules
                let loaded = configuration.sources
                let envFile = configuration.validation.envFile
                return ConfigHealthCheck(name: check.name, validator: ConfigValidator(rules: rules), isCritical: check.isCritical) {
                    // The .env file is read again; the environment and the file's values are as loaded.
                    // A missing file reads as empty (as at load); any other failure is no reading at all.
                    var text: String?
                    if let envFile {
                        do {
                            text = try PosixFileSystem().readText(envFile)
                        } catch let error as FileSystemError where error.code == ENOENT {
                            text = nil
                        }
                    }
                    var sources = ConfigSources(environment: loaded.environment, dotEnv: text, dotEnvName: loaded.dotEnvName)
                    sources.fileValues = loaded.fileValues
                    sources.fileName = loaded.fileName
                    return sources
                }
            case .breaker:
                guard let webhook else { return nil }
                return BreakerHealthCheck(breaker: webhook.breaker, name: check.name, isCritical: check.isCritical)
            }
        }
    }

    /// The connectivity checks `validate-config` runs: the health checks the configuration's
    /// `config.connectivity` names (those that reach something outside: the sink and breaker
    /// checks of a running agent are left out). The caller shuts `client` down.
    package static func connectivityChecks(_ configuration: AgentConfiguration, client: HTTPClient) -> [any HealthCheck] {
        let names = Set(configuration.validation.connectivity)
        var selected = configuration
        selected.health.checks = configuration.health.checks.filter { names.contains($0.name) }
        return makeChecks(selected, client: client, bus: nil, fileSink: nil, webhook: nil)
    }

    /// Runs until SIGTERM or SIGINT (or cancellation), then shuts down in order; `onListening`
    /// is called with the bound host and port once the server accepts connections.
    public func run(onListening: @escaping @Sendable (String, Int) async -> Void = { _, _ in }) async throws {
        let server = configuration.server
        let router = AgentRoutes(agent: self).router()
        let application = Application(
            router: router,
            server: .guardedHTTP1(idleTimeout: server.idleTimeout, headerTimeout: server.headerTimeout, requestTimeout: server.requestTimeout,
                                  limiter: connections),
            configuration: ApplicationConfiguration(address: .hostname(server.host, port: server.port), serverName: nil),
            onServerRunning: { channel in await onListening(server.host, channel.localAddress?.port ?? server.port) },
            logger: logger
        )
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: bus)]
        // After the bus (its failures are events), before everything that makes spans: it stops
        // after them and flushes.
        if let exportService { services.append(.init(service: exportService)) }
        if let webhook { services.append(.init(service: webhook)) }
        services.append(.init(service: summarySnapshot))
        services.append(.init(service: application))
        // Stops before the server: open event streams would hold its graceful shutdown.
        if let dashboard { services.append(.init(service: dashboard)) }
        services.append(.init(service: DrainDelay(duration: configuration.shutdownDrain)))
        services.append(.init(service: monitor))
        var groupConfiguration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        groupConfiguration.maximumCancellationDuration = .seconds(2)
        let group = ServiceGroup(configuration: groupConfiguration)
        bus.emit(LogMessage(logger: "hardening.agent", source: "agent",
                            text: "hardening agent starting: \(configuration.file), \(configuration.health.checks.count) checks every \(Int64(configuration.health.interval.milliseconds)) ms"))
        do {
            try await group.run(thenClosing: client, bus)
        } catch {
            try? await probeLoops.shutdownGracefully()
            throw error
        }
        try? await probeLoops.shutdownGracefully()
    }
}

extension ServiceGroup {
    /// Runs the group, then (whatever its outcome) shuts the HTTP client down and the bus last, so
    /// that every event, the shutdown's own included, reaches every sink.
    package func run(thenClosing client: HTTPClient, _ bus: EventBus) async throws {
        let outcome: Result<Void, any Error>
        do {
            try await run()
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        try? await client.shutdown()
        await bus.shutdown()
        try outcome.get()
    }
}
#endif
