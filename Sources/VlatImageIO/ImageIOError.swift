/// Why an image could not be read or written. Each case describes itself in one line.
public enum ImageIOError: Error, Equatable, CustomStringConvertible {
    /// The bytes are not PNG or JPEG; `detected` names the format when it is recognisable.
    case unsupportedFormat(detected: String?)
    /// The file is PNG or JPEG but broken: truncated, bad checksum, invalid data.
    case corrupt(format: String, reason: String)
    /// A valid file in a variant vlat does not handle.
    case unsupported(format: String, reason: String)
    /// Declared dimensions exceed `ImageLimits` (checked before any pixel memory is allocated).
    case tooLarge(String)
    /// The image cannot be written in the requested format (e.g. alpha into JPEG).
    case cannotEncode(reason: String)
    case outOfMemory

    public var description: String {
        switch self {
        case .unsupportedFormat(let detected):
            if let detected { return "unsupported image format (\(detected)); vlat reads PNG and JPEG" }
            return "not a PNG or JPEG image"
        case .corrupt(let format, let reason): return "corrupt \(format): \(reason)"
        case .unsupported(let format, let reason): return "unsupported \(format): \(reason)"
        case .tooLarge(let message): return message
        case .cannotEncode(let reason): return "cannot encode: \(reason)"
        case .outOfMemory: return "out of memory"
        }
    }
}
