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

    static func note(_ text: String) {
        printError("note: \(text)\n")
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
