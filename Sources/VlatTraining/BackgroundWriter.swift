import Dispatch
import VlatFiles

/// Writes a run's saves (checkpoint, best checkpoint, model file) on a queue of their own, so
/// that training goes on while their tens of megabytes reach the disk.
///
/// One save is in flight at a time: `write` first waits for the one before (bounding memory,
/// keeping the files in order) and throws its error, if it had one. `wait()` does the same, and
/// a run calls it before it returns, so that its files are all written when it ends.
final class BackgroundWriter: @unchecked Sendable {
    private let queue = DispatchQueue(label: "vlat.save")
    private let group = DispatchGroup()
    /// The last failed write's error; set on `queue`, read after `group` is done.
    private var failure: (any Error)?

    /// Writes each `(bytes, path)` in order, each atomically (`AtomicFile`), after the previous call's.
    func write(_ files: [(bytes: [UInt8], path: String)]) throws {
        try wait()
        queue.async(group: group) {
            do {
                for file in files { try AtomicFile.write(file.bytes, to: file.path, overwrite: true) }
            } catch {
                self.failure = error
            }
        }
    }

    /// Returns when every write has finished; throws the error of one that failed.
    func wait() throws {
        group.wait()
        let failure = queue.sync { () -> (any Error)? in
            defer { self.failure = nil }
            return self.failure
        }
        if let failure { throw failure }
    }
}
