/// Why a metric could not be computed.
public enum MetricsError: Error, Equatable, CustomStringConvertible {
    case shapeMismatch(String)
    case notEnoughPoints(curve: String, have: Int, need: Int)
    case noOverlap
    case invalidPoint(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let s): return "images differ in shape: \(s)"
        case .notEnoughPoints(let curve, let have, let need):
            return "\(curve) curve has \(have) distinct points, needs at least \(need)"
        case .noOverlap: return "the two rate-distortion curves do not overlap"
        case .invalidPoint(let s): return "invalid rate-distortion point: \(s)"
        }
    }
}
