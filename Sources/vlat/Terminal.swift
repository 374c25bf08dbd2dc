#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Messages for people on standard error: notes, and a progress line that rewrites itself on a
/// terminal and prints plain lines (at most one per `every` updates) when redirected.
struct Terminal {
    /// Writes to file descriptor 2 directly (the C `stderr` global is not concurrency-safe).
    static func printError(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// How much commands print besides errors.
    enum Verbosity: Int, Comparable {
        case quiet, normal, verbose
        static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }
    /// Set once from the command line before any work starts.
    nonisolated(unsafe) static var verbosity = Verbosity.normal

    /// A line for people, unless --quiet.
    static func note(_ text: String) {
        if verbosity >= .normal { printError("note: \(text)\n") }
    }

    /// A line only with --verbose.
    static func detail(_ text: String) {
        if verbosity >= .verbose { printError("note: \(text)\n") }
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }

    final class Progress {
        private let live = Terminal.stderrIsTerminal
        private var lastLine = ""
        private var count = 0
        private let every: Int

        init(every: Int = 25) { self.every = every }

        func update(_ line: String) {
            count += 1
            if live {
                Terminal.printError("\r\u{1B}[K\(line)")
            } else if (count - 1) % every == 0 {
                Terminal.printError("\(line)\n")
            }
            lastLine = line
        }

        func finish() {
            if live && !lastLine.isEmpty { Terminal.printError("\r\u{1B}[K") }
        }
    }
}
