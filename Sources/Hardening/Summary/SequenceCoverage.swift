/// The `seq` numbers seen of one run, as sorted, disjoint ranges: a run read in order is one
/// range, whatever its length, so memory stays bounded by the number of holes, not of events.
/// Duplicates (the same file read twice) are not counted twice.
public struct SequenceCoverage: Sendable, Hashable {
    private var ranges: [ClosedRange<UInt64>] = []

    /// An empty coverage.
    public init() {}

    /// Distinct numbers seen.
    public var count: UInt64 { ranges.reduce(0) { $0.saturatingPlus(($1.upperBound - $1.lowerBound).saturatingPlus(1)) } }
    /// The highest number seen (0 when none).
    public var highest: UInt64 { ranges.last?.upperBound ?? 0 }
    /// Numbers from 1 to ``highest`` never seen.
    public var missing: UInt64 { highest > count ? highest - count : 0 }
    /// Numbers from 1 to `bound - 1` never seen.
    func missing(below bound: UInt64) -> UInt64 {
        guard bound > 1 else { return 0 }
        var seenBelow: UInt64 = 0
        for range in ranges where range.lowerBound < bound {
            seenBelow = seenBelow.saturatingPlus(Swift.min(range.upperBound, bound - 1) - range.lowerBound + 1)
        }
        return (bound - 1) > seenBelow ? (bound - 1) - seenBelow : 0
    }

    /// The holes, in order.
    public var holes: [ClosedRange<UInt64>] {
        var holes: [ClosedRange<UInt64>] = []
        var next: UInt64 = 1
        for range in ranges {
            if range.lowerBound > next { holes.append(next...(range.lowerBound - 1)) }
            guard range.upperBound < .max else { break }
            next = range.upperBound + 1
        }
        return holes
    }

    /// Marks `seq` as seen (0, a file header's number, is ignored).
    public mutating func insert(_ seq: UInt64) {
        guard seq > 0 else { return }
        // The common case: the next number of the last range.
        if let last = ranges.last {
            if last.upperBound < .max, seq == last.upperBound + 1 {
                ranges[ranges.count - 1] = last.lowerBound...seq
                return
            }
            if last.contains(seq) { return }
        }
        insert(seq...seq)
    }

    /// Marks every number of `other` as seen.
    public mutating func merge(_ other: SequenceCoverage) {
        for range in other.ranges { insert(range) }
    }

    private mutating func insert(_ range: ClosedRange<UInt64>) {
        // First range that ends at or after range.lowerBound - 1 (could touch or overlap).
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound &+ 1 < range.lowerBound { low = middle + 1 } else { high = middle }
        }
        var merged = range
        var end = low
        while end < ranges.count, ranges[end].lowerBound <= merged.upperBound &+ 1 {
            merged = min(merged.lowerBound, ranges[end].lowerBound)...max(merged.upperBound, ranges[end].upperBound)
            end += 1
        }
        ranges.replaceSubrange(low..<end, with: [merged])
    }
}

extension SequenceCoverage {
    /// Whether `seq` was seen.
    public func contains(_ seq: UInt64) -> Bool {
        guard let last = ranges.last else { return false }
        if seq > last.upperBound { return false }
        if last.contains(seq) { return true }
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < seq { low = middle + 1 } else { high = middle }
        }
        return low < ranges.count && ranges[low].contains(seq)
    }
}

extension SequenceCoverage {
    /// Whether a number was seen by both.
    public func intersects(_ other: SequenceCoverage) -> Bool {
        var mine = 0
        var theirs = 0
        while mine < ranges.count, theirs < other.ranges.count {
            if ranges[mine].overlaps(other.ranges[theirs]) { return true }
            if ranges[mine].upperBound < other.ranges[theirs].upperBound { mine += 1 } else { theirs += 1 }
        }
        return false
    }
}
