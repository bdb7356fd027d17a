import Histogram

/// A distribution of durations: exact count, total, minimum and maximum (in whole
/// microseconds, so that sums do not depend on the order of the events), and an HDR histogram
/// (three significant digits) for percentiles. Two distributions merge exactly, across runs and
/// hosts.
public struct LatencyStats: Sendable {
    /// Durations recorded.
    public private(set) var count: Int64 = 0
    /// Their sum, in microseconds.
    public private(set) var totalMicroseconds: Int64 = 0
    /// The shortest, in microseconds (0 when empty).
    public private(set) var minMicroseconds: Int64 = 0
    /// The longest, in microseconds.
    public private(set) var maxMicroseconds: Int64 = 0
    /// Durations that were negative or not finite (counted as 0, and reported: a clock that ran
    /// backwards or a broken producer should be seen, not hidden).
    public private(set) var invalidDurations: Int64 = 0
    /// Whether ``totalMicroseconds`` reached `Int64.max` and stopped there (the mean is then a
    /// lower bound); it never wraps.
    public private(set) var isTotalSaturated = false
    private var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)

    private static let histogramLimit: Int64 = 1_000_000_000_000

    /// An empty distribution.
    public init() {}

    /// Records a duration given in milliseconds (what `_ms` attrs carry); negative and
    /// non-finite values count as 0 and in ``invalidDurations``.
    public mutating func record(milliseconds: Double) {
        if !(milliseconds >= 0) || !milliseconds.isFinite { invalidDurations += 1 }
        record(microseconds: Self.microseconds(milliseconds: milliseconds))
    }

    /// A `_ms` value as whole microseconds: rounded, negative and non-finite as 0, clamped to
    /// `Int64`. Every fold (summaries, retry waits, timelines) converts through this one place.
    public static func microseconds(milliseconds: Double) -> Int64 {
        milliseconds.isFinite ? Int64(min(max(0, (milliseconds * 1000).rounded()), 9e18)) : 0
    }

    mutating func record(microseconds: Int64) {
        minMicroseconds = count == 0 ? microseconds : min(minMicroseconds, microseconds)
        maxMicroseconds = max(maxMicroseconds, microseconds)
        count += 1
        add(microseconds)
        // The histogram stops at about 11 days; exact min, max and sums still see every value.
        histogram.record(UInt64(min(microseconds, Self.histogramLimit)))
    }

    /// Adds another distribution's durations.
    public mutating func merge(_ other: LatencyStats) {
        guard other.count > 0 else { return }
        minMicroseconds = count == 0 ? other.minMicroseconds : min(minMicroseconds, other.minMicroseconds)
        maxMicroseconds = max(maxMicroseconds, other.maxMicroseconds)
        count += other.count
        add(other.totalMicroseconds)
        isTotalSaturated = isTotalSaturated || other.isTotalSaturated
        invalidDurations += other.invalidDurations
        histogram.add(other.histogram)
    }

    private mutating func add(_ microseconds: Int64) {
        let (sum, overflow) = totalMicroseconds.addingReportingOverflow(microseconds)
        if overflow {
            totalMicroseconds = .max
            isTotalSaturated = true
        } else {
            totalMicroseconds = sum
        }
    }

    /// The mean, in milliseconds (0 when empty).
    public var meanMilliseconds: Double { count == 0 ? 0 : Double(totalMicroseconds) / Double(count) / 1000 }
    /// The shortest, in milliseconds.
    public var minMilliseconds: Double { Double(minMicroseconds) / 1000 }
    /// The longest, in milliseconds.
    public var maxMilliseconds: Double { Double(maxMicroseconds) / 1000 }

    /// The duration at `percentile` (0–100), in milliseconds, within the histogram's precision
    /// (0.1 %), never below the minimum or above the maximum.
    public func percentileMilliseconds(_ percentile: Double) -> Double {
        guard count > 0 else { return 0 }
        let value = Int64(clamping: histogram.valueAtPercentile(percentile))
        return Double(max(minMicroseconds, min(value, maxMicroseconds))) / 1000
    }

    /// What is wrong with these durations, in words (`nil` when nothing is).
    public var problem: String? {
        var parts: [String] = []
        if invalidDurations > 0 { parts.append("\(invalidDurations) negative or non-finite duration(s) counted as 0") }
        if isTotalSaturated { parts.append("the total reached the largest number it can hold (the mean is a lower bound)") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    /// The percentiles every summary shows.
    public static let reportedPercentiles: [(name: String, value: Double)] = [("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)]

    /// Count, mean, min, max and percentiles, in milliseconds.
    public var json: AttributeValue {
        var pairs: [(String, AttributeValue)] = [
            ("count", .int(count)), ("mean_ms", .double(meanMilliseconds)), ("min_ms", .double(minMilliseconds)),
            ("max_ms", .double(maxMilliseconds)),
        ]
        for (name, value) in Self.reportedPercentiles { pairs.append(("\(name)_ms", .double(percentileMilliseconds(value)))) }
        // Only where there is something to say.
        if invalidDurations > 0 { pairs.append(("invalid_durations", .int(invalidDurations))) }
        if isTotalSaturated { pairs.append(("total_saturated", .bool(true))) }
        return .object(Attributes(uniqueKeysWithValues: pairs))
    }
}
