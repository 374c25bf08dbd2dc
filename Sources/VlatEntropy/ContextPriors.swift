/// Fitted starting counts for `ContextRANSCoder`'s adaptive tables: for every latent channel and
/// every one of its 16 contexts, what that context's symbols looked like on training images.
///
/// Without them each context starts from its channel's learned prior, the same for flat and
/// busy regions, and must learn the difference from the image being coded, paying for it in
/// the first symbols of every context. Fitted once (`fit`) on training latents and stored in the
/// model file, they let every context start where such images usually are. With tables fitted
/// on 100 training photos (`vlat export --fit-contexts`), the shipped levels code the Kodak
/// latents in 2.1 % (q8) to 3.5 % fewer bits than starting from the prior (`CodecBench
/// prior-fit`, its two ctx columns).
///
/// Each context's counts sum to about `total` (the weight of `total / 32` coded symbols, as the
/// coder adds 32 per symbol) and its escape count is at least 1.
///
/// ```swift
/// let priors = try ContextPriors.fit(grids, tables: model.tables)
/// let bytes = try ContextRANSCoder.encode(values, channels: c, height: h, width: w, tables: model.tables, priors: priors)
/// ```
public struct ContextPriors: Sendable, Equatable {
    /// The starting weight of a fitted context: 64 coded symbols. Simulated on held-out photos,
    /// 16 symbols' weight saved about 1 % less and 256 symbols' about the same.
    public static let defaultTotal = 2048
    /// The most a stored count may be; more would let a model file overflow the coder's
    /// 2^24 halving threshold before its first symbol.
    public static let maxCount: UInt64 = 1 << 20

    /// `counts[c * ContextRANSCoder.contexts + k]`: the starting counts of context `k` of channel
    /// `c`, one per symbol of table `c` (escape last).
    public let counts: [[UInt64]]

    /// Checks `counts` against the tables they start: one array per channel and context, as many
    /// counts as the channel's table has symbols, the escape's at least 1, each at most `maxCount`.
    public init(counts: [[UInt64]], tables: [QuantizedCDF]) throws {
        guard counts.count == tables.count * ContextRANSCoder.contexts else {
            throw EntropyError.invalidTable("\(counts.count) context tables for \(tables.count) channels")
        }
        for (i, row) in counts.enumerated() {
            let table = tables[i / ContextRANSCoder.contexts]
            guard row.count == table.count, row[table.escape] >= 1, row.allSatisfy({ $0 <= Self.maxCount }) else {
                throw EntropyError.invalidTable("context table \(i) does not fit channel \(i / ContextRANSCoder.contexts)'s table")
            }
        }
        self.counts = counts
    }

    /// One latent grid to fit on: channel-major values with their sizes.
    public struct Grid: Sendable {
        public var values: [Int32], channels: Int, height: Int, width: Int
        public init(values: [Int32], channels: Int, height: Int, width: Int) {
            (self.values, self.channels, self.height, self.width) = (values, channels, height, width)
        }
    }

    /// Counts each context's symbols over `grids` (in the coder's own traversal, so with the
    /// coder's own contexts and escapes), adds `pseudoCount` symbols' worth of the channel's prior
    /// (so a context seldom seen stays near the prior), and scales each context to `total`:
    /// `count[s] = floor(total * p(s))`, the escape's at least 1. Fitting uses floating point;
    /// the stored integers are all a coder reads.
    public static func fit(_ grids: [Grid], tables: [QuantizedCDF], total: Int = defaultTotal,
                           pseudoCount: Double = 4) throws -> ContextPriors {
        let k = ContextRANSCoder.contexts
        var histograms = tables.flatMap { table in [[Double]](repeating: [Double](repeating: 0, count: table.count), count: k) }
        for grid in grids {
            try ContextRANSCoder.check(count: grid.values.count, channels: grid.channels, height: grid.height,
                                       width: grid.width, tables: tables)
            grid.values.withUnsafeBufferPointer { v in
                ContextRANSCoder.traverse(v, channels: grid.channels, height: grid.height, width: grid.width,
                                          tables: tables, priors: nil) { i, table, _, context in
                    let relative = Int64(v[i]) - Int64(table.offset)
                    let s = relative >= 0 && relative < Int64(table.escape) ? Int(relative) : table.escape
                    histograms[(i / (grid.height * grid.width)) * k + context][s] += 1
                    return s
                }
            }
        }
        let counts = histograms.enumerated().map { i, h -> [UInt64] in
            let table = tables[i / k]
            let prior = (0..<table.count).map { Double(table.frequency($0)) / Double(1 << QuantizedCDF.precision) }
            let mass = zip(h, prior).map { $0 + pseudoCount * $1 }
            let sum = mass.reduce(0, +)
            var row = mass.map { UInt64((Double(total) * $0 / sum).rounded(.down)) }
            row[table.escape] = max(row[table.escape], 1)
            return row
        }
        return try ContextPriors(counts: counts, tables: tables)
    }
}
