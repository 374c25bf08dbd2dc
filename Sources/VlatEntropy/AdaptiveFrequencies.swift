/// The adaptive probability model of one coding context of `ContextRANSCoder`: symbol counts
/// that start from the learned prior's table and grow with every symbol coded, quantized to
/// 16-bit rANS frequencies on demand. Integer arithmetic only, so encoder and decoder hold
/// identical counts on every machine.
///
/// Counts start at `prior frequency >> 7` (the prior weighs as much as 16 coded symbols: 2^16
/// >> 7 = 512 = 16 x `increment`) and a coded symbol adds `increment`; when the total passes
/// 2^24 every count is halved (rounding up). The coding frequency of symbol *j* < *n* - 1 is
/// `1 + (count[j] * R) >> 32` with `R = ((65536 - n) << 32) / total`, and the last symbol (the
/// escape) takes what is left of 65536: every symbol keeps a frequency of at least 1, and
/// their sum is exactly 65536 (the proof: docs/FORMAT.md, coder 3).
struct AdaptiveFrequencies {
    static let increment: UInt64 = 32
    static let priorShift: UInt32 = 7
    static let halvingTotal: UInt64 = 1 << 24
    static let totalFrequency: UInt32 = 1 << QuantizedCDF.precision

    private(set) var counts: [UInt64]
    private(set) var total: UInt64
    /// `R` above, recomputed after each update.
    private var scale: UInt64 = 0

    init(prior: QuantizedCDF) {
        counts = (0..<prior.count).map { UInt64(prior.frequency($0) >> Self.priorShift) }
        counts[prior.escape] = max(counts[prior.escape], 1)  // a total of at least 1
        total = counts.reduce(0, +)
        rescale()
    }

    /// Starts from fitted counts (`ContextPriors`), already checked: the escape's at least 1.
    init(counts: [UInt64]) {
        self.counts = counts
        total = counts.reduce(0, +)
        rescale()
    }

    var symbolCount: Int { counts.count }

    private mutating func rescale() {
        scale = (UInt64(Self.totalFrequency - UInt32(counts.count)) << 32) / total
    }

    @inline(__always)
    private func frequency(_ j: Int) -> UInt32 { 1 + UInt32(truncatingIfNeeded: (counts[j] &* scale) >> 32) }

    /// The coding interval of symbol `s`.
    func interval(of s: Int) -> (start: UInt32, frequency: UInt32) {
        var start: UInt32 = 0
        for j in 0..<s { start += frequency(j) }
        return (start, s == counts.count - 1 ? Self.totalFrequency - start : frequency(s))
    }

    /// The symbol whose interval holds `slot` (< 65536), with that interval.
    func symbol(forSlot slot: UInt32) -> (symbol: Int, start: UInt32, frequency: UInt32) {
        var start: UInt32 = 0
        let last = counts.count - 1
        for j in 0..<last {
            let f = frequency(j)
            if slot < start + f { return (j, start, f) }
            start += f
        }
        return (last, start, Self.totalFrequency - start)
    }

    /// Counts one occurrence of `s`.
    mutating func update(_ s: Int) {
        counts[s] += Self.increment
        total += Self.increment
        if total > Self.halvingTotal {
            for j in counts.indices { counts[j] = (counts[j] + 1) >> 1 }
            total = counts.reduce(0, +)
        }
        rescale()
    }
}
