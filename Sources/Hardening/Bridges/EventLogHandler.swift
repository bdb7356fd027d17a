import Logging

/// A swift-log `LogHandler` that turns log records into `log.message` events on an ``EventBus``:
/// level, message, metadata (the handler's, the metadata provider's and the call's, the call's
/// winning), source and logger label. So an app's existing `Logger` calls, and every library
/// that logs through swift-log, land in the same files, stdout and replay as the hardening
/// events, redacted the same way.
///
/// Library code never bootstraps the logging system; the application does, once:
///
/// ```swift
/// LoggingSystem.bootstrap(EventLogHandler.factory(bus: bus))
/// ```
public struct EventLogHandler: LogHandler {
    /// The logger's label (the event's `logger` attr).
    public let label: String
    /// Where the records go.
    public let bus: EventBus
    /// Records below this level are not emitted.
    public var logLevel: Logger.Level
    /// Metadata on every record of this handler.
    public var metadata: Logger.Metadata = [:]
    /// Metadata from the task context (request ids, trace ids), added to every record.
    public var metadataProvider: Logger.MetadataProvider?

    /// Creates a handler.
    public init(label: String, bus: EventBus, logLevel: Logger.Level = .info, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.bus = bus
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
    }

    /// A factory for `LoggingSystem.bootstrap`.
    public static func factory(bus: EventBus, logLevel: Logger.Level = .info,
                               metadataProvider: Logger.MetadataProvider? = nil) -> @Sendable (String) -> any LogHandler {
        { label in EventLogHandler(label: label, bus: bus, logLevel: logLevel, metadataProvider: metadataProvider) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        if let error = event.error {
            merged["error_type"] = .string(String(describing: type(of: error)))
            merged["error"] = .string(String(describing: error))
        }
        let attributes = Attributes(uniqueKeysWithValues: merged.sorted { $0.key < $1.key }.map { ($0.key, Self.value($0.value)) })
        bus.emit(LogMessage(logger: label, source: event.source, text: event.message.description, metadata: attributes),
                 level: EventLevel(event.level))
    }

    /// A metadata value as an attr: strings stay strings, dictionaries objects, arrays arrays,
    /// anything else its description.
    static func value(_ metadata: Logger.Metadata.Value) -> AttributeValue {
        switch metadata {
        case .string(let string): .string(string)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let array): .array(array.map { value($0) })
        case .dictionary(let dictionary):
            .object(Attributes(uniqueKeysWithValues: dictionary.sorted { $0.key < $1.key }.map { ($0.key, value($0.value)) }))
        }
    }
}
