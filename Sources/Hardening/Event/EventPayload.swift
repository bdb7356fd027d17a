/// The typed attrs of one event kind.
///
/// Each known kind has a payload type whose stored properties map one to one onto snake_case
/// attrs. A payload converts to ``Attributes`` for encoding and back for typed reading; unknown
/// extra attrs are ignored by the typed view but kept in ``Event/attrs``.
public protocol EventPayload: Sendable, Hashable {
    /// The kind this payload belongs to.
    static var kind: EventKind { get }
    /// The level an event of this kind gets unless the producer says otherwise.
    var defaultLevel: EventLevel { get }
    /// A human sentence describing the event.
    var message: String { get }
    /// The payload as attrs.
    var attributes: Attributes { get }
    /// Reads the payload through `reader`: from decoded attrs (``AttributeReader``) or straight
    /// from a line's bytes (replay's scanner), the same fields with the same types either way.
    init(reading reader: inout some PayloadReader) throws(PayloadDecodingError)
    /// Folds the payload into `summary`, at its place in the stream: the one place where an
    /// event of this kind changes a summary, live or replayed (default: nothing beyond the
    /// counts by kind and level).
    func fold(into summary: inout Summary, at position: StreamPosition)
    /// Records the payload in `timeline` (default: one event in its time bucket).
    func record(into timeline: inout Timeline, at position: StreamPosition)
    /// Whether summaries only count this kind (by kind and level) and never read its attrs, so
    /// never decode them: `log.message` (a text line that `hardening emit` ingests is one without
    /// attrs), `file.rotated`, and the file's own `file.opened` and `file.closed` (default `false`).
    static var isCountedOnly: Bool { get }
}

extension EventPayload {
    public var defaultLevel: EventLevel { .info }

    /// Reads the payload back from attrs.
    public init(attributes: Attributes) throws(PayloadDecodingError) {
        var reader = AttributeReader(attributes, kind: Self.kind)
        try self.init(reading: &reader)
    }

    public func fold(into summary: inout Summary, at position: StreamPosition) {}

    public static var isCountedOnly: Bool { false }

    public func record(into timeline: inout Timeline, at position: StreamPosition) {
        timeline.recordEvent(at: position.timestamp)
    }
}

/// Reads the typed fields of a payload, by attr name. A field that is missing or of another type
/// throws a ``PayloadDecodingError`` naming it; a reader may also throw for a value it cannot
/// read itself (replay's byte scanner, for an escaped string), and the caller then decodes.
public protocol PayloadReader {
    /// A required string.
    mutating func string(_ field: StaticString) throws(PayloadDecodingError) -> String
    /// An optional string (absent or null gives `nil`).
    mutating func optionalString(_ field: StaticString) throws(PayloadDecodingError) -> String?
    /// A required integer.
    mutating func int(_ field: StaticString) throws(PayloadDecodingError) -> Int64
    /// An optional integer.
    mutating func optionalInt(_ field: StaticString) throws(PayloadDecodingError) -> Int64?
    /// A required number.
    mutating func double(_ field: StaticString) throws(PayloadDecodingError) -> Double
    /// An optional number.
    mutating func optionalDouble(_ field: StaticString) throws(PayloadDecodingError) -> Double?
    /// A required boolean.
    mutating func bool(_ field: StaticString) throws(PayloadDecodingError) -> Bool
    /// An optional boolean.
    mutating func optionalBool(_ field: StaticString) throws(PayloadDecodingError) -> Bool?
    /// An object, empty when absent or null.
    mutating func object(_ field: StaticString) throws(PayloadDecodingError) -> Attributes
    /// An object that no summary reads (an error's context, a probe's observed values, a log
    /// record's metadata), empty when absent or null. A reader that only folds (replay's byte
    /// scanner) checks that it is an object and may leave its content out.
    mutating func details(_ field: StaticString) throws(PayloadDecodingError) -> Attributes
}

extension PayloadReader {
    public mutating func details(_ field: StaticString) throws(PayloadDecodingError) -> Attributes { try object(field) }
}

/// Attrs did not match the payload type of their kind.
public struct PayloadDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind being read.
    public var kind: EventKind
    /// The attr that was missing or of the wrong type.
    public var field: String
    /// What was wrong.
    public var problem: String

    /// Creates the error.
    public init(kind: EventKind, field: String, problem: String) {
        self.kind = kind
        self.field = field
        self.problem = problem
    }

    public var description: String { "\(kind): attr '\(field)' \(problem)" }
}

/// Reads typed fields out of attrs, throwing a ``PayloadDecodingError`` that names the field.
public struct AttributeReader: PayloadReader, Sendable {
    let attributes: Attributes
    let kind: EventKind

    /// Creates a reader over the attrs of an event of `kind`.
    public init(_ attributes: Attributes, kind: EventKind) {
        self.attributes = attributes
        self.kind = kind
    }

    private func fail(_ field: String, _ expected: String) -> PayloadDecodingError {
        let problem = attributes[field] == nil ? "is missing" : "is not \(expected)"
        return PayloadDecodingError(kind: kind, field: field, problem: problem)
    }

    /// A required string.
    public func string(_ field: String) throws(PayloadDecodingError) -> String {
        guard let value = attributes[field]?.stringValue else { throw fail(field, "a string") }
        return value
    }

    /// An optional string (absent or null gives `nil`).
    public func optionalString(_ field: String) throws(PayloadDecodingError) -> String? {
        switch attributes[field] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw fail(field, "a string")
        }
    }

    /// A required integer.
    public func int(_ field: String) throws(PayloadDecodingError) -> Int64 {
        guard let value = attributes[field]?.intValue else { throw fail(field, "an integer") }
        return value
    }

    /// An optional integer.
    public func optionalInt(_ field: String) throws(PayloadDecodingError) -> Int64? {
        switch attributes[field] {
        case nil, .null?: return nil
        case let value?:
            guard let int = value.intValue else { throw fail(field, "an integer") }
            return int
        }
    }

    /// A required number.
    public func double(_ field: String) throws(PayloadDecodingError) -> Double {
        guard let value = attributes[field]?.doubleValue else { throw fail(field, "a number") }
        return value
    }

    /// An optional number.
    public func optionalDouble(_ field: String) throws(PayloadDecodingError) -> Double? {
        switch attributes[field] {
        case nil, .null?: return nil
        case let value?:
            guard let double = value.doubleValue else { throw fail(field, "a number") }
            return double
        }
    }

    /// A required boolean.
    public func bool(_ field: String) throws(PayloadDecodingError) -> Bool {
        guard let value = attributes[field]?.boolValue else { throw fail(field, "a boolean") }
        return value
    }

    /// An optional boolean.
    public func optionalBool(_ field: String) throws(PayloadDecodingError) -> Bool? {
        switch attributes[field] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw fail(field, "a boolean")
        }
    }

    /// An object, empty when absent.
    public func object(_ field: String) throws(PayloadDecodingError) -> Attributes {
        switch attributes[field] {
        case nil, .null?: return Attributes()
        case .object(let value)?: return value
        default: throw fail(field, "an object")
        }
    }

    // The `PayloadReader` requirements, by attr name.
    public mutating func string(_ field: StaticString) throws(PayloadDecodingError) -> String { try string(field.description) }
    public mutating func optionalString(_ field: StaticString) throws(PayloadDecodingError) -> String? {
        try optionalString(field.description)
    }
    public mutating func int(_ field: StaticString) throws(PayloadDecodingError) -> Int64 { try int(field.description) }
    public mutating func optionalInt(_ field: StaticString) throws(PayloadDecodingError) -> Int64? { try optionalInt(field.description) }
    public mutating func double(_ field: StaticString) throws(PayloadDecodingError) -> Double { try double(field.description) }
    public mutating func optionalDouble(_ field: StaticString) throws(PayloadDecodingError) -> Double? {
        try optionalDouble(field.description)
    }
    public mutating func bool(_ field: StaticString) throws(PayloadDecodingError) -> Bool { try bool(field.description) }
    public mutating func optionalBool(_ field: StaticString) throws(PayloadDecodingError) -> Bool? { try optionalBool(field.description) }
    public mutating func object(_ field: StaticString) throws(PayloadDecodingError) -> Attributes { try object(field.description) }
}

extension Attributes {
    /// Sets `key` only when `value` is not nil.
    @inlinable
    public mutating func setIfPresent(_ key: String, _ value: String?) {
        if let value { appendUnchecked(key, .string(value)) }
    }

    /// Sets `key` only when `value` is not nil.
    @inlinable
    public mutating func setIfPresent(_ key: String, _ value: Int64?) {
        if let value { appendUnchecked(key, .int(value)) }
    }

    /// Sets `key` only when `value` is not nil.
    @inlinable
    public mutating func setIfPresent(_ key: String, _ value: Double?) {
        if let value { appendUnchecked(key, .double(value)) }
    }
}

/// A number of milliseconds as messages write it: at most three decimals (microseconds), so
/// that a computed `0.0012020000000000002` reads `0.001`. The attrs keep the exact value.
package func millisecondsText(_ milliseconds: Double) -> String {
    guard milliseconds.isFinite, abs(milliseconds) < 1e15 else { return String(milliseconds) }
    return String((milliseconds * 1000).rounded() / 1000)
}
