/// The durations a window event folds (`timing.window`, `health.window`): their exact count,
/// total, minimum and maximum in whole microseconds, and the non-empty buckets of their HDR
/// histogram, so that folding the window gives the same ``LatencyStats`` as folding every
/// duration one by one (the same percentiles, to the bucket).
///
/// In the attrs: `count`, `sum_ms`, `min_ms`, `max_ms`, `mean_ms` (for people and log tools;
/// readers recompute it) and `buckets_us`, the buckets as text: `value[:count]` separated by
/// spaces, lowest first, a count of 1 left out (`"2048:3 2051 2057:2"`). A window whose buckets
/// do not fit one line is written in parts: the first carries the totals, the later ones
/// (`count` 0) only more buckets.
public struct LatencyWindow: Sendable, Hashable {
    /// One bucket of the histogram.
    public struct Bucket: Sendable, Hashable {
        /// A duration inside the bucket, in microseconds.
        public var microseconds: UInt64
        /// How many durations fell in it (at least 1).
        public var count: UInt64

        /// Creates a bucket.
        public init(microseconds: UInt64, count: UInt64) {
            self.microseconds = microseconds
            self.count = count
        }
    }

    /// Durations in the window (0 in a later part, which only adds buckets).
    public var count: Int64
    /// Their sum, in microseconds.
    public var totalMicroseconds: Int64
    /// The shortest, in microseconds.
    public var minMicroseconds: Int64
    /// The longest, in microseconds.
    public var maxMicroseconds: Int64
    /// Durations that were negative or not finite (counted as 0).
    public var invalidDurations: Int64
    /// Whether the total stopped at `Int64.max`.
    public var isTotalSaturated: Bool
    /// The histogram's non-empty buckets, lowest first.
    public var buckets: [Bucket]

    /// Creates a window's durations.
    public init(count: Int64, totalMicroseconds: Int64, minMicroseconds: Int64, maxMicroseconds: Int64,
                invalidDurations: Int64 = 0, isTotalSaturated: Bool = false, buckets: [Bucket]) {
        self.count = count
        self.totalMicroseconds = totalMicroseconds
        self.minMicroseconds = minMicroseconds
        self.maxMicroseconds = maxMicroseconds
        self.invalidDurations = invalidDurations
        self.isTotalSaturated = isTotalSaturated
        self.buckets = buckets
    }

    /// The durations of `stats`.
    package init(_ stats: LatencyStats) {
        self.init(count: stats.count, totalMicroseconds: stats.totalMicroseconds, minMicroseconds: stats.minMicroseconds,
                  maxMicroseconds: stats.maxMicroseconds, invalidDurations: stats.invalidDurations,
                  isTotalSaturated: stats.isTotalSaturated, buckets: stats.buckets)
    }

    /// A later part: more buckets of the same window.
    package init(continuing buckets: [Bucket]) {
        self.init(count: 0, totalMicroseconds: 0, minMicroseconds: 0, maxMicroseconds: 0, buckets: buckets)
    }

    /// The most durations one window may say it holds (about 4 billion): more is not a log our
    /// writer made, and is refused rather than let a sum overflow.
    static let maxCount: UInt64 = 1 << 32

    // MARK: - Attrs

    /// Appends the attrs (`count` … `buckets_us`).
    package func append(to attrs: inout Attributes) {
        attrs.appendUnchecked("count", .int(count))
        if count > 0 {
            attrs.appendUnchecked("sum_ms", .double(Double(totalMicroseconds) / 1000))
            attrs.appendUnchecked("min_ms", .double(Double(minMicroseconds) / 1000))
            attrs.appendUnchecked("max_ms", .double(Double(maxMicroseconds) / 1000))
            attrs.appendUnchecked("mean_ms", .double((Double(totalMicroseconds) / Double(count)).rounded() / 1000))
        }
        attrs.appendUnchecked("buckets_us", .string(Self.text(of: buckets)))
        if invalidDurations > 0 { attrs.appendUnchecked("invalid_durations", .int(invalidDurations)) }
        if isTotalSaturated { attrs.appendUnchecked("total_saturated", .bool(true)) }
    }

    /// Reads the attrs back; a later part (`count` 0) has only buckets.
    package init(reading reader: inout some PayloadReader, kind: EventKind) throws(PayloadDecodingError) {
        let count = try reader.int("count")
        guard count >= 0, UInt64(count) <= Self.maxCount else {
            throw PayloadDecodingError(kind: kind, field: "count", problem: "is out of range")
        }
        guard let buckets = Self.buckets(parsing: try reader.string("buckets_us")) else {
            throw PayloadDecodingError(kind: kind, field: "buckets_us", problem: "is not a list of value[:count] buckets")
        }
        guard count > 0 else {
            self.init(continuing: buckets)
            return
        }
        let total = LatencyStats.microseconds(milliseconds: try reader.double("sum_ms"))
        let minimum = LatencyStats.microseconds(milliseconds: try reader.double("min_ms"))
        let maximum = LatencyStats.microseconds(milliseconds: try reader.double("max_ms"))
        let invalid = try reader.optionalInt("invalid_durations") ?? 0
        guard minimum <= maximum, invalid >= 0, invalid <= count else {
            throw PayloadDecodingError(kind: kind, field: "min_ms", problem: "is above max_ms, or invalid_durations is out of range")
        }
        self.init(count: count, totalMicroseconds: total, minMicroseconds: minimum, maxMicroseconds: maximum,
                  invalidDurations: invalid, isTotalSaturated: try reader.optionalBool("total_saturated") ?? false, buckets: buckets)
    }

    /// `value[:count]` separated by spaces.
    package static func text(of buckets: [Bucket]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(buckets.count * 7)
        for bucket in buckets {
            if !bytes.isEmpty { bytes.append(UInt8(ascii: " ")) }
            bytes.append(contentsOf: String(bucket.microseconds).utf8)
            if bucket.count != 1 {
                bytes.append(UInt8(ascii: ":"))
                bytes.append(contentsOf: String(bucket.count).utf8)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The buckets of `text`, or `nil` when it is not exactly what ``text(of:)`` writes (values
    /// rising, counts from 1 up to ``maxCount`` and adding up to no more than it).
    package static func buckets(parsing text: String) -> [Bucket]? {
        var buckets: [Bucket] = []
        var total: UInt64 = 0
        var utf8 = text.utf8[...]
        while !utf8.isEmpty {
            if !buckets.isEmpty {
                guard utf8.first == UInt8(ascii: " ") else { return nil }
                utf8 = utf8.dropFirst()
            }
            guard let value = number(&utf8) else { return nil }
            var count: UInt64 = 1
            if utf8.first == UInt8(ascii: ":") {
                utf8 = utf8.dropFirst()
                guard let parsed = number(&utf8), parsed >= 2 else { return nil }
                count = parsed
            }
            total += min(count, maxCount + 1)
            guard total <= maxCount, buckets.last.map({ $0.microseconds < value }) ?? true else { return nil }
            buckets.append(Bucket(microseconds: value, count: count))
        }
        return buckets
    }

    /// A decimal of 1 to 15 digits without a leading zero (or `0` itself).
    private static func number(_ utf8: inout Substring.UTF8View) -> UInt64? {
        var value: UInt64 = 0
        var digits = 0
        while let byte = utf8.first, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            if digits == 1 && value == 0 { return nil }
            guard digits < 15 else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
            digits += 1
            utf8 = utf8.dropFirst()
        }
        return digits == 0 ? nil : value
    }

    private static func digits(_ value: UInt64) -> Int {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        return digits
    }

    /// The window split into parts whose bucket text stays under `maxBucketBytes` each: the
    /// first with the totals, the later ones with buckets only.
    package func parts(maxBucketBytes: Int) -> [LatencyWindow] {
        var parts: [[Bucket]] = [[]]
        var bytes = 0
        for bucket in buckets {
            let size = Self.digits(bucket.microseconds) + (bucket.count == 1 ? 0 : 1 + Self.digits(bucket.count)) + 1
            if bytes + size > maxBucketBytes, !parts[parts.count - 1].isEmpty {
                parts.append([])
                bytes = 0
            }
            parts[parts.count - 1].append(bucket)
            bytes += size
        }
        var first = self
        first.buckets = parts[0]
        return [first] + parts.dropFirst().map { LatencyWindow(continuing: $0) }
    }
}
