import Hardening
import Instrumentation
import Logging

/// Sends every event (redacted, as the other sinks get it) as an OTLP log record through
/// swift-otel's logging backend (``OTLPExport/logHandlerFactory``), inside the trace context of
/// its `trace_id` and `span_id`, so that the collector joins the record to its span without
/// parsing anything.
///
/// The record's body is the event's message, its severity the event's level, and its attributes
/// the event's fields (`event`, `service`, `host`, `run`, `seq`) and `attrs` (nested values as
/// maps and lists). Its time is when the exporter took it (swift-otel stamps records itself),
/// within the bus's few milliseconds of the event's `timestamp`, which is an attribute too.
/// Like every sink it runs on its own thread: the exporter's batching and failures never reach an
/// emitter.
public final class OTLPLogSink: EventSink {
    public let name: String
    private let logger: Logger
    private let instrument: any Instrument

    /// A sink logging through `logHandlerFactory`, with the ids propagated through `instrument`
    /// (the export's tracer).
    public init(name: String = "otlp-logs", logHandlerFactory: @escaping @Sendable (String) -> any LogHandler, instrument: any Instrument) {
        self.name = name
        var logger = Logger(label: "hardening.events", factory: logHandlerFactory)
        logger.logLevel = .trace
        self.logger = logger
        self.instrument = instrument
    }

    public func write(_ events: [Event]) {
        for event in events {
            guard let traceID = event.traceID, let spanID = event.spanID else {
                log(event)
                continue
            }
            var context = ServiceContext.topLevel
            instrument.extract(["traceparent": "00-\(traceID)-\(spanID)-01"], into: &context, using: TraceparentExtractor())
            ServiceContext.withValue(context) { log(event) }
        }
    }

    public func flush() {}
    public func close() {}

    private func log(_ event: Event) {
        var metadata: Logger.Metadata = [
            "event": .string(event.kind.rawValue), "service": .string(event.service), "host": .string(event.host),
            "run": .string(event.run), "seq": .stringConvertible(event.seq), "timestamp": .string(event.timestamp.description),
        ]
        for (key, value) in event.attrs { metadata["attrs." + key] = Self.metadataValue(value) }
        logger.log(level: event.level.loggerLevel, "\(event.message)", metadata: metadata)
    }

    static func metadataValue(_ value: AttributeValue) -> Logger.MetadataValue {
        switch value {
        case .null: .string("null")
        case .bool(let flag): .stringConvertible(flag)
        case .int(let number): .stringConvertible(number)
        case .double(let number): .stringConvertible(number)
        case .string(let text): .string(text)
        case .array(let items): .array(items.map(metadataValue))
        case .object(let attributes): .dictionary(Dictionary(attributes.map { ($0.key, metadataValue($0.value)) }, uniquingKeysWith: { $1 }))
        }
    }
}

/// Reads a header from a dictionary.
struct TraceparentExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}
