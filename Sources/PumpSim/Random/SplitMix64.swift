/// SplitMix64 (Steele, Lea and Flood 2014): a small, fast, seeded generator whose output depends only
/// on the seed and the number of draws, bit for bit on every platform. The simulator draws all its
/// randomness from it; nothing reads the system's entropy or clock. As a `RandomNumberGenerator` it
/// also seeds the tests' fuzzers (`Int.random(in:using:)`), so a failing case replays from its seed.
public struct SplitMix64: RandomNumberGenerator, Hashable, Sendable, Codable {
    @usableFromInline var state: UInt64
    /// The generator state (for checkpoints).
    public var currentState: UInt64 { state }

    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0..<n` (n > 0), by Lemire's multiply-shift with rejection: unbiased.
    public mutating func below(_ n: UInt64) -> UInt64 {
        precondition(n > 0)
        var m = next().multipliedFullWidth(by: n)
        if m.low < n {
            let t = (0 &- n) % n
            while m.low < t { m = next().multipliedFullWidth(by: n) }
        }
        return m.high
    }

    /// A uniform integer in `range`.
    public mutating func integer(in range: ClosedRange<Int64>) -> Int64 {
        let span = UInt64(bitPattern: range.upperBound &- range.lowerBound)
        if span == .max { return Int64(bitPattern: next()) }
        return range.lowerBound &+ Int64(bitPattern: below(span + 1))
    }

    /// A centred binomial deviate: popcount of 128 random bits minus 64. Mean 0, variance exactly 32,
    /// bounded by ±64 (so per-stroke noise is bounded and a sensor horizon can be proven), and close
    /// to normal (the simulator's noise model). Integer-only: identical on every platform.
    @inlinable public mutating func centredBinomial128() -> Int64 {
        Int64(next().nonzeroBitCount + next().nonzeroBitCount) - 64
    }

    /// The generator for item `index` of a stream seeded `seed`: independent of how the items are
    /// split between workers or shards (a sweep's run `i` always gets the same stream).
    public static func stream(seed: UInt64, index: UInt64) -> SplitMix64 {
        var g = SplitMix64(seed: seed ^ 0x5851_F42D_4C95_7F2D)
        var h = SplitMix64(seed: g.next() &+ index &* 0xD1B5_4A32_D192_ED03)
        return SplitMix64(seed: h.next())
    }
}
