import Testing
@testable import VlatFormat

@Suite("CRC-32 and SHA-256 against published check values")
struct ChecksumTests {
    @Test func crc32CheckValue() {
        // The standard check value for CRC-32/ISO-HDLC (zlib).
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test func crc32IncrementalEqualsOneShot() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var crc = CRC32()
        crc.update(data[0..<333]); crc.update(data[333...])
        #expect(crc.value == CRC32.checksum(data))
    }

    @Test(arguments: [
        // FIPS 180-4 / NIST CSRC example vectors.
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256Vectors(input: String, digest: String) {
        #expect(SHA256.hex(SHA256.hash(Array(input.utf8))) == digest)
        var portable = SHA256(portable: true)
        portable.update(Array(input.utf8))
        #expect(SHA256.hex(portable.finalize()) == digest)
    }

    /// The CPU's SHA extensions (where this machine has them) and the Swift code give the same
    /// digests, over random inputs of every length around the block boundaries and long ones.
    @Test func sha256CPUExtensionsAgreeWithThePortableCode() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func byte() -> UInt8 { state = state &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: state >> 33) }
        for length in Array(0...200) + [1000, 4096, 65_537, 1 << 20] {
            let data = (0..<length).map { _ in byte() }
            var portable = SHA256(portable: true)
            portable.update(data)
            #expect(SHA256.hash(data) == portable.finalize(), "length \(length)")
        }
    }

    /// The same million a's in pieces of every awkward size (partial blocks, exact blocks, one
    /// byte at a time), and from a collection without contiguous storage.
    @Test func sha256PiecesAndNonContiguousInputsAgree() {
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        var hasher = SHA256()
        let sizes = [1, 63, 64, 65, 127, 128, 129, 1000, 4096, 7]
        var left = 1_000_000, k = 0
        while left > 0 {
            let n = min(left, sizes[k % sizes.count])
            hasher.update([UInt8](repeating: 0x61, count: n))
            left -= n; k += 1
        }
        #expect(SHA256.hex(hasher.finalize()) == expected)
        #expect(SHA256.hex(SHA256.hash(repeatElement(UInt8(0x61), count: 1_000_000))) == expected)
        var mixed = SHA256()
        mixed.update([UInt8](repeating: 0x61, count: 100))
        mixed.update(repeatElement(UInt8(0x61), count: 999_900))
        #expect(SHA256.hex(mixed.finalize()) == expected)
    }

    @Test func sha256MillionAs() {
        var hasher = SHA256()
        let block = [UInt8](repeating: 0x61, count: 1000)
        for _ in 0..<1000 { hasher.update(block) }
        #expect(SHA256.hex(hasher.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
