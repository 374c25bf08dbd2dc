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

    /// Reads `path` completely. `"-"` reads standard input.
    public static func read(_ path: String, limit: Int = defaultLimit) throws -> [UInt8] {
        if path == "-" { return try readAll(fd: STDIN_FILENO, path: "<stdin>", limit: limit) }
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
        return try readAll(fd: fd, path: path, limit: limit)
    }

    private static func readAll(fd: Int32, path: String, limit: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.system(path: path, operation: "read", errno: errno)
            }
            if n == 0 { return bytes }
            if bytes.count + n > limit { throw FileError.tooLarge(path: path, size: bytes.count + n, limit: limit) }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }
}
