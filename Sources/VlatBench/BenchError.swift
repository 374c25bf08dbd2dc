/// Why a bench run could not go on.
public enum BenchError: Error, Equatable, CustomStringConvertible {
    case noImages(String)
    case toolMissing(String)
    case toolFailed(tool: String, status: Int32, message: String)
    case unknownCodec(String)
    case badQuotedCurve(String, String)

    public var description: String {
        switch self {
        case .noImages(let dir): return "\(dir): no PNG or JPEG images found"
        case .toolMissing(let tool): return "\(tool) is not installed"
        case .toolFailed(let tool, let status, let message): return "\(tool) exited with status \(status): \(message)"
        case .unknownCodec(let name): return "unknown codec '\(name)' (known: jpeg, webp, avif, jxl, vlat, vlat-rans, vlat-ctx, vlat-zstd, vlat-refined)"
        case .badQuotedCurve(let path, let why): return "\(path): \(why)"
        }
    }
}
