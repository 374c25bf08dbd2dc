#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The temporary files `AtomicFile` has open, so that SIGINT, SIGTERM or SIGHUP arriving in the
/// middle of a write removes them instead of leaving `.vlat-tmp-*` files beside the outputs.
///
/// A signal handler may only call async-signal-safe functions, so the paths live in fixed slots
/// allocated up front (no Swift allocation, locking or lazy initialisation in the handler): a
/// slot's flag is set after its path is written and cleared before the slot is reused.
///
/// ```swift
/// TemporaryFiles.removeOnSignals()   // once, at start-up; AtomicFile registers its files
/// ```
public final class TemporaryFiles: @unchecked Sendable {
    /// The table `AtomicFile` registers in and the signal handlers empty.
    public static let shared = TemporaryFiles(capacity: 256)

    let capacity: Int
    let pathBytes = Int(PATH_MAX) + 1
    private let flags: UnsafeMutablePointer<sig_atomic_t>
    private let paths: UnsafeMutablePointer<CChar>
    private let lock: UnsafeMutablePointer<pthread_mutex_t>

    init(capacity: Int) {
        self.capacity = capacity
        flags = .allocate(capacity: capacity)
        flags.initialize(repeating: 0, count: capacity)
        paths = .allocate(capacity: capacity * pathBytes)
        paths.initialize(repeating: 0, count: capacity * pathBytes)
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
    }

    /// Installs handlers for SIGINT, SIGTERM and SIGHUP that remove the files registered in
    /// `shared` and then end the process as the signal would have (its default action).
    public static func removeOnSignals() {
        _ = shared // initialised now: lazy initialisation must not first run in a handler
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { sig in
                TemporaryFiles.shared.removeAllNow()
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
    }

    /// Registers `path` (a NUL-terminated C string); returns its slot for `unregister`, or nil
    /// when every slot is taken or the path is too long (the file is then removed only by
    /// `AtomicFile`'s own cleanup).
    func register(_ path: [CChar]) -> Int? {
        guard path.count <= pathBytes, path.last == 0 else { return nil }
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard let slot = (0..<capacity).first(where: { flags[$0] == 0 }) else { return nil }
        path.withUnsafeBufferPointer { (paths + slot * pathBytes).update(from: $0.baseAddress!, count: path.count) }
        publish(slot, 1)
        return slot
    }

    func unregister(_ slot: Int) {
        pthread_mutex_lock(lock)
        publish(slot, 0)
        pthread_mutex_unlock(lock)
    }

    /// Unlinks every registered file. Async-signal-safe: it reads the slots and calls `unlink`.
    func removeAllNow() {
        for slot in 0..<capacity where flags[slot] != 0 {
            unlink(paths + slot * pathBytes)
        }
    }

    /// How many files are registered now.
    var registeredCount: Int {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return (0..<capacity).filter { flags[$0] != 0 }.count
    }

    /// Sets a slot's flag with full fences, so the path's bytes are in place before the flag that
    /// publishes them, as seen from any thread.
    private func publish(_ slot: Int, _ value: sig_atomic_t) {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        flags[slot] = value
        atomicMemoryFence(ordering: .sequentiallyConsistent)
    }
}
