import VlatEntropy
import VlatFormat

/// The integer CDF tables of a rate-distortion model, stored in its model file so that encoder
/// and decoder read the same integers on every machine (recomputing them from the learned
/// density would run `exp` and `log`, whose last bits differ between math libraries).
///
/// Tensors: `entropy.offsets` [C] (the value of each table's first symbol), `entropy.lengths`
/// [C] (CDF entries per table), `entropy.cdf` [sum of lengths] (all CDFs, concatenated). Integers
/// are stored as float32, exact below 2^24.
public enum EntropyTables {
    public static func entries(_ tables: [QuantizedCDF]) -> [ModelFile.Entry] {
        let cdf = tables.flatMap { $0.cdf.map { Float($0) } } // not map(Float.init): that picks init(bitPattern:)
        return [
            .init(name: "entropy.offsets", shape: [tables.count], values: tables.map { Float($0.offset) }),
            .init(name: "entropy.lengths", shape: [tables.count], values: tables.map { Float($0.cdf.count) }),
            .init(name: "entropy.cdf", shape: [cdf.count], values: cdf),
        ]
    }

    public static func read(_ file: ModelFile, channels: Int) throws -> [QuantizedCDF] {
        guard let offsets = file["entropy.offsets"], let lengths = file["entropy.lengths"], let cdf = file["entropy.cdf"] else {
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
