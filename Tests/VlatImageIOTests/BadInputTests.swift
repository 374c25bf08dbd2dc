import Testing
import VlatTensor
import VlatImageIO

@Suite("Corrupt, truncated, oversized and foreign inputs")
struct BadInputTests {
    /// zlib CRC-32, for crafting PNG chunks by hand.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return c ^ 0xFFFF_FFFF
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(UInt32(data.count)) + body + be32(crc32(body))
    }

    @Test func everyTruncationOfAPNGIsAnError() throws {
        let data = Fixtures.bytes(Fixtures.generated("png_rgba16.png"))
        for cut in stride(from: 0, to: data.count, by: 7) {
            #expect(throws: ImageIOError.self) { try ImageFile.decode(Array(data[0..<cut])) }
        }
    }

    @Test func everyTruncationOfAJPEGIsAnError() throws {
        let data = Fixtures.bytes(Fixtures.generated("jpeg_progressive.jpg"))
        for cut in stride(from: 0, to: data.count - 2, by: 5) {
            #expect(throws: ImageIOError.self) { try ImageFile.decode(Array(data[0..<cut])) }
        }
    }

    @Test func flippedBitsInPNGImageDataAreCaught() throws {
        let data = Fixtures.bytes(Fixtures.generated("png_rgb8.png"))
        // Past the 8-byte signature, every chunk is CRC-protected (ancillary CRC errors are
        // only warnings in libpng, but these fixtures have none).
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            var copy = data
            let i = Int.random(in: 8..<data.count, using: &generator)
            copy[i] ^= UInt8(1) << UInt8.random(in: 0...7, using: &generator)
            #expect(throws: ImageIOError.self) { try ImageFile.decode(copy) }
        }
    }

    @Test func randomMutationsOfJPEGNeverCrash() throws {
        let data = Fixtures.bytes(Fixtures.generated("jpeg_baseline420.jpg"))
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<300 {
            var copy = data
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                copy[Int.random(in: 0..<copy.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            // Either a valid image of the declared size or a typed error: never a crash.
            do {
                let image = try ImageFile.decode(copy, limits: ImageLimits(maxPixels: 1 << 20))
                #expect(image.pixels.count == image.pixelCount * image.layout.channels)
            } catch {
                #expect(error is ImageIOError)
            }
        }
    }

    @Test func hugePNGDimensionsAreRefusedBeforeAllocating() throws {
        // 100000 x 100000 RGBA16 would need 80 GB; the file is 70 bytes.
        let ihdr = Self.be32(100_000) + Self.be32(100_000) + [16, 6, 0, 0, 0]
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Self.chunk("IHDR", ihdr)
            + Self.chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) + Self.chunk("IEND", [])
        #expect {
            try ImageFile.decode(png)
        } throws: { error in
            "\(error)".contains("over the limit")
        }
    }

    @Test func hugeJPEGDimensionsAreRefusedBeforeAllocating() throws {
        var data = Fixtures.bytes(Fixtures.generated("jpeg_baseline420.jpg"))
        // Patch the SOF0 frame header: FF C0, length(2), precision(1), height(2), width(2).
        let sof = (0..<data.count - 1).first { data[$0] == 0xFF && data[$0 + 1] == 0xC0 }!
        data[sof + 5] = 0xF0; data[sof + 6] = 0x00; data[sof + 7] = 0xF0; data[sof + 8] = 0x00
        #expect {
            try ImageFile.decode(data)
        } throws: { error in
            "\(error)".contains("over the limit")
        }
    }

    @Test func headersDeclareTheirSizeBeforeAnyDecoding() throws {
        // The declared size reaches the caller's check first: a refusal there allocates nothing.
        for path in [Fixtures.photo("chelsea.png"), Fixtures.generated("jpeg_progressive.jpg"), Fixtures.generated("jpeg_icc.jpg")] {
            let data = Fixtures.bytes(path)
            let image = try ImageFile.decode(data, upright: false)
            let size = try #require(ImageFile.dimensions(of: data))
            #expect(size.width == image.width && size.height == image.height, "\(path)")
            struct Refused: Error {}
            #expect(throws: Refused.self) { try ImageFile.decode(data) { _, _ in throw Refused() } }
        }
        var huge = Fixtures.bytes(Fixtures.generated("jpeg_baseline420.jpg"))
        let sof = (0..<huge.count - 1).first { huge[$0] == 0xFF && huge[$0 + 1] == 0xC0 }!
        huge[sof + 5] = 0x3E; huge[sof + 6] = 0x80; huge[sof + 7] = 0x3E; huge[sof + 8] = 0x80
        #expect(ImageFile.dimensions(of: huge)! == (16000, 16000))
        // Truncated or foreign headers give nil, never a crash.
        let png = Fixtures.bytes(Fixtures.photo("chelsea.png"))
        for cut in [0, 8, 20, 23] { #expect(ImageFile.dimensions(of: Array(png[0..<cut])) == nil) }
        for cut in 0..<min(huge.count, 700) { _ = ImageFile.dimensions(of: Array(huge[0..<cut])) }
    }

    @Test func aChunkLongerThanTheFileIsRefusedBeforeLibpngAllocatesIt() throws {
        // 49 bytes declaring a 2 GB zTXt chunk: libpng would allocate the 2 GB before reading
        // (found by libFuzzer; Fuzz/Regressions/FuzzPNG/huge-ztxt-length.png).
        let data = Fixtures.bytes(Fixtures.root.appendingPathComponent("Fuzz/Regressions/FuzzPNG/huge-ztxt-length.png").path)
        #expect { try ImageFile.decode(data) } throws: { "\($0)".contains("declares 2130706432 bytes") }
    }

    @Test func configurableLimit() throws {
        let data = Fixtures.bytes(Fixtures.photo("chelsea.png"))
        #expect(throws: ImageIOError.self) { try ImageFile.decode(data, limits: ImageLimits(maxPixels: 1000)) }
        _ = try ImageFile.decode(data, limits: ImageLimits(maxPixels: 451 * 300))
    }

    @Test(arguments: [("GIF89a....", "GIF"), ("BM......", "BMP"), ("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ", "WebP")])
    func foreignFormatsAreNamed(header: String, name: String) throws {
        #expect {
            try ImageFile.decode(Array(header.utf8) + [UInt8](repeating: 0, count: 32))
        } throws: { error in
            (error as? ImageIOError) == .unsupportedFormat(detected: name)
        }
    }

    @Test func garbageIsNotAnImage() throws {
        #expect(throws: ImageIOError.unsupportedFormat(detected: nil)) { try ImageFile.decode(Array("hello world".utf8)) }
        #expect(throws: ImageIOError.unsupportedFormat(detected: nil)) { try ImageFile.decode([]) }
    }
}
