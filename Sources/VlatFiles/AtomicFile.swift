#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that a reader never sees a partial file and an existing file is never
/// replaced by accident.
///
/// The bytes go to a temporary file in the destination's folder, are flushed to disk, and are
/// then moved into place: with `rename` when overwriting is allowed, and with `link` (which fails
/// if the name exists, atomically) when it is not. On any failure the temporary file is removed,
/// and on SIGINT, SIGTERM or SIGHUP too once `TemporaryFiles.removeOnSignals()` is installed.
///
/// ```swift
/// try AtomicFile.write(pngBytes, to: "out.png", overwrite: false)
/// ```
public enum AtomicFile {
    /// Writes `bytes` to `path`. `"-"` writes to standard output instead.
    public static func write(_ bytes: [UInt8], to path: String, overwrite: Bool,
                             inputs: [String] = []) throws {
        if path == "-" {
            try writeAll(fd: STDOUT_FILENO, bytes: bytes, path: "<stdout>")
            return
        }
        if inputs.contains(where: { sameFile($0, path) }) { throw FileError.wouldOverwriteInput(path: path) }
        var info = stat()
        if stat(path, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR { throw FileError.isDirectory(path: path) }
            if !overwrite { throw FileError.exists(path: path) }
        }
        let folder = directoryOf(path)
        var template = Array("\(folder)/.vlat-tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 { throw FileError.system(path: path, operation: "create temporary file", errno: errno) }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // Registered so that a signal mid-write removes it (`TemporaryFiles.removeOnSignals`).
        let slot = TemporaryFiles.shared.register(template)
        var committed = false
        defer {
            if !committed { unlink(temporary) }
            if let slot { TemporaryFiles.shared.unregister(slot) }
        }
        do {
            try writeAll(fd: fd, bytes: bytes, path: path)
            if fsync(fd) != 0 { throw FileError.system(path: path, operation: "fsync", errno: errno) }
            // mkstemp creates 0600; give the file the usual permissions (umask applies).
            let mask = umask(0); umask(mask)
            fchmod(fd, 0o666 & ~mask)
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        if overwrite {
            if rename(temporary, path) != 0 { throw FileError.system(path: path, operation: "rename", errno: errno) }
        } else {
            if link(temporary, path) != 0 {
                let code = errno
                throw code == EEXIST ? FileError.exists(path: path) : .system(path: path, operation: "link", errno: code)
            }
            unlink(temporary)
        }
        committed = true
    }

    /// True when both paths name the same existing file (same device and inode).
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard a != "-", b != "-", stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    static func directoryOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let folder = String(path[..<slash])
        return folder.isEmpty ? "/" : folder
    }

    private static func writeAll(fd: Int32, bytes: [UInt8], path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.system(path: path, operation: "write", errno: errno)
            }
            offset += n
        }
    }
}
