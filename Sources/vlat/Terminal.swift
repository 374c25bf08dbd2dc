#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation

/// Messages for people on standard error: notes, and a progress line that rewrites itself on a
/// terminal and prints plain lines (at most one per `every` updates) when redirected.
struct Terminal {
    /// Serialises writes to standard error, so a note never splits the live status line.
    static let lock = NSLock()
    /// The `Activity` line on screen, if any: cleared before a note and drawn again after it.
    nonisolated(unsafe) static var liveLine: String?

    /// Writes to file descriptor 2 directly (the C `stderr` global is not concurrency-safe).
    static func printError(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        if let line = liveLine {
            writeRaw("\r\u{1B}[K" + text + line)
        } else {
            writeRaw(text)
        }
    }

    /// Replaces the live status line (nil clears it).
    static func setLiveLine(_ line: String?) {
        lock.lock()
        defer { lock.unlock() }
        writeRaw("\r\u{1B}[K" + (line ?? ""))
        liveLine = line
    }

    private static func writeRaw(_ text: String) {
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

    /// A status line for work that takes more than a second: the files finished, those in
    /// progress and the time so far, redrawn four times a second. Shown only when standard error
    /// is a terminal and the command is not --quiet; notes printed meanwhile appear above it.
    ///
    /// ```
    /// [3/24] IMG_0042.png, IMG_0043.png · 7.4 s
    /// ```
    final class Activity: @unchecked Sendable {
        private let total: Int
        private let start = ContinuousClock.now
        private let state = NSLock()
        private var done = 0
        private var active: [Int: String] = [:]
        private var timer: DispatchSourceTimer?

        /// Nil when no status line should be drawn.
        init?(total: Int) {
            guard Terminal.stderrIsTerminal, Terminal.verbosity >= .normal else { return nil }
            self.total = total
            let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
            timer.schedule(deadline: .now() + 1, repeating: 0.25)
            timer.setEventHandler { [weak self] in self?.draw() }
            self.timer = timer
            timer.resume()
        }

        func begin(_ index: Int, _ name: String) {
            state.lock(); active[index] = (name as NSString).lastPathComponent; state.unlock()
        }

        func end(_ index: Int) {
            state.lock(); active[index] = nil; done += 1; state.unlock()
        }

        /// Stops drawing and clears the line.
        func finish() {
            timer?.cancel()
            timer = nil
            if Terminal.liveLine != nil { Terminal.setLiveLine(nil) }
        }

        private func draw() {
            state.lock()
            let names = active.keys.sorted().compactMap { active[$0] }.joined(separator: ", ")
            let line = (total > 1 ? "[\(done)/\(total)] " : "") + names
            state.unlock()
            let d = ContinuousClock.now - start
            let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
            Terminal.setLiveLine(line + String(format: " · %.1f s", seconds))
        }
    }

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
