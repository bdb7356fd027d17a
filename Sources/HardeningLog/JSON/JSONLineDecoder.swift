import Hardening

/// Why a line is not an event.
public struct LineDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The byte offset in the line (from 0) where the problem was found.
    public var column: Int
    /// What was wrong.
    public var reason: String

    /// Creates the error.
    public init(column: Int, reason: String) {
        self.column = column
        self.reason = reason
    }

    public var description: String { "\(reason) at byte \(column)" }
}

/// Decodes one JSON line into an ``Event``.
///
/// A strict RFC 8259 parser with a nesting limit: it never traps on any input, repairs invalid
/// UTF-8 in strings (U+FFFD), keeps unknown kinds, unknown attrs and unknown envelope fields, and
/// says where a line went wrong.
public struct JSONLineDecoder: Sendable {
    /// The deepest nesting accepted.
    public var maxDepth: Int

    /// Creates a decoder.
    public init(maxDepth: Int = 64) {
        self.maxDepth = maxDepth
    }

    /// Decodes a line (with or without its trailing newline).
    public func decode(_ line: some Collection<UInt8>) throws(LineDecodingError) -> Event {
        let result: Result<Event, LineDecodingError>? = line.withContiguousStorageIfAvailable { buffer in
            decodeResult(buffer)
        }
        switch result ?? decodeResult(Array(line)) {
        case .success(let event): return event
        case .failure(let error): throw error
        }
    }

    /// Decodes a line from a string.
    static func isLowercaseHex(_ text: String, count: Int) -> Bool {
        text.utf8.count == count && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    public func decode(_ line: String) throws(LineDecodingError) -> Event {
        try decode(Array(line.utf8))
    }

    private func decodeResult(_ bytes: [UInt8]) -> Result<Event, LineDecodingError> {
        bytes.withUnsafeBufferPointer { decodeResult($0) }
    }

    private func decodeResult(_ buffer: UnsafeBufferPointer<UInt8>) -> Result<Event, LineDecodingError> {
        var parser = JSONParser(bytes: buffer, maxDepth: maxDepth)
        do throws(LineDecodingError) {
            parser.skipWhitespace()
            guard parser.peek() == UInt8(ascii: "{") else { throw parser.error("a line must be a JSON object") }
            let object = try parser.parseObject(depth: 1)
            parser.skipWhitespace()
            guard parser.isAtEnd else { throw parser.error("unexpected bytes after the object") }
            return .success(try JSONLineDecoder.event(from: object))
        } catch {
            return .failure(error)
        }
    }

    /// Builds an event from a parsed top-level object.
    static func event(from object: Attributes) throws(LineDecodingError) -> Event {
        var timestamp: Timestamp?
        var level: EventLevel?
        var kind: EventKind?
        var message = ""
        var service = ""
        var host = ""
        var run: String?
        var seq: UInt64?
        var traceID: String?
        var spanID: String?
        var truncated = false
        var attrs = Attributes()
        var extra = Attributes()
        func wrongType(_ key: String, _ expected: String) -> LineDecodingError {
            LineDecodingError(column: 0, reason: "field '\(key)' must be \(expected)")
        }
        for (key, value) in object {
            switch key {
            case "timestamp":
                guard let text = value.stringValue else { throw wrongType(key, "an RFC 3339 string") }
                guard let parsed = Timestamp(rfc3339: text) else { throw wrongType(key, "an RFC 3339 time") }
                timestamp = parsed
            case "level":
                guard let text = value.stringValue, let parsed = EventLevel(name: text) else {
                    throw wrongType(key, "a level name (trace … critical)")
                }
                level = parsed
            case "event":
                guard let text = value.stringValue, !text.isEmpty else { throw wrongType(key, "a non-empty string") }
                kind = EventKind(text)
            case "message":
                guard let text = value.stringValue else { throw wrongType(key, "a string") }
                message = text
            case "service":
                guard let text = value.stringValue else { throw wrongType(key, "a string") }
                service = text
            case "host":
                guard let text = value.stringValue else { throw wrongType(key, "a string") }
                host = text
            case "run":
                guard let text = value.stringValue else { throw wrongType(key, "a string") }
                run = text
            case "seq":
                guard case .int(let number) = value, number >= 0 else { throw wrongType(key, "a non-negative integer") }
                seq = UInt64(number)
            case "trace_id":
                // Only a W3C id is the event's trace id; anything else is kept as it came.
                guard let text = value.stringValue else { throw wrongType(key, "a string") }
                if Self.isLowercaseHex(text, count: 32) { traceID = text } else { extra[key] = value }
            case "span_id":
                guard let text = value.stringValue else { throw wrongType(key, "a string") }
                if Self.isLowercaseHex(text, count: 16) { spanID = text } else { extra[key] = value }
            case "truncated":
                guard let flag = value.boolValue else { throw wrongType(key, "a boolean") }
                truncated = flag
            case "attrs":
                switch value {
                case .object(let object): attrs = object
                case .null: break
                default: throw wrongType(key, "an object")
                }
            default:
                extra[key] = value
            }
        }
        guard let timestamp else { throw LineDecodingError(column: 0, reason: "missing field 'timestamp'") }
        guard let level else { throw LineDecodingError(column: 0, reason: "missing field 'level'") }
        guard let kind else { throw LineDecodingError(column: 0, reason: "missing field 'event'") }
        guard let run else { throw LineDecodingError(column: 0, reason: "missing field 'run'") }
        guard let seq else { throw LineDecodingError(column: 0, reason: "missing field 'seq'") }
        return Event(timestamp: timestamp, level: level, kind: kind, message: message, service: service, host: host,
                     run: run, seq: seq, traceID: traceID, spanID: spanID, truncated: truncated, attrs: attrs,
                     extra: extra)
    }
}

/// One JSON document (an HTTP response body, a webhook answer) read into an ``AttributeValue``
/// by the same RFC 8259 parser as event lines.
package enum JSONDocument {
    /// Parses `bytes` as one JSON value (with surrounding whitespace); nesting deeper than
    /// `maxDepth` is an error.
    package static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = 64) throws(LineDecodingError) -> AttributeValue {
        let array = Array(bytes)
        let result: Result<AttributeValue, LineDecodingError> = array.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer, maxDepth: maxDepth)
            do throws(LineDecodingError) {
                let value = try parser.parseValue(depth: 0)
                parser.skipWhitespace()
                guard parser.isAtEnd else { throw parser.error("unexpected bytes after the value") }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// A small RFC 8259 parser into ``AttributeValue``.
struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    var isAtEnd: Bool { index >= bytes.count }

    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    func error(_ reason: String) -> LineDecodingError { LineDecodingError(column: index, reason: reason) }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(LineDecodingError) {
        skipWhitespace()
        guard index < bytes.count else { throw error("line ends where \(what) was expected") }
        guard bytes[index] == byte else { throw error("expected \(what)") }
        index += 1
    }

    mutating func parseValue(depth: Int) throws(LineDecodingError) -> AttributeValue {
        skipWhitespace()
        guard let byte = peek() else { throw error("line ends where a value was expected") }
        switch byte {
        case UInt8(ascii: "{"): return .object(try parseObject(depth: depth + 1))
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected byte 0x\(String(byte, radix: 16))")
        }
    }

    mutating func literal(_ word: StaticString) throws(LineDecodingError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("truncated literal") }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            throw error("invalid literal")
        }
        index += count
    }

    mutating func parseObject(depth: Int) throws(LineDecodingError) -> Attributes {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        try expect(UInt8(ascii: "{"), "'{'")
        var result = Attributes()
        var seen: Set<String>? = nil
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return result
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a key string") }
            let key = try parseString()
            try expect(UInt8(ascii: ":"), "':'")
            let value = try parseValue(depth: depth)
            // Later duplicates win, as in most parsers. Large objects switch from a scan to a set
            // so that a hostile line with a million keys stays linear.
            if result.count < 32 {
                result[key] = value
            } else {
                if seen == nil { seen = Set(result.keys) }
                if seen!.insert(key).inserted { result.appendUnchecked(key, value) } else { result[key] = value }
            }
            skipWhitespace()
            guard let next = peek() else { throw error("line ends inside an object") }
            index += 1
            if next == UInt8(ascii: "}") { return result }
            guard next == UInt8(ascii: ",") else {
                index -= 1
                throw error("expected ',' or '}'")
            }
        }
    }

    mutating func parseArray(depth: Int) throws(LineDecodingError) -> AttributeValue {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        try expect(UInt8(ascii: "["), "'['")
        var result: [AttributeValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            return .array(result)
        }
        while true {
            result.append(try parseValue(depth: depth))
            skipWhitespace()
            guard let next = peek() else { throw error("line ends inside an array") }
            index += 1
            if next == UInt8(ascii: "]") { return .array(result) }
            guard next == UInt8(ascii: ",") else {
                index -= 1
                throw error("expected ',' or ']'")
            }
        }
    }

    mutating func parseNumber() throws(LineDecodingError) -> AttributeValue {
        let start = index
        var isInteger = true
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), first >= 48, first <= 57 else { throw error("invalid number") }
        if first == 48 {
            index += 1
        } else {
            while let byte = peek(), byte >= 48, byte <= 57 { index += 1 }
        }
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard let byte = peek(), byte >= 48, byte <= 57 else { throw error("invalid number: digit expected after '.'") }
            while let byte = peek(), byte >= 48, byte <= 57 { index += 1 }
        }
        if let byte = peek(), byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { index += 1 }
            guard let digit = peek(), digit >= 48, digit <= 57 else { throw error("invalid number: exponent digits expected") }
            while let byte = peek(), byte >= 48, byte <= 57 { index += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let integer = Int64(text) { return .int(integer) }
        guard let double = Double(text) else { throw LineDecodingError(column: start, reason: "invalid number") }
        // A number a double cannot hold would come back as null: refuse the line instead.
        guard double.isFinite else { throw LineDecodingError(column: start, reason: "number out of range") }
        return .double(double)
    }

    mutating func parseString() throws(LineDecodingError) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let string = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return string
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            index += 1
        }
        var scratch = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("line ends inside an escape") }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""): scratch.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): scratch.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): scratch.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                            let save = index
                            index += 2
                            let low = try hex4()
                            if (0xDC00...0xDFFF).contains(low) {
                                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                index = save
                                scalar = 0xFFFD
                            }
                        } else {
                            scalar = 0xFFFD
                        }
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        scalar = 0xFFFD
                    }
                    let unicode = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                    scratch.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    index -= 1
                    throw error("invalid escape")
                }
            case 0x00..<0x20:
                throw error("unescaped control character in a string")
            default:
                scratch.append(byte)
                index += 1
            }
        }
        throw error("line ends inside a string")
    }

    mutating func hex4() throws(LineDecodingError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - 48)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - 87)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - 55)
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
