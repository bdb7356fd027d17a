#if OTLP
import CoreMetrics
import Foundation
import Hardening
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// OTLP/HTTP export of the primitives' spans (and, if asked, of the application's swift-metrics
/// and swift-log records) through swift-otel, with its failures counted and reported as events
/// (``ExportDiagnostics``).
///
/// ```swift
/// let otlp = try OTLPExport.make(serviceName: "rag-service", endpoint: "http://127.0.0.1:4318")
/// InstrumentationSystem.bootstrap(otlp.tracer)   // before the bus's configuration is made
/// let bus = EventBus(configuration: .init(service: "rag-service"), sinks: sinks)
/// otlp.diagnostics.attach(bus)
/// // run otlp.service in the ServiceGroup, before the application (it stops after it and flushes)
/// ```
///
/// The standard `OTEL_*` environment variables (`OTEL_EXPORTER_OTLP_ENDPOINT`,
/// `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER`,
/// `OTEL_BSP_SCHEDULE_DELAY`, …) apply as swift-otel reads them: over what is given here.
/// Only `http/protobuf` is built in (the `OTLPHTTP` trait of swift-otel); gRPC would add
/// grpc-swift-2 and its transport to every build.
public struct OTLPExport: Sendable {
    /// The signals to export.
    public struct Signals: OptionSet, Sendable, Hashable {
        /// The signals' bits.
        public let rawValue: Int
        /// Signals from their bits.
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// Spans.
        public static let traces = Signals(rawValue: 1)
        /// swift-metrics instruments.
        public static let metrics = Signals(rawValue: 2)
        /// swift-log records.
        public static let logs = Signals(rawValue: 4)
    }

    /// The tracer to bootstrap (`InstrumentationSystem.bootstrap`) or to give the bus
    /// (``EventBus/Configuration/tracer``).
    public let tracer: any Tracer
    /// swift-metrics' factory for `MetricsSystem.bootstrap`, when metrics are exported.
    public let metricsFactory: (any MetricsFactory)?
    /// swift-log's handler factory for `LoggingSystem.bootstrap`, when logs are exported.
    public let logHandlerFactory: (@Sendable (String) -> any LogHandler)?
    /// Runs the exporters; run it in the `ServiceGroup` before the application, so that it stops
    /// after it and flushes what is left. At graceful shutdown it takes the export timeout at
    /// most: with the collector down, what is left is dropped rather than hold the exit.
    public let service: any Service
    /// Failed exports and dropped spans, counted and reported.
    public let diagnostics: ExportDiagnostics

    /// Makes the exporters.
    ///
    /// - Parameters:
    ///   - serviceName: `service.name` of the resource (the events' `service`).
    ///   - endpoint: the collector's OTLP/HTTP base address (`http://host:4318`); each signal
    ///     goes to its `/v1/<signal>` path. `nil`: `OTEL_EXPORTER_OTLP_ENDPOINT` or
    ///     `http://localhost:4318`.
    ///   - signals: what to export (traces are always made: the tracer is the point).
    ///   - exportTimeout: the most one export may take, and the most the exporters take to stop.
    ///   - configure: any other swift-otel setting.
    public static func make(
        serviceName: String, endpoint: String? = nil, signals: Signals = [.traces], exportTimeout: Duration = .seconds(5),
        configure: (inout OTel.Configuration) -> Void = { _ in }
    ) throws -> OTLPExport {
        let diagnostics = ExportDiagnostics()
        var configuration = OTel.Configuration.default
        configuration.serviceName = serviceName
        configuration.diagnosticLogger = .custom(diagnostics.logger)
        configuration.diagnosticLogLevel = .warning
        configuration.traces.batchSpanProcessor.exportTimeout = exportTimeout
        configuration.metrics.exportTimeout = exportTimeout
        configuration.logs.batchLogRecordProcessor.exportTimeout = exportTimeout
        for signal in [\OTel.Configuration.traces.otlpExporter, \.metrics.otlpExporter, \.logs.otlpExporter] {
            configuration[keyPath: signal].timeout = exportTimeout
        }
        if let endpoint {
            let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
            configuration.traces.otlpExporter.endpoint = base + "/v1/traces"
            configuration.metrics.otlpExporter.endpoint = base + "/v1/metrics"
            configuration.logs.otlpExporter.endpoint = base + "/v1/logs"
        }
        configure(&configuration)
        configuration.traces.enabled = true
        configuration.metrics.enabled = signals.contains(.metrics)
        configuration.logs.enabled = signals.contains(.logs)

        var services: [any Service] = []
        let tracing = try OTel.makeTracingBackend(configuration: configuration)
        services.append(tracing.service)
        var metricsFactory: (any MetricsFactory)?
        if signals.contains(.metrics) {
            let metrics = try OTel.makeMetricsBackend(configuration: configuration)
            metricsFactory = metrics.factory
            services.append(metrics.service)
        }
        var logHandlerFactory: (@Sendable (String) -> any LogHandler)?
        if signals.contains(.logs) {
            let logging = try OTel.makeLoggingBackend(configuration: configuration)
            logHandlerFactory = logging.factory
            services.append(logging.service)
        }
        let service: any Service = services.count == 1 ? services[0] : ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            logger: Logger(label: "hardening.otlp", factory: { _ in SwiftLogNoOpLogHandler() })))
        return OTLPExport(tracer: tracing.factory, metricsFactory: metricsFactory, logHandlerFactory: logHandlerFactory,
                          service: BoundedShutdown(inner: service, grace: exportTimeout), diagnostics: diagnostics)
    }
}
#endif
