import VlatFormat

/// Repairs of the checksums that guard the formats, so that mutated inputs reach the parsers and
/// decoders behind them instead of stopping at the first checksum.
public enum Checksums {
    /// `bytes` with every whole chunk's CRC-32 recomputed (the walk stops at the first chunk that
    /// does not fit), as a file damaged before it was checksummed would be.
    public static func containerWithFixedCRCs(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        var at = Container.signature.count
        while at + 12 <= out.count {
            let length = Int(out[at + 4]) | Int(out[at + 5]) << 8 | Int(out[at + 6]) << 16 | Int(out[at + 7]) << 24
            guard length <= out.count - at - 12 else { break }
            let crc = CRC32.checksum(out[at..<at + 8 + length])
            for k in 0..<4 { out[at + 8 + length + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
            at += 12 + length
        }
        return out
    }

    /// `bytes` with its trailing SHA-256 recomputed over the rest, as a model file written with
    /// those contents would end.
    public static func modelWithFixedDigest(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count > 32 else { return bytes }
        let body = Array(bytes.dropLast(32))
        return body + SHA256.hash(body)
    }
}
