import Foundation
import Testing
import VlatFiles

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
}
