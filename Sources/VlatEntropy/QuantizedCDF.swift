/// An integer cumulative distribution over the symbols `offset ..< offset + count - 1`, plus a
/// final *escape* symbol that stands for every value outside that range.
///
/// `cdf` has `count + 1` entries, `cdf[0] == 0`, `cdf[count] == 1 << precision`, and every
/// symbol has a frequency of at least 1, so any value can be coded. These tables are computed
/// once from a learned density, stored in the model file, and are all that the encoder and the
/// decoder read: entropy coding is exact integer arithmetic on every machine.
public struct QuantizedCDF: Sendable, Equatable, Codable {
    /// Probability precision in bits; frequencies sum to `1 << precision`.
    public static let precision: UInt32 = 16

    /// The value of symbol 0.
    public var offset: Int32
    public var cdf: [UInt32]

    /// Symbols including the escape.
    public var count: Int { cdf.count - 1 }
    /// Index of the escape symbol.
    public var escape: Int { count - 1 }

    public init(offset: Int32, cdf: [UInt32]) throws {
        guard cdf.count >= 2, cdf.first == 0, cdf.last == 1 << Self.precision else {
            throw EntropyError.invalidTable("a CDF must start at 0 and end at 2^\(Self.precision)")
        }
        for i in 0..<(cdf.count - 1) where cdf[i + 1] <= cdf[i] {
            throw EntropyError.invalidTable("symbol \(i) has zero frequency")
        }
        self.offset = offset
        self.cdf = cdf
    }

    /// Quantizes probabilities `pmf` (for values `offset...`) plus `tail`, the probability of
    /// everything outside (the escape), to integer frequencies summing to 2^precision with
    /// every frequency at least 1, keeping the quantized distribution close to the real one.
    public init(offset: Int32, pmf: [Double], tail: Double) throws {
        let probabilities = pmf + [tail]
        let total = Int(1 << Self.precision)
        guard probabilities.count <= total / 2, probabilities.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw EntropyError.invalidTable("cannot quantize \(probabilities.count) probabilities")
        }
        let sum = probabilities.reduce(0, +)
        // Start from at least 1 each, then share the rest in proportion.
        let free = Double(total - probabilities.count)
        var freq = probabilities.map { 1 + Int((sum > 0 ? $0 / sum : 1 / Double(probabilities.count)) * free) }
        var excess = freq.reduce(0, +) - total
        // Rounding down leaves a deficit (excess <= 0); give it to the most probable symbols,
        // where one count costs the least bits. Take back the same way if ever over.
        let order = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }
        var k = 0
        while excess != 0 {
            let i = order[k % order.count]
            if excess < 0 { freq[i] += 1; excess += 1 } else if freq[i] > 1 { freq[i] -= 1; excess -= 1 }
            k += 1
        }
        var cdf: [UInt32] = [0]
        for f in freq { cdf.append(cdf.last! + UInt32(f)) }
        try self.init(offset: offset, cdf: cdf)
    }

    func frequency(_ symbol: Int) -> UInt32 { cdf[symbol + 1] - cdf[symbol] }

    /// The symbol whose interval holds `slot` (binary search).
    func symbol(forSlot slot: UInt32) -> Int {
        var lo = 0, hi = count
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if cdf[mid] <= slot { lo = mid } else { hi = mid }
        }
        return lo
    }
}

/// Why entropy coding failed.
public enum EntropyError: Error, Equatable, CustomStringConvertible {
    case invalidTable(String)
    case corrupt(String)

    public var description: String {
        switch self {
        case .invalidTable(let s): return "invalid entropy table: \(s)"
        case .corrupt(let s): return "corrupt entropy-coded data: \(s)"
        }
    }
}
