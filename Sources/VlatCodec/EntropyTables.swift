import VlatEntropy
import VlatFormat

/// The integer CDF tables of a rate-distortion model, stored in its model file so that encoder
/// and decoder read the same integers on every machine (recomputing them from the learned
/// density would run `exp` and `log`, whose last bits differ between math libraries).
///
/// Tensors: `entropy.offsets` [C] (the value of each table's first symbol), `entropy.lengths`
/// [C] (CDF entries per table), `entropy.cdf` [sum of lengths] (all CDFs, concatenated). Integers
/// are stored as float32, exact below 2^24.
///
/// Optional: `entropy.context_counts` [C x 16 x symbols], the fitted starting counts of the
/// context coder's tables (`ContextPriors`): for each channel in turn, its 16 contexts in turn,
/// one count per symbol of the channel's table. Models without it start those tables from the
/// prior.
public enum EntropyTables {
    public static let contextCountsName = "entropy.context_counts"

    public static func entries(_ priors: ContextPriors) -> [ModelFile.Entry] {
        let flat = priors.counts.flatMap { $0.map { Float($0) } }
        return [.init(name: contextCountsName, shape: [flat.count], values: flat)]
    }

    /// The model's fitted context priors, or nil for a model without them.
    public static func readContextPriors(_ file: ModelFile, tables: [QuantizedCDF]) throws -> ContextPriors? {
        guard let tensor = file[contextCountsName] else { return nil }
        let sizes = tables.map { $0.count * ContextRANSCoder.contexts }
        guard tensor.values.count == sizes.reduce(0, +) else {
            throw CodecError.notACodecModel("context counts do not match the entropy tables")
        }
        var rows: [[UInt64]] = [], at = 0
        for table in tables {
            for _ in 0..<ContextRANSCoder.contexts {
                let row = tensor.values[at..<(at + table.count)].compactMap { UInt64(exactly: $0) }
                guard row.count == table.count else { throw CodecError.notACodecModel("context counts hold a non-integer") }
                rows.append(row); at += table.count
            }
        }
        do { return try ContextPriors(counts: rows, tables: tables) } catch {
            throw CodecError.notACodecModel("\(error)")
        }
    }

    /// `prefix` names the set: `entropy` for a factorized model's tables, `entropy.z` and
    /// `entropy.y` for a hyperprior's (`HyperpriorCodecModel`).
    public static func entries(_ tables: [QuantizedCDF], prefix: String = "entropy") -> [ModelFile.Entry] {
        let cdf = tables.flatMap { $0.cdf.map { Float($0) } } // not map(Float.init): that picks init(bitPattern:)
        return [
            .init(name: "\(prefix).offsets", shape: [tables.count], values: tables.map { Float($0.offset) }),
            .init(name: "\(prefix).lengths", shape: [tables.count], values: tables.map { Float($0.cdf.count) }),
            .init(name: "\(prefix).cdf", shape: [cdf.count], values: cdf),
        ]
    }

    public static func read(_ file: ModelFile, channels: Int, prefix: String = "entropy") throws -> [QuantizedCDF] {
        guard let offsets = file["\(prefix).offsets"], let lengths = file["\(prefix).lengths"], let cdf = file["\(prefix).cdf"] else {
            throw CodecError.missingTables
        }
        // Every float must be an exact integer in range: the file may be damaged or hostile.
        let counts = lengths.values.map { Int(exactly: $0) }
        guard offsets.values.count == channels, counts.count == channels, counts.allSatisfy({ ($0 ?? 0) >= 2 }),
              counts.reduce(0, { $0 + ($1 ?? 0) }) == cdf.values.count else {
            throw CodecError.notACodecModel("entropy tables do not match \(channels) latent channels")
        }
        var start = 0
        return try (0..<channels).map { c in
            let n = counts[c]!
            defer { start += n }
            guard let offset = Int32(exactly: offsets.values[c]) else { throw CodecError.notACodecModel("entropy table \(c) has an invalid offset") }
            let entries = cdf.values[start..<(start + n)].compactMap { UInt32(exactly: $0) }
            guard entries.count == n else { throw CodecError.notACodecModel("entropy table \(c) has invalid entries") }
            return try QuantizedCDF(offset: offset, cdf: entries)
        }
    }
}
