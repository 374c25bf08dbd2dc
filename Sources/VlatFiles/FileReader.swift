#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads whole files with a size limit checked before anything is allocated, so a huge or
/// endless input (a device, a FIFO that never closes) cannot exhaust memory.
public enum FileReader {
    /// The default cap on any single input file: 1 GiB.
    public static let defaultLimit = 1 << 30

    /// A test of a file's first bytes, run as soon as `count` bytes (or the whole file, if it is
    /// shorter) are in, so that a wrong kind of input is refused before the rest is read.
    public struct PrefixCheck: Sendable {
        public var count: Int
        public var check: @Sendable ([UInt8]) throws -> Void

        public init(count: Int, check: @escaping @Sendable ([UInt8]) throws -> Void) {
            self.count = count
            self.check = check
        }
    }

    /// Reads `path` completely. `"-"` reads standard input.
    public static func read(_ path: String, limit: Int = defaultLimit, prefix: PrefixCheck? = nil) throws -> [UInt8] {
        if path == "-" { return try readAll(fd: STDIN_FILENO, path: "<stdin>", limit: limit, prefix: prefix) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            throw code == ENOENT ? FileError.notFound(path: path) : .system(path: path, operation: "open", errno: code)
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw FileError.system(path: path, operation: "stat", errno: errno) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw FileError.isDirectory(path: path) }
        if (info.st_mode & S_IFMT) == S_IFREG && Int(info.st_size) > limit {
            throw FileError.tooLarge(path: path, size: Int(info.st_size), limit: limit)
        }
        return try readAll(fd: fd, path: path, limit: limit, prefix: prefix)
    }

    private static func readAll(fd: Int32, path: String, limit: Int, prefix: PrefixCheck?) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var prefix = prefix
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.system(path: path, operation: "read", errno: errno)
            }
            if n == 0 {
                try prefix?.check(bytes)
                return bytes
            }
            if bytes.count + n > limit { throw FileError.tooLarge(path: path, size: bytes.count + n, limit: limit) }
            bytes.append(contentsOf: chunk[0..<n])
            if let check = prefix, bytes.count >= check.count {
                try check.check(Array(bytes[0..<check.count]))
                prefix = nil
            }
        }
    }
}
