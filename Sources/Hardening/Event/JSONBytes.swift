/// JSON text, byte by byte: the writer under the event encoder and every JSON output (summaries,
/// reports). Every control character is escaped (also DEL, U+2028 and U+2029), so a value never
/// spans lines; non-finite doubles are written as `null`.
package enum JSONBytes {
    /// Deeper values are written as `null`; the decoder refuses deeper input anyway.
    package static let maxDepth = 64

    package static func appendObject(_ attributes: Attributes, limit: Int, depth: Int, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "{"))
        // Index the pairs in place: iterating would copy (retain and release) every pair.
        attributes.pairs.withUnsafeBufferPointer { pairs in
            for index in 0..<pairs.count {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                appendString(pairs[index].key, limit: limit, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                appendValue(pairs[index].value, limit: limit, depth: depth + 1, to: &bytes)
            }
        }
        bytes.append(UInt8(ascii: "}"))
    }

    package static func appendValue(_ value: AttributeValue, limit: Int, depth: Int, to bytes: inout [UInt8]) {
        switch value {
        case .null:
            bytes.append(contentsOf: "null".utf8)
        case .bool(let flag):
            bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let int):
            appendInteger(int.magnitude, negative: int < 0, to: &bytes)
        case .double(let double):
            appendDouble(double, to: &bytes)
        case .string(let string):
            appendString(string, limit: limit, to: &bytes)
        case .array(let array):
            guard depth < maxDepth else { return bytes.append(contentsOf: "null".utf8) }
            bytes.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                appendValue(element, limit: limit, depth: depth + 1, to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            guard depth < maxDepth else { return bytes.append(contentsOf: "null".utf8) }
            appendObject(object, limit: limit, depth: depth, to: &bytes)
        }
    }

    @inlinable @inline(__always)
    package static func appendInteger(_ magnitude: UInt64, negative: Bool, to bytes: inout [UInt8]) {
        if negative { bytes.append(UInt8(ascii: "-")) }
        if magnitude < 10 {
            bytes.append(UInt8(truncatingIfNeeded: 48 &+ magnitude))
            return
        }
        var digits: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                     UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var remaining = magnitude
        withUnsafeMutableBytes(of: &digits) { raw in
            let buffer = raw.bindMemory(to: UInt8.self)
            while remaining > 0 {
                buffer[count] = UInt8(truncatingIfNeeded: 48 &+ remaining % 10)
                remaining /= 10
                count += 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[index]) }
        }
    }

    package static func appendDouble(_ double: Double, to bytes: inout [UInt8]) {
        guard double.isFinite else { return bytes.append(contentsOf: "null".utf8) }
        if double == double.rounded(), abs(double) < 1e15 {
            // Whole numbers print as `12.0`, keeping their type on a round trip.
            appendInteger(UInt64(abs(double)), negative: double < 0 || (double == 0 && double.sign == .minus), to: &bytes)
            bytes.append(contentsOf: ".0".utf8)
            return
        }
        bytes.append(contentsOf: double.description.utf8)
    }

    @usableFromInline static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// For each byte: 0 copies as is, 1 takes a two-byte escape, 2 a `\u00XX` escape, 3 may
    /// start U+2028/U+2029.
    @usableFromInline static let escapeClass: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        for byte in 0..<0x20 { table[byte] = 2 }
        for byte in [0x08, 0x09, 0x0A, 0x0C, 0x0D, 0x22, 0x5C] { table[byte] = 1 }
        table[0x7F] = 2
        table[0xE2] = 3
        return table
    }()

    /// Appends a JSON string, escaping control characters, `"`, `\`, DEL, U+2028 and U+2029.
    /// At most `limit` bytes of the value are written, cut on a character boundary.
    @inlinable
    package static func appendString(_ string: String, limit: Int, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var copy = string
        copy.withUTF8 { utf8 in
            var end = utf8.count
            if end > limit {
                end = limit
                while end > 0, utf8[end] & 0xC0 == 0x80 { end -= 1 }
            }
            escapeClass.withUnsafeBufferPointer { table in
                var runStart = 0
                var index = 0
                while index < end {
                    let byte = utf8[index]
                    let kind = table[Int(byte)]
                    if kind == 0 {
                        index += 1
                        continue
                    }
                    var width = 1
                    var scalar = Int(byte)
                    if kind == 3 {
                        guard index + 2 < end, utf8[index + 1] == 0x80, utf8[index + 2] == 0xA8 || utf8[index + 2] == 0xA9 else {
                            index += 1
                            continue
                        }
                        width = 3
                        scalar = utf8[index + 2] == 0xA8 ? 0x2028 : 0x2029
                    }
                    if runStart < index {
                        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                    }
                    if kind == 1 {
                        bytes.append(UInt8(ascii: "\\"))
                        switch byte {
                        case 0x08: bytes.append(UInt8(ascii: "b"))
                        case 0x09: bytes.append(UInt8(ascii: "t"))
                        case 0x0A: bytes.append(UInt8(ascii: "n"))
                        case 0x0C: bytes.append(UInt8(ascii: "f"))
                        case 0x0D: bytes.append(UInt8(ascii: "r"))
                        default: bytes.append(byte)  // " and \
                        }
                    } else {
                        bytes.append(contentsOf: #"\u"#.utf8)
                        bytes.append(hexDigits[(scalar >> 12) & 0xF])
                        bytes.append(hexDigits[(scalar >> 8) & 0xF])
                        bytes.append(hexDigits[(scalar >> 4) & 0xF])
                        bytes.append(hexDigits[scalar & 0xF])
                    }
                    index += width
                    runStart = index
                }
                if runStart < end {
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<end]))
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension AttributeValue {
    /// The value as compact JSON text.
    public var jsonText: String {
        var bytes: [UInt8] = []
        JSONBytes.appendValue(self, limit: .max, depth: 0, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
