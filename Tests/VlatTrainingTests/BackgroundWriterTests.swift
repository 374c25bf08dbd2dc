import Foundation
import Testing
@testable import VlatTraining

@Suite("A run's background saves")
struct BackgroundWriterTests {
    /// Saves land whole and in order (the later one wins), and a failed write is thrown by the
    /// next call, not lost.
    @Test func writesInOrderAndReportsFailures() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vlat-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = BackgroundWriter()
        let a = dir.appendingPathComponent("a").path, b = dir.appendingPathComponent("b").path
        let big = [UInt8](repeating: 7, count: 8 << 20)
        try writer.write([(big, a), ([1, 2, 3], b)])
        try writer.write([([4, 5], a)])
        try writer.wait()
        #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data([4, 5]))
        #expect(try Data(contentsOf: URL(fileURLWithPath: b)) == Data([1, 2, 3]))

        try writer.write([([9], dir.appendingPathComponent("missing/c").path)])
        #expect(throws: (any Error).self) { try writer.wait() }
        try writer.wait() // reported once
    }
}
