import Testing
import VlatFormat

@Suite("zstd wrapper")
struct ZstdTests {
    @Test(arguments: [0, 1, 100, 65_537])
    func roundTrip(size: Int) throws {
        let data = (0..<size).map { UInt8(truncatingIfNeeded: ($0 * $0) >> 3) }
        for level in [1, 3, 19] {
            let packed = Zstd.compress(data, level: level)
            #expect(try Zstd.decompress(packed, expectedSize: size) == data)
        }
    }

    @Test func compressesRedundantData() {
        #expect(Zstd.compress([UInt8](repeating: 7, count: 100_000)).count < 100)
    }

    @Test func wrongExpectedSizeIsAnError() throws {
        let packed = Zstd.compress([UInt8](repeating: 1, count: 1000))
        #expect(throws: ZstdError.self) { try Zstd.decompress(packed, expectedSize: 999) }
        #expect(throws: ZstdError.self) { try Zstd.decompress(packed, expectedSize: 1001) }
    }

    @Test func bombIsRefusedWithoutAllocatingItsSize() throws {
        // 1 GB of zeros compresses to a few KB; asking for 10 bytes must fail at once.
        let bomb = Zstd.compress([UInt8](repeating: 0, count: 1 << 24))
        #expect(throws: ZstdError.sizeMismatch(expected: 10, actual: 1 << 24)) { try Zstd.decompress(bomb, expectedSize: 10) }
    }

    @Test func corruptionIsAnError() throws {
        var packed = Zstd.compress((0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) })
        #expect(throws: ZstdError.self) { try Zstd.decompress(Array(packed.prefix(packed.count / 2)), expectedSize: 5000) }
        packed[4] ^= 0xFF
        #expect(throws: ZstdError.self) { try Zstd.decompress(packed, expectedSize: 5000) }
        #expect(throws: ZstdError.self) { try Zstd.decompress([1, 2, 3], expectedSize: 5000) }
    }
}
