/// SplitMix64: a small, fast, seedable generator. Everything random in training (initial weights,
/// crops, flips, noise) draws from one of these, so a run is reproducible from its seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable, Codable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for a sub-stream, e.g. `SeededGenerator(seed: runSeed, stream: step)`, so that
    /// batch k is the same whether or not batches 0..<k were drawn in this process.
    public init(seed: UInt64, stream: UInt64) {
        var g = SeededGenerator(seed: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
        _ = g.next()
        state = g.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / Float(1 << 24)) }

    /// Standard normal (Box-Muller).
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) * (1.0 / Double(1 << 53)), 1e-300)
        let u2 = Double(next() >> 11) * (1.0 / Double(1 << 53))
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
