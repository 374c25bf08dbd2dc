/// Why bytes are not a valid `.vlat` file. Every case is one line of text.
public enum ContainerError: Error, Equatable, CustomStringConvertible {
    case notVlat
    case truncated(at: Int)
    case badChecksum(chunk: String, offset: Int)
    case invalidChunkType(offset: Int)
    case chunkTooLarge(chunk: String, length: Int, limit: Int)
    case unsupportedVersion(major: Int, minor: Int)
    case unknownCriticalChunk(String)
    case missingChunk(String)
    case duplicateChunk(String)
    case misplacedChunk(String)
    case invalidHeader(String)
    case invalidChunk(chunk: String, reason: String)
    case trailingData(bytes: Int)
    case overLimit(String)

    public var description: String {
        switch self {
        case .notVlat: return "not a .vlat file (bad signature)"
        case .truncated(let offset): return "file is truncated (data ends at byte \(offset))"
        case .badChecksum(let chunk, let offset): return "checksum mismatch in chunk '\(chunk)' at byte \(offset): the file is corrupt"
        case .invalidChunkType(let offset): return "invalid chunk type at byte \(offset): the file is corrupt"
        case .chunkTooLarge(let chunk, let length, let limit):
            return "chunk '\(chunk)' claims \(length) bytes, over the limit of \(limit)"
        case .unsupportedVersion(let major, let minor):
            return "format version \(major).\(minor) is newer than this vlat reads (\(ContainerHeader.formatMajor).x); upgrade vlat"
        case .unknownCriticalChunk(let type): return "unknown critical chunk '\(type)': written by a newer vlat?"
        case .missingChunk(let type): return "required chunk '\(type)' is missing"
        case .duplicateChunk(let type): return "chunk '\(type)' appears more than once"
        case .misplacedChunk(let type): return "chunk '\(type)' is out of order"
        case .invalidHeader(let reason): return "invalid header: \(reason)"
        case .invalidChunk(let chunk, let reason): return "invalid chunk '\(chunk)': \(reason)"
        case .trailingData(let n): return "\(n) unexpected bytes after the end chunk"
        case .overLimit(let reason): return reason
        }
    }
}
