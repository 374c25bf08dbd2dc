import CZstd

/// Why zstd data could not be decoded.
public enum ZstdError: Error, Equatable, CustomStringConvertible {
    case corrupt(String)
    case sizeMismatch(expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .corrupt(let reason): return "corrupt zstd data: \(reason)"
        case .sizeMismatch(let expected, let actual): return "zstd data decodes to \(actual) bytes, expected \(expected)"
        }
    }
}

/// zstd through libzstd, for byte planes whose decoded size the caller already knows (an alpha
/// plane is `width * height` bytes). Decompression writes into a buffer of exactly that size and
/// fails if the frame would produce more, so a small file cannot expand into a large allocation.
public enum Zstd {
    /// Compresses `bytes` into one frame at `level` (1...19; 3 is zstd's default).
    public static func compress(_ bytes: [UInt8], level: Int = 3) -> [UInt8] {
        let bound = ZSTD_compressBound(bytes.count)
        var out = [UInt8](repeating: 0, count: bound)
        let written = out.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in
                ZSTD_compress(dst.baseAddress, bound, src.baseAddress, src.count, Int32(level))
            }
        }
        precondition(ZSTD_isError(written) == 0, "ZSTD_compress cannot fail with a compressBound-sized buffer")
        out.removeLast(out.count - written)
        return out
    }

    /// Decompresses one frame that must decode to exactly `expectedSize` bytes.
    public static func decompress(_ bytes: [UInt8], expectedSize: Int) throws -> [UInt8] {
        let declared = bytes.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        if declared == ZSTD_CONTENTSIZE_ERROR { throw ZstdError.corrupt("not a zstd frame") }
        if declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != UInt64(expectedSize) {
            throw ZstdError.sizeMismatch(expected: expectedSize, actual: Int(clamping: declared))
        }
        var out = [UInt8](repeating: 0, count: max(expectedSize, 1))
        let written = out.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in
                ZSTD_decompress(dst.baseAddress, expectedSize, src.baseAddress, src.count)
            }
        }
        if ZSTD_isError(written) != 0 {
            throw ZstdError.corrupt(String(cString: ZSTD_getErrorName(written)))
        }
        guard written == expectedSize else { throw ZstdError.sizeMismatch(expected: expectedSize, actual: written) }
        out.removeLast(out.count - expectedSize)
        return out
    }
}
