#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Hardening

/// A position in a line, with the strict JSON pieces the scanner accepts.
struct Cursor {
    let base: UnsafePointer<UInt8>
    let count: Int
    var position = 0

    init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.count = count
    }

    var atEnd: Bool { position == count }
    var peek: UInt8? { position < count ? base[position] : nil }

    func equal(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        a.count == b.count && bytesEqual(base + a.lowerBound, base + b.lowerBound, a.count)
    }

    /// Consumes `literal` if the input continues with it.
    @inline(__always)
    mutating func expect(_ literal: StaticString) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard count - position >= length, bytesEqual(base + position, literal.utf8Start, length) else { return false }
        position += length
        return true
    }

    /// After an opening quote: the string's body up to the closing quote (consumed). `nil` for
    /// an escape, a control byte or no closing quote: the decoder's business.
    mutating func stringBody() -> Range<Int>? {
        let start = position
        // Sixteen bytes at a time, then eight, while none of them is a quote, a backslash or a
        // control byte.
        let quote = SIMD16<UInt8>(repeating: UInt8(ascii: "\""))
        let backslash = SIMD16<UInt8>(repeating: UInt8(ascii: "\\"))
        let space = SIMD16<UInt8>(repeating: 0x20)
        while position + 16 <= count {
            let bytes = UnsafeRawPointer(base + position).loadUnaligned(as: SIMD16<UInt8>.self)
            if any((bytes .== quote) .| (bytes .== backslash) .| (bytes .< space)) { break }
            position += 16
        }
        while position + 8 <= count {
            let word = UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self)
            if Self.hasSpecialByte(word) { break }
            position += 8
        }
        while position < count {
            let byte = base[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return start..<(position - 1)
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            position += 1
        }
        return nil
    }

    /// Whether any byte of `word` is `"`, `\\` or below 0x20 (bit tricks on 64-bit words; a
    /// false positive only sends the scan to the byte-wise loop).
    @inline(__always)
    private static func hasSpecialByte(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ value: UInt64) -> Bool { (value &- ones) & ~value & highs != 0 }
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let control = (word &- (ones &* 0x20)) & ~word & highs
        return hasZero(quote) || hasZero(backslash) || control != 0
    }

    /// A non-negative integer without a leading zero, that fits in `Int64`.
    mutating func unsignedInteger() -> UInt64? {
        let start = position
        while let byte = peek, byte >= 0x30, byte <= 0x39 { position += 1 }
        guard position > start, position - start <= 18, base[start] != 0x30 || position - start == 1 else { return nil }
        var value: UInt64 = 0
        for index in start..<position { value = value * 10 + UInt64(base[index] - 0x30) }
        return value
    }

    /// Skips one value (JSON grammar, strictly, no whitespace); returns its type.
    mutating func skipValue(depth: Int) -> ScannedValueType? {
        guard let byte = peek, depth < 32 else { return nil }
        switch byte {
        case UInt8(ascii: "\""):
            position += 1
            return stringBody() == nil ? nil : .string
        case UInt8(ascii: "t"): return expect("true") ? .bool : nil
        case UInt8(ascii: "f"): return expect("false") ? .bool : nil
        case UInt8(ascii: "n"): return expect("null") ? .null : nil
        case UInt8(ascii: "{"):
            position += 1
            if expect("}") { return .object }
            while true {
                guard expect("\""), stringBody() != nil, expect(":"), skipValue(depth: depth + 1) != nil else { return nil }
                if expect(",") { continue }
                return expect("}") ? .object : nil
            }
        case UInt8(ascii: "["):
            position += 1
            if expect("]") { return .array }
            while true {
                guard skipValue(depth: depth + 1) != nil else { return nil }
                if expect(",") { continue }
                return expect("]") ? .array : nil
            }
        default:
            return skipNumber()
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    private mutating func skipNumber() -> ScannedValueType? {
        var integer = true
        if peek == UInt8(ascii: "-") { position += 1 }
        guard let first = peek, first >= 0x30, first <= 0x39 else { return nil }
        position += 1
        if first != 0x30 { while let byte = peek, byte >= 0x30, byte <= 0x39 { position += 1 } }
        if peek == UInt8(ascii: ".") {
            integer = false
            position += 1
            guard let byte = peek, byte >= 0x30, byte <= 0x39 else { return nil }
            while let byte = peek, byte >= 0x30, byte <= 0x39 { position += 1 }
        }
        if let byte = peek, byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            integer = false
            position += 1
            if let sign = peek, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { position += 1 }
            guard let digit = peek, digit >= 0x30, digit <= 0x39 else { return nil }
            while let byte = peek, byte >= 0x30, byte <= 0x39 { position += 1 }
        }
        return integer ? .integer : .number
    }

    /// An integer literal that fits in `Int64` (as the decoder's `Int64(text)`), else `nil`.
    static func parseInteger(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        var index = 0
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { index = 1 }
        guard bytes.count - index <= 18, bytes.count > index else { return nil }
        var value: Int64 = 0
        while index < bytes.count {
            value = value * 10 + Int64(bytes[index] - 0x30)
            index += 1
        }
        return negative ? -value : value
    }

    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// `123.456` without an exponent, when the digits fit in 2^53 and there are at most 22
    /// decimals: then digits / 10^decimals is exactly what a correct parser returns (one
    /// correctly rounded division of two exact doubles). Otherwise `nil`.
    static func exactDecimal(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        var index = 0
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { index = 1 }
        var digits: UInt64 = 0
        var decimals = -1
        var significant = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                decimals = 0
            } else if byte >= 0x30, byte <= 0x39 {
                if digits > 0 || byte != 0x30 { significant += 1 }
                guard significant <= 15 else { return nil }
                digits = digits * 10 + UInt64(byte - 0x30)
                if decimals >= 0 { decimals += 1 }
            } else {
                return nil
            }
            index += 1
        }
        guard decimals >= 0, decimals <= 22 else { return nil }
        let value = Double(digits) / powersOfTen[decimals]
        return negative ? -value : value
    }
}

/// What kind of JSON value the scanner skipped.
enum ScannedValueType {
    case string, number, integer, bool, null, object, array
}

/// Whether `count` bytes at `a` and `b` are equal: eight at a time, inline. The scanner compares
/// short keys and literals millions of times, where a call into libc's `memcmp` costs more than
/// the comparison.
@inline(__always)
func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    var offset = 0
    while offset + 8 <= count {
        if UnsafeRawPointer(a + offset).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(b + offset).loadUnaligned(as: UInt64.self) {
            return false
        }
        offset += 8
    }
    while offset < count {
        if a[offset] != b[offset] { return false }
        offset += 1
    }
    return true
}
