import VlatTestSupport
import Foundation
import VlatImageIO

/// Paths into Corpus/ and the pixel formulas Scripts/make_corpus.py used to generate it.
enum Fixtures {
    static let root = TestPaths.packageRoot
    static func generated(_ name: String) -> String { root.appendingPathComponent("Corpus/generated/\(name)").path }
    static func photo(_ name: String) -> String { root.appendingPathComponent("Corpus/photos/\(name)").path }
    static func bytes(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path)!) }

    static let width = 33, height = 17

    static func v8(_ x: Int, _ y: Int, _ c: Int) -> UInt8 { UInt8((x * 7 + y * 13 + c * 50) % 256) }
    static func v16(_ x: Int, _ y: Int, _ c: Int) -> Int { (x * 1031 + y * 2053 + c * 12345) % 65536 }
    /// The 16-bit formula reduced to 8 bits by correct rounding, computed in floating point as an
    /// independent check of the integer formula in the decoder.
    static func v16to8(_ x: Int, _ y: Int, _ c: Int) -> UInt8 {
        UInt8((Double(v16(x, y, c)) * 255.0 / 65535.0).rounded(.toNearestOrAwayFromZero))
    }
    static func vlow(_ x: Int, _ y: Int, bits: Int) -> Int { (x + 2 * y) % (1 << bits) }
    static func paletteEntry(_ i: Int) -> [UInt8] { [UInt8((i * 37) % 256), UInt8((i * 91) % 256), UInt8((i * 53) % 256)] }
    static func paletteAlpha(_ i: Int) -> UInt8 { i < 10 ? UInt8((i * 17) % 256) : 255 }
    static func smooth(_ x: Int, _ y: Int, _ c: Int) -> Double {
        (128 + 100 * sin(Double(x) / 7 + Double(c)) * cos(Double(y) / 9)).rounded()
    }

    /// Expected decoded samples for a generator formula over the 33x17 fixtures.
    static func expected(channels: Int, _ f: (Int, Int, Int) -> UInt8) -> [UInt8] {
        var out: [UInt8] = []
        for y in 0..<height { for x in 0..<width { for c in 0..<channels { out.append(f(x, y, c)) } } }
        return out
    }
}
