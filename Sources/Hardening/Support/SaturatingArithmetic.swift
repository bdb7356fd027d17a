extension Int64 {
    /// Adds `other`, stopping at `Int64.max` or `Int64.min` instead of wrapping around: a sum of
    /// hostile values (a `duration_ms` of 1e308, a forged count) must never turn negative.
    package mutating func saturatingAdd(_ other: Int64) {
        let (sum, overflow) = addingReportingOverflow(other)
        self = overflow ? (other > 0 ? .max : .min) : sum
    }
}
