import VlatFormat

/// How integer latents are laid out for zstd: channel-major planes (neighbouring values of one
/// channel side by side, where zstd finds its matches), zigzag-mapped to unsigned (small
/// magnitudes of either sign become small numbers), in the narrowest of 1, 2 or 4 bytes that
/// holds them all, little-endian. Payload: one byte giving the width, then one zstd frame.
public enum LatentPacking {
    /// zstd level for latents. Level 19 costs tens of milliseconds on a Kodak-sized latent and
    /// saves several percent over the default 3 (see Benchmarks/README.md).
    public static let zstdLevel = 19

    static func zigzag(_ v: Int32) -> UInt32 { UInt32(bitPattern: (v << 1) ^ (v >> 31)) }
    static func unzigzag(_ u: UInt32) -> Int32 { Int32(bitPattern: u >> 1) ^ -Int32(bitPattern: u & 1) }

    public static func pack(_ values: [Int32]) -> [UInt8] {
        let mapped = values.map(zigzag)
        let top = mapped.max() ?? 0
        let width: Int = top < 1 << 8 ? 1 : (top < 1 << 16 ? 2 : 4)
        var raw = [UInt8]()
        raw.reserveCapacity(values.count * width)
        for u in mapped { for b in 0..<width { raw.append(UInt8(truncatingIfNeeded: u >> (8 * UInt32(b)))) } }
        return [UInt8(width)] + Zstd.compress(raw, level: zstdLevel)
    }

    public static func unpack(_ payload: [UInt8], count: Int) throws -> [Int32] {
        guard let width = payload.first.map(Int.init), [1, 2, 4].contains(width) else {
            throw CodecError.corruptPayload("unknown latent byte width")
        }
        let raw: [UInt8]
        do { raw = try Zstd.decompress(Array(payload.dropFirst()), expectedSize: count * width) } catch {
            throw CodecError.corruptPayload("\(error)")
        }
        return (0..<count).map { i in
            var u: UInt32 = 0
            for b in 0..<width { u |= UInt32(raw[i * width + b]) << (8 * UInt32(b)) }
            return unzigzag(u)
        }
    }
}
