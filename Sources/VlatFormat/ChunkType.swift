/// A four-letter chunk name. As in PNG, the case of the first letter says what a reader that does
/// not know the chunk must do: upper case is critical (refuse the file), lower case is ancillary
/// (skip it).
public struct ChunkType: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(_ name: String) {
        precondition(name.utf8.count == 4)
        bytes = Array(name.utf8)
    }

    init?(raw: ArraySlice<UInt8>) {
        // Letters only, so a corrupted type reads as corruption rather than as a new chunk.
        guard raw.count == 4, raw.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }) else {
            return nil
        }
        bytes = Array(raw)
    }

    public var isCritical: Bool { bytes[0] & 0x20 == 0 }
    public var description: String { String(decoding: bytes, as: UTF8.self) }

    /// The header: version and image/latent description. First chunk, exactly one.
    public static let head = ChunkType("HEAD")
    /// Entropy-coded latents. One or more; their contents concatenate.
    public static let data = ChunkType("DATA")
    /// The detail layer (version 1.2): a residual coded beside the latents. Critical, after
    /// DATA; several concatenate.
    public static let detail = ChunkType("DETL")
    /// End marker, empty. Last chunk; nothing may follow.
    public static let tail = ChunkType("TAIL")
    /// ICC profile, raw bytes. Ancillary, at most one (of `iccp` and `iccz` together).
    public static let icc = ChunkType("iccp")
    /// ICC profile, compressed (method, size, data). Ancillary, version 1.1.
    public static let compressedICC = ChunkType("iccz")
    /// EXIF, compressed. Ancillary, at most one, version 1.1.
    public static let exif = ChunkType("exif")
    /// XMP packet, compressed. Ancillary, at most one, version 1.1.
    public static let xmp = ChunkType("xmpp")
    /// Alpha plane. Ancillary, at most one.
    public static let alpha = ChunkType("alph")
}
