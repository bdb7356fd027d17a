import Hardening
import Logging
import Synchronization

/// What the OTLP exporter could not do, counted and told: swift-otel reports a failed export
/// (receiver down, too slow, an HTTP error), a batch given up at shutdown and spans dropped from
/// a full queue on its diagnostic logger; this is that logger's backend.
///
/// Each such report is counted by signal (`traces`, `metrics`, `logs`) and emitted as a
/// `log.message` warning (`logger: swift-otel`; its metadata has `signal`, `otel_failure`, the
/// error and the batch size)
/// on the bus once one is attached, so the files, `/metrics` and replay show it. Nothing here
/// blocks: the exporter runs on its own tasks and the application never waits for it.
public final class ExportDiagnostics: Sendable {
    /// Counts by signal.
    public struct Counts: Sendable, Hashable {
        /// Exports that failed (an error, a timeout, an HTTP error status), by signal.
        public var failedExports: [String: Int64] = [:]
        /// Spans or log records dropped because the exporter's queue was full, by signal.
        public var dropped: [String: Int64] = [:]

        /// Failed exports of every signal.
        public var totalFailedExports: Int64 { failedExports.values.reduce(0, +) }
    }

    private struct State {
        var counts = Counts()
        var bus: EventBus?
        /// Reports made before a bus was attached (at most ``pendingLimit``).
        var pending: [LogMessage] = []
    }

    private static let pendingLimit = 100
    private let state = Mutex(State())

    /// Diagnostics with nothing counted yet.
    public init() {}

    /// What has been counted so far.
    public var counts: Counts { state.withLock { $0.counts } }

    /// Where the reports go from now on (those made before are emitted now).
    public func attach(_ bus: EventBus) {
        let pending = state.withLock { state in
            state.bus = bus
            defer { state.pending = [] }
            return state.pending
        }
        for message in pending { bus.emit(message, level: .warning) }
    }

    /// A swift-log `Logger` whose messages are these diagnostics: give it to swift-otel as its
    /// diagnostic logger (`configuration.diagnosticLogger = .custom(diagnostics.logger)`).
    public var logger: Logger {
        var logger = Logger(label: "swift-otel", factory: { label in DiagnosticsLogHandler(label: label, diagnostics: self) })
        logger.logLevel = .warning
        return logger
    }

    /// Takes one message of swift-otel's diagnostic logger.
    func record(level: Logger.Level, message: String, metadata: Logger.Metadata) {
        guard level >= .warning else { return }
        let signal = Self.signal(of: metadata)
        let failure = message.hasPrefix("Failed to export") ? "export_failed"
            : message.hasPrefix("Force flush failed") ? "flush_failed"
            : message.contains("dropped") ? "queue_full" : "other"
        let dropped = metadata["dropped_count"].flatMap { Int64("\($0)") } ?? 0
        var attrs = Attributes(uniqueKeysWithValues: [("signal", .string(signal)), ("otel_failure", .string(failure))])
        if let error = metadata["error"] ?? metadata["error.message"] { attrs.appendUnchecked("error", .string("\(error)")) }
        if let size = metadata["batch_size"].flatMap({ Int64("\($0)") }) { attrs.appendUnchecked("batch_size", .int(size)) }
        if dropped > 0 { attrs.appendUnchecked("dropped", .int(dropped)) }
        let text = "OTLP \(signal): \(message)" + (attrs["error"]?.stringValue.map { " \($0)" } ?? "")
        let payload = LogMessage(logger: "swift-otel", source: "OTel", text: text, metadata: attrs)
        let bus: EventBus? = state.withLock { state in
            switch failure {
            case "export_failed", "flush_failed": state.counts.failedExports[signal, default: 0] += 1
            case "queue_full": state.counts.dropped[signal, default: 0] += max(1, dropped)
            default: break
            }
            if state.bus == nil, state.pending.count < Self.pendingLimit { state.pending.append(payload) }
            return state.bus
        }
        bus?.emit(payload, level: .warning)
    }

    /// The signal a swift-otel diagnostic belongs to, from the `component` its backend names.
    static func signal(of metadata: Logger.Metadata) -> String {
        let component = metadata["component"].map { "\($0)" } ?? ""
        if component.contains("Metric") { return "metrics" }
        if component.contains("Logging") || component.contains("Log") { return "logs" }
        return "traces"
    }
}

/// The log handler behind ``ExportDiagnostics/logger``.
struct DiagnosticsLogHandler: LogHandler {
    let label: String
    let diagnostics: ExportDiagnostics
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        if let error = event.error { merged["error"] = "\(error)" }
        diagnostics.record(level: event.level, message: "\(event.message)", metadata: merged)
    }
}
