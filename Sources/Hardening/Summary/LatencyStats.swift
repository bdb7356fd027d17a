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
    private var histogram = DurationHistogram()

    private static let histogramLimit: Int64 = 1_000_000_000_000

    /// An empty distribution.
    public init() {}

    /// An empty distribution whose histogram widens to 64-bit counts after `compactCountLimit`
    /// values (`UInt32.max` normally; tests make it small).
    package init(compactCountLimit: Int64) {
        histogram = DurationHistogram(compactCountLimit: compactCountLimit)
    }

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
        count.saturatingAdd(1)
        add(microseconds)
        // The histogram stops at about 11 days; exact min, max and sums still see every value.
        histogram.record(UInt64(min(microseconds, Self.histogramLimit)), total: count)
    }

    /// Adds another distribution's durations.
    public mutating func merge(_ other: LatencyStats) {
        guard other.count > 0 else { return }
        minMicroseconds = count == 0 ? other.minMicroseconds : min(minMicroseconds, other.minMicroseconds)
        maxMicroseconds = max(maxMicroseconds, other.maxMicroseconds)
        count.saturatingAdd(other.count)
        add(other.totalMicroseconds)
        isTotalSaturated = isTotalSaturated || other.isTotalSaturated
        invalidDurations.saturatingAdd(other.invalidDurations)
        histogram.add(other.histogram, total: count)
    }

    /// The histogram's non-empty buckets, lowest first: a value inside each (recording it again
    /// lands in the same bucket) and how many durations fell in it.
    package var buckets: [LatencyWindow.Bucket] { histogram.buckets }

    /// A distribution from a window's totals and buckets (see ``LatencyWindow``): the same
    /// count, total, minimum, maximum and histogram as the durations it was made from.
    package init(_ window: LatencyWindow) {
        self.init()
        guard window.count > 0 else { return }
        count = window.count
        totalMicroseconds = window.totalMicroseconds
        minMicroseconds = window.minMicroseconds
        maxMicroseconds = window.maxMicroseconds
        invalidDurations = window.invalidDurations
        isTotalSaturated = window.isTotalSaturated
        addBuckets(window.buckets)
    }

    /// Adds buckets to the histogram alone (a window's later parts: their durations are in the
    /// count, total, minimum and maximum of its first part).
    package mutating func addBuckets(_ buckets: [LatencyWindow.Bucket]) {
        var total = count
        for bucket in buckets {
            total.saturatingAdd(Int64(clamping: bucket.count))
            histogram.record(min(bucket.microseconds, UInt64(Self.histogramLimit)), count: bucket.count, total: total)
        }
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

    /// Whether the histogram's counts were widened to 64 bits (more values than 32-bit counts
    /// could hold in a bucket).
    package var hasWideCounts: Bool { histogram.isWide }

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

    /// How many durations were at most `bound` microseconds (a Prometheus bucket), within the
    /// histogram's precision: exact up to 2,048 µs; above, a duration less than 0.1 % over the
    /// bound may count in it.
    public func count(atOrBelowMicroseconds bound: Int64) -> Int64 {
        guard count > 0, bound >= 0 else { return 0 }
        if bound >= maxMicroseconds { return count }
        if bound < minMicroseconds { return 0 }
        return min(count, Int64(clamping: histogram.count(atOrBelow: UInt64(min(bound, Self.histogramLimit)))))
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

/// The HDR histogram of a ``LatencyStats``: counts in 32 bits while no bucket can pass
/// `UInt32.max` (fewer durations than that in all: half the memory, which replay's workers and
/// per-file parts multiply), widened to 64 bits, value for value, before one could.
private struct DurationHistogram: Sendable {
    /// The counts: exactly one of the two is set (optionals, not an enum: a force-unwrapped
    /// optional is changed in place, where an enum's payload must be taken out and put back).
    private var compact: Histogram<UInt32>? = Self.sized()
    private var wide: Histogram<UInt64>?
    /// How many values may be held in 32-bit counts.
    private let compactCountLimit: Int64

    /// The range a histogram starts with: up to about 16.7 s (2048 << 13 µs), where most
    /// durations fall. It still grows past that, but each growth step is slow (hdrhistogram-swift
    /// appends the new counts through unspecialized generic code: 1 ms and more for a histogram
    /// that starts at its default range of 2 µs and grows to seconds, which was 6% of a replay's
    /// time and half of a small one's). Precision is the same at any range.
    private static let initialHighestValue: UInt64 = 16_777_215

    private static func sized<Count: FixedWidthInteger & Codable & Sendable>() -> Histogram<Count> {
        var histogram = Histogram<Count>(lowestDiscernibleValue: 1, highestTrackableValue: initialHighestValue, numberOfSignificantValueDigits: .three)
        histogram.autoResize = true
        return histogram
    }

    init(compactCountLimit: Int64 = Int64(UInt32.max)) {
        self.compactCountLimit = compactCountLimit
    }

    /// Whether the counts are 64-bit.
    var isWide: Bool { wide != nil }

    /// Records `value`; `total` is how many values the stats hold with it.
    mutating func record(_ value: UInt64, total: Int64) {
        widenIfNeeded(for: total)
        if compact != nil {
            compact!.record(value)
        } else {
            wide!.record(value)
        }
    }

    /// Records `value` `count` times; `total` is how many values the stats hold with them.
    mutating func record(_ value: UInt64, count: UInt64, total: Int64) {
        // A count that 32 bits cannot hold widens whatever the total says.
        widenIfNeeded(for: count > UInt64(UInt32.max) ? .max : total)
        if compact != nil {
            compact!.record(value, count: UInt32(count))
        } else {
            wide!.record(value, count: count)
        }
    }

    /// The non-empty buckets, lowest first.
    var buckets: [LatencyWindow.Bucket] {
        if let compact { return compact.recordedValues().map { LatencyWindow.Bucket(microseconds: $0.value, count: UInt64($0.count)) } }
        return wide?.recordedValues().map { LatencyWindow.Bucket(microseconds: $0.value, count: $0.count) } ?? []
    }

    /// Adds `other`'s values; `total` is how many values the stats hold with them.
    mutating func add(_ other: DurationHistogram, total: Int64) {
        widenIfNeeded(for: total)
        if let theirs = other.wide, let mine = compact {
            compact = nil
            wide = Self.widened(mine)
            wide!.add(theirs)
        } else if let theirs = other.wide {
            wide!.add(theirs)
        } else if let theirs = other.compact, compact != nil {
            compact!.add(theirs)
        } else if let theirs = other.compact {
            wide!.add(Self.widened(theirs))
        }
    }

    func count(atOrBelow value: UInt64) -> UInt64 {
        if let compact { return UInt64(compact.count(within: 0...value)) }
        return wide?.count(within: 0...value) ?? 0
    }

    func valueAtPercentile(_ percentile: Double) -> UInt64 {
        if let compact { return compact.valueAtPercentile(percentile) }
        return wide?.valueAtPercentile(percentile) ?? 0
    }

    private mutating func widenIfNeeded(for total: Int64) {
        guard total >= compactCountLimit, let histogram = compact else { return }
        compact = nil
        wide = Self.widened(histogram)
    }

    private static func widened(_ compact: Histogram<UInt32>) -> Histogram<UInt64> {
        var wide: Histogram<UInt64> = sized()
        for point in compact.recordedValues() {
            _ = wide.record(point.value, count: UInt64(point.count))
        }
        return wide
    }
}
