/// A point in UTC time with microsecond resolution: what the `timestamp` field holds.
///
/// Formatting and parsing are done by hand (days-from-civil arithmetic), with no Foundation
/// formatter on the hot path.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microsecondsSinceEpoch: Int64

    /// Creates a timestamp from microseconds since the Unix epoch.
    public init(microsecondsSinceEpoch: Int64) { self.microsecondsSinceEpoch = microsecondsSinceEpoch }

    /// Creates a timestamp from whole seconds since the Unix epoch.
    public init(secondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = secondsSinceEpoch.multipliedReportingOverflow(by: 1_000_000).overflow
            ? (secondsSinceEpoch < 0 ? .min : .max) : secondsSinceEpoch * 1_000_000
    }

    /// Seconds since the Unix epoch, rounded down.
    public var secondsSinceEpoch: Int64 {
        let (q, r) = microsecondsSinceEpoch.quotientAndRemainder(dividingBy: 1_000_000)
        return r < 0 ? q - 1 : q
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    /// This timestamp moved by a duration (saturating).
    public func advanced(by duration: Duration) -> Timestamp {
        let (seconds, attoseconds) = duration.components
        let micros = seconds.multipliedReportingOverflow(by: 1_000_000)
        let delta = micros.overflow ? (seconds < 0 ? Int64.min : .max) : micros.partialValue &+ attoseconds / 1_000_000_000_000
        let sum = microsecondsSinceEpoch.addingReportingOverflow(delta)
        return Timestamp(microsecondsSinceEpoch: sum.overflow ? (delta < 0 ? .min : .max) : sum.partialValue)
    }

    /// The duration from `other` to this timestamp.
    public func duration(since other: Timestamp) -> Duration {
        .microseconds(microsecondsSinceEpoch &- other.microsecondsSinceEpoch)
    }

    /// RFC 3339 in UTC with microseconds: `2026-11-29T00:07:26.123456Z`.
    public var description: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        appendRFC3339(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The compact UTC form used in rotated file names: `20261129T000726Z`.
    public var compactDescription: String {
        let civil = Timestamp.civil(fromSeconds: secondsSinceEpoch)
        var bytes: [UInt8] = []
        Timestamp.appendDigits(civil.year, width: 4, to: &bytes)
        Timestamp.appendDigits(civil.month, width: 2, to: &bytes)
        Timestamp.appendDigits(civil.day, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        Timestamp.appendDigits(civil.hour, width: 2, to: &bytes)
        Timestamp.appendDigits(civil.minute, width: 2, to: &bytes)
        Timestamp.appendDigits(civil.second, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the RFC 3339 form (27 bytes) to a byte buffer.
    public func appendRFC3339(to bytes: inout [UInt8]) {
        let seconds = secondsSinceEpoch
        let micros = Int(microsecondsSinceEpoch - seconds * 1_000_000)
        let civil = Timestamp.civil(fromSeconds: seconds)
        Timestamp.appendDigits(civil.year, width: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        Timestamp.appendDigits(civil.month, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        Timestamp.appendDigits(civil.day, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        Timestamp.appendDigits(civil.hour, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        Timestamp.appendDigits(civil.minute, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        Timestamp.appendDigits(civil.second, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        Timestamp.appendDigits(micros, width: 6, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// Parses RFC 3339 (`T` or space separator, optional fraction of any length, `Z` or an
    /// offset). Returns `nil` for anything else.
    public init?(rfc3339 text: some StringProtocol) {
        var copy = String(text)
        guard let parsed = copy.withUTF8({ Timestamp.parse($0) }) else { return nil }
        self = parsed
    }

    /// Parses RFC 3339 from UTF-8 bytes.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Timestamp? {
        if bytes.count == 27, let exact = parseCanonical(bytes) { return exact }
        var index = 0
        func number(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<width {
                let byte = bytes[index + offset]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += width
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count else { return false }
            for character in characters.utf8 where bytes[index] == character {
                index += 1
                return true
            }
            return false
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
            let second = number(2)
        else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var micros = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if digits < 6 { micros = micros * 10 + Int(bytes[index] - 48) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 6) { micros *= 10 }
        }
        var offsetSeconds = 0
        if expect("Zz") {
            // UTC
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = number(2), expect(":"), let offsetMinutes = number(2) else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        let days = Timestamp.days(fromCivilYear: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetSeconds)
        return Timestamp(microsecondsSinceEpoch: seconds * 1_000_000 + Int64(micros))
    }

    /// The form this package writes, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, by fixed positions; `nil`
    /// sends anything else (or anything out of range) to the general parser.
    private static func parseCanonical(_ bytes: UnsafeBufferPointer<UInt8>) -> Timestamp? {
        guard bytes[4] == 0x2D, bytes[7] == 0x2D, bytes[10] == 0x54, bytes[13] == 0x3A, bytes[16] == 0x3A, bytes[19] == 0x2E,
            bytes[26] == 0x5A
        else { return nil }
        var valid = true
        @inline(__always) func digits(_ start: Int, _ count: Int) -> Int {
            var value = 0
            for index in start..<(start + count) {
                let digit = Int(bytes[index]) &- 48
                if digit < 0 || digit > 9 { valid = false }
                value = value &* 10 &+ digit
            }
            return value
        }
        let year = digits(0, 4)
        let month = digits(5, 2)
        let day = digits(8, 2)
        let hour = digits(11, 2)
        let minute = digits(14, 2)
        let second = digits(17, 2)
        let micros = digits(20, 6)
        guard valid, (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        let days = Timestamp.days(fromCivilYear: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59))
        return Timestamp(microsecondsSinceEpoch: seconds * 1_000_000 + Int64(micros))
    }

    // MARK: - Civil calendar arithmetic (Howard Hinnant's algorithms)

    static func days(fromCivilYear year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromSeconds seconds: Int64) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let z = Int(days) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let s = Int(secondOfDay)
        return (year, month, day, s / 3600, (s % 3600) / 60, s % 60)
    }

    @inline(__always)
    static func appendDigits(_ value: Int, width: Int, to bytes: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var remaining = max(0, value)
        if width == 4 { remaining = min(remaining, 9999) }
        while divisor > 0 {
            bytes.append(UInt8(48 + (remaining / divisor) % 10))
            divisor /= 10
        }
    }
}
