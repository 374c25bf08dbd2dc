import Testing
import VlatFormat

@Suite("model file")
struct ModelFileTests {
    static let values: [Float] = [0, 1, -2.5, 0.1, 1e-3, 3.14159, -65504, 7e-6]

    @Test func float16EntriesRoundTripAndHalveTheSize() throws {
        let f32 = ModelFile(json: "{}", tensors: [.init(name: "w", shape: [2, 4], values: Self.values)])
        let f16 = ModelFile(json: "{}", tensors: [.init(name: "w", shape: [2, 4], values: Self.values, storage: .float16)])
        #expect(f16.tensors[0].storage == .float16)
        // Rounded to nearest float16 at construction, so the parsed copy equals the original.
        #expect(try ModelFile.parse(f16.serialized()) == f16)
        #expect(try ModelFile.parse(f32.serialized()) == f32)
        #expect(f16.tensors[0].values[3] == Float(Float16(0.1)) && f16.tensors[0].values[3] != 0.1)
        for (a, b) in zip(Self.values, f16.tensors[0].values) {
            // float16 keeps 11 significant bits: relative error at most 2^-11 for normal numbers.
            #expect(abs(a - b) <= max(abs(a) * 0x1p-11, 0x1p-25))
        }
        #expect(f32.serialized().count - f16.serialized().count == 2 * Self.values.count)
    }

    @Test func valuesOutsideFloat16KeepFloat32() throws {
        let entry = ModelFile.Entry(name: "t", shape: [3], values: [1, 70000, 2], storage: .float16)
        #expect(entry.storage == .float32 && entry.values == [1, 70000, 2])
        let nan = ModelFile.Entry(name: "t", shape: [1], values: [.nan], storage: .float16)
        #expect(nan.storage == .float32)
    }

    /// A version-1 file (no storage byte, float32 only), as the first release wrote them.
    static func versionOne(_ values: [Float]) -> [UInt8] {
        var bytes = Array("VLATMODL".utf8)
        func u32(_ v: UInt32) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        u32(1); u32(2); bytes += Array("{}".utf8); u32(1)
        bytes += [1, 0, UInt8(ascii: "w"), 1]; u32(UInt32(values.count))
        for v in values { u32(v.bitPattern) }
        return bytes + SHA256.hash(bytes)
    }

    @Test func versionOneIsStillRead() throws {
        let file = try ModelFile.parse(Self.versionOne(Self.values))
        #expect(file.json == "{}" && file.tensors == [.init(name: "w", shape: [8], values: Self.values)])
    }

    /// Version 4: the same body, zstd-compressed, float16 values in byte planes; smaller when
    /// the values repeat, read back equal, its digest over the bytes as stored.
    @Test func compressedFilesRoundTrip() throws {
        let values = (0..<4096).map { Float(Float16(Float($0 % 37) * 0.01)) }
        let file = ModelFile(json: #"{"kind":"x"}"#, tensors: [.init(name: "w", shape: [64, 64], values: values, storage: .float16),
                                                              .init(name: "b", shape: [3], values: [1, 2, 3])])
        let plain = file.serialized(), packed = file.serialized(compressionLevel: 19)
        #expect(packed.count < plain.count / 2)
        #expect(Array(packed[8..<12]) == [4, 0, 0, 0])
        #expect(try ModelFile.parse(packed) == file)
        #expect(ModelFile.digest(of: packed) == SHA256.hash(packed.dropLast(32)))
        // The planes, as FORMAT.md lays them out: every low byte, then every high byte.
        let body = try Zstd.decompress(Array(packed[20..<(packed.count - 32)]), expectedSize: plain.count - 12 - 32)
        let at = 4 + 12 + 4 + 2 + 1 + 1 + 8 + 1
        let bits = values.map { Float16($0).bitPattern }
        #expect(Array(body[at..<(at + 4096)]) == bits.map { UInt8($0 & 0xFF) })
        #expect(Array(body[(at + 4096)..<(at + 8192)]) == bits.map { UInt8($0 >> 8) })
        // Version 3 (the first compressed version: the uncompressed body as it is) is still read.
        var three = Array("VLATMODL".utf8) + [3, 0, 0, 0]
        let uncompressed = Array(plain[12..<(plain.count - 32)])
        for k in 0..<8 { three.append(UInt8(truncatingIfNeeded: UInt64(uncompressed.count) >> (8 * UInt64(k)))) }
        three += Zstd.compress(uncompressed, level: 3)
        three += SHA256.hash(three)
        #expect(try ModelFile.parse(three) == file)
    }

    /// A compressed body that claims more than the expansion bound, or whose frame is damaged
    /// or decodes to another length, is refused before or instead of a large allocation
    /// (each file re-signed, so that only the body is at fault).
    @Test func compressedBombsAndDamageAreRefused() throws {
        let file = ModelFile(json: "{}", tensors: [.init(name: "w", shape: [256], values: (0..<256).map { Float($0) })])
        let packed = file.serialized(compressionLevel: 3)
        func resigned(_ edit: (inout [UInt8]) -> Void) -> [UInt8] {
            var b = Array(packed.dropLast(32))
            edit(&b)
            return b + SHA256.hash(b)
        }
        let frame = packed.count - 32 - 20
        let cases: [[UInt8]] = [
            resigned { b in let n = UInt64(frame * ModelFile.maxExpansion + 1); for k in 0..<8 { b[12 + k] = UInt8(truncatingIfNeeded: n >> (8 * UInt64(k))) } },
            resigned { b in b[12] ^= 1 },                 // another length than the frame's
            resigned { b in b[24] ^= 0x40 },              // inside the frame
            resigned { b in b.removeLast(5) },            // a cut frame
        ]
        for bytes in cases {
            #expect(throws: ModelFileError.self) { try ModelFile.parse(bytes) }
        }
        // A whole bomb: 1 GiB of zeros would compress to about 32 KiB, far beyond the bound.
        let zeros = Zstd.compress([UInt8](repeating: 0, count: 1 << 20), level: 19)
        var bomb = Array("VLATMODL".utf8) + [3, 0, 0, 0] + [0, 0, 16, 0, 0, 0, 0, 0] + zeros
        bomb += SHA256.hash(bomb)
        #expect(throws: ModelFileError.self) { try ModelFile.parse(bomb) }
    }

    @Test func badStorageCodesAndLaterVersionsAreRefused() throws {
        var bytes = ModelFile(json: "{}", tensors: [.init(name: "w", shape: [2], values: [1, 2], storage: .float16)]).serialized()
        bytes.removeLast(32)
        // The storage byte follows the dimensions: magic 8, version 4, JSON 4+2, count 4, name 2+1, rank 1, dim 4.
        let storageAt = 8 + 4 + 4 + 2 + 4 + 3 + 1 + 4
        #expect(bytes[storageAt] == 1)
        var bad = bytes
        bad[storageAt] = 7
        #expect(throws: ModelFileError.malformed("tensor 'w' has storage code 7")) { try ModelFile.parse(bad + SHA256.hash(bad)) }
        var later = bytes
        later[8] = 5
        #expect(throws: ModelFileError.unsupportedVersion(5)) { try ModelFile.parse(later + SHA256.hash(later)) }
    }
}
