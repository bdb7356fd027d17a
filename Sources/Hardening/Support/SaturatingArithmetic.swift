extension Int64 {
    /// Adds `other`, stopping at `Int64.max` or `Int64.min` instead of wrapping around: a sum of
    /// hostile values (a `duration_ms` of 1e308, a forged count) must never turn negative.
    package mutating func saturatingAdd(_ other: Int64) {
        let (sum, overflow) = addingReportingOverflow(other)
        self = overflow ? (other > 0 ? .max : .min) : sum
    }
}

extension UInt64 {
    /// `self + other`, stopping at `UInt64.max` instead of trapping: counts summed over hostile
    /// input (runs whose `seq` reaches 2^63) must never crash a reader.
    package func saturatingPlus(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
