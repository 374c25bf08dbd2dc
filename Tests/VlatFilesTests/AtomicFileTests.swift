import Foundation
import Testing
@testable import VlatFiles

@Suite("Atomic, no-clobber file writing and bounded reading")
struct AtomicFileTests {
    func scratch() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vlat-files-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    func leftovers(_ dir: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { $0.hasPrefix(".vlat-tmp") } ?? []
    }

    @Test func writesAndRefusesToOverwrite() throws {
        let dir = scratch(), path = dir + "/a.bin"
        try AtomicFile.write([1, 2, 3], to: path, overwrite: false)
        #expect(try FileReader.read(path) == [1, 2, 3])
        #expect(throws: FileError.exists(path: path)) { try AtomicFile.write([9], to: path, overwrite: false) }
        #expect(try FileReader.read(path) == [1, 2, 3])
        try AtomicFile.write([4], to: path, overwrite: true)
        #expect(try FileReader.read(path) == [4])
        #expect(leftovers(dir).isEmpty)
    }

    @Test func neverOverwritesAnInputEvenWithForce() throws {
        let dir = scratch(), path = dir + "/in.png"
        try AtomicFile.write([1], to: path, overwrite: false)
        #expect(throws: FileError.wouldOverwriteInput(path: dir + "/./in.png")) {
            try AtomicFile.write([2], to: dir + "/./in.png", overwrite: true, inputs: [path])
        }
        #expect(try FileReader.read(path) == [1])
    }

    @Test func failedWriteLeavesNothingBehind() throws {
        let dir = scratch()
        #expect(throws: FileError.self) { try AtomicFile.write([1], to: dir + "/missing/x.bin", overwrite: false) }
        #expect(throws: FileError.self) { try AtomicFile.write([1], to: dir, overwrite: true) } // a directory
        #expect(leftovers(dir).isEmpty)
    }

    @Test func readLimitsAndErrors() throws {
        let dir = scratch(), path = dir + "/big.bin"
        try AtomicFile.write([UInt8](repeating: 0, count: 1000), to: path, overwrite: false)
        #expect(throws: FileError.tooLarge(path: path, size: 1000, limit: 999)) { try FileReader.read(path, limit: 999) }
        #expect(throws: FileError.notFound(path: dir + "/nope")) { try FileReader.read(dir + "/nope") }
        #expect(throws: FileError.isDirectory(path: dir)) { try FileReader.read(dir) }
    }

    @Test func signalCleanupRemovesRegisteredFilesOnly() throws {
        let dir = scratch()
        try AtomicFile.write([UInt8](repeating: 1, count: 1 << 20), to: dir + "/big.bin", overwrite: false)
        #expect(leftovers(dir).isEmpty)
        // What the signal handler does, on a table of the test's own (the shared one belongs to
        // writes running in parallel): unlink every registered file, and nothing else.
        let table = TemporaryFiles(capacity: 4)
        let stray = dir + "/.vlat-tmp-test", kept = dir + "/kept.bin"
        for path in [stray, kept] { FileManager.default.createFile(atPath: path, contents: Data([1])) }
        let slot = try #require(table.register(Array(stray.utf8CString)))
        #expect(table.registeredCount == 1)
        table.removeAllNow()
        #expect(!FileManager.default.fileExists(atPath: stray) && FileManager.default.fileExists(atPath: kept))
        table.unregister(slot)
        #expect(table.registeredCount == 0)
        // Slots are reused, and a full table degrades to no registration rather than failing.
        var slots: [Int] = []
        while let s = table.register(Array("/nonexistent/x".utf8CString)) { slots.append(s) }
        #expect(slots == [0, 1, 2, 3])
        table.unregister(2)
        #expect(table.register(Array("/nonexistent/y".utf8CString)) == 2)
        #expect(table.register([65, 66]) == nil) // not NUL-terminated
    }
}
