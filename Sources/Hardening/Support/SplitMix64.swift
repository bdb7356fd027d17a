/// SplitMix64: a tiny, fast, seedable generator (not for cryptography).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates the generator from a seed.
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SplitMix64 {
    /// A `Double` in `0..<1` from the top 53 bits.
    package mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// An integer in `0..<bound` (by remainder: a bias too small to matter for noise and fuzzing).
    package mutating func next(upTo bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
