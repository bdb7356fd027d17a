import Logging

/// The severity of an event, with swift-log's names (`trace` … `critical`) and order.
public enum EventLevel: String, Sendable, Hashable, CaseIterable, Comparable, Codable {
    case trace, debug, info, notice, warning, error, critical

    /// Parses a level name as written in the `level` field; also accepts `warn` and `fatal`,
    /// which other loggers write.
    public init?(name: some StringProtocol) {
        switch name {
        case "trace": self = .trace
        case "debug": self = .debug
        case "info": self = .info
        case "notice": self = .notice
        case "warning", "warn": self = .warning
        case "error": self = .error
        case "critical", "fatal": self = .critical
        default: return nil
        }
    }

    /// The name written in the `level` field.
    public var name: String { rawValue }

    /// The level's rank, from 0 (`trace`) to 6 (`critical`).
    public var ordinal: Int {
        switch self {
        case .trace: 0
        case .debug: 1
        case .info: 2
        case .notice: 3
        case .warning: 4
        case .error: 5
        case .critical: 6
        }
    }

    public static func < (lhs: EventLevel, rhs: EventLevel) -> Bool { lhs.ordinal < rhs.ordinal }

    /// The same level in swift-log.
    public var loggerLevel: Logger.Level { Logger.Level(rawValue: rawValue) ?? .info }

    /// The same level as a swift-log level.
    public init(_ level: Logger.Level) { self = EventLevel(rawValue: level.rawValue) ?? .info }
}
