/// A failure reading or writing a file, with a one-line description for the command line.
public enum FileError: Error, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case isDirectory(path: String)
    case tooLarge(path: String, size: Int, limit: Int)
    case exists(path: String)
    case wouldOverwriteInput(path: String)
    case system(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .notFound(let path): return "\(path): no such file"
        case .isDirectory(let path): return "\(path): is a directory"
        case .tooLarge(let path, let size, let limit):
            return "\(path): file is \(size) bytes, over the limit of \(limit)"
        case .exists(let path): return "\(path): already exists (use --force to overwrite)"
        case .wouldOverwriteInput(let path): return "\(path): output would overwrite an input file"
        case .system(let path, let operation, let code):
            return "\(path): \(operation) failed: \(String(cString: strerror(code)))"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
