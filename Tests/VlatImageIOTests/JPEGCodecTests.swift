import Testing
import VlatImageIO

@Suite("JPEG decoding and encoding")
struct JPEGTests {
    /// PSNR of decoded samples against the smooth generator pattern.
    func psnrAgainstPattern(_ image: Image, channels: Int) -> Double {
        var se = 0.0
        var n = 0
        for y in 0..<image.height {
            for x in 0..<image.width {
                for c in 0..<channels {
                    let d = Double(image.pixels[(y * image.width + x) * image.layout.channels + c]) - Fixtures.smooth(x, y, c)
                    se += d * d
                    n += 1
                }
            }
        }
        return 10 * log10(255 * 255 / (se / Double(n)))
    }

    @Test(arguments: ["jpeg_baseline420.jpg", "jpeg_baseline444.jpg", "jpeg_progressive.jpg", "jpeg_icc.jpg"])
    func colourFilesDecodeToThePattern(name: String) throws {
        let image = try ImageFile.read(Fixtures.generated(name))
        #expect(image.layout == .rgb && image.width == 64 && image.height == 48)
        #expect(image.source.format == .jpeg && image.source.colorType == .rgb)
        #expect(image.source.interlaced == (name == "jpeg_progressive.jpg"))
        #expect(psnrAgainstPattern(image, channels: 3) > 38)
    }

    @Test func greyStaysGrey() throws {
        let image = try ImageFile.read(Fixtures.generated("jpeg_grey.jpg"))
        #expect(image.layout == .grey && image.source.colorType == .grey)
        #expect(psnrAgainstPattern(image, channels: 1) > 40)
    }

    @Test func adobeCMYKIsConvertedToRGB() throws {
        let image = try ImageFile.read(Fixtures.generated("jpeg_cmyk_adobe.jpg"))
        #expect(image.layout == .rgb && image.source.colorType == .cmyk)
        // A wrong inversion convention gives the negative image: PSNR near 0 dB, not 35+.
        #expect(psnrAgainstPattern(image, channels: 3) > 35)
    }

    @Test func iccProfileIsReadAndWritten() throws {
        let profile = Fixtures.bytes(Fixtures.generated("srgb.icc"))
        let image = try ImageFile.read(Fixtures.generated("jpeg_icc.jpg"))
        #expect(image.iccProfile == profile)
        let back = try JPEGCodec.decode(JPEGCodec.encode(image, quality: 90))
        #expect(back.iccProfile == profile)
    }

    @Test func encodeQualityAndSubsampling() throws {
        let photo = try ImageFile.read(Fixtures.photo("chelsea.png"))
        let low = try JPEGCodec.encode(photo, quality: 20)
        let high = try JPEGCodec.encode(photo, quality: 90)
        let full = try JPEGCodec.encode(photo, quality: 90, subsampling: .s444)
        #expect(low.count < high.count && high.count < full.count)
        let decoded = try JPEGCodec.decode(high)
        #expect(decoded.width == photo.width && decoded.height == photo.height)
    }

    @Test func alphaCannotBeWrittenAsJPEG() throws {
        let image = Image(width: 2, height: 2, layout: .rgba, pixels: [UInt8](repeating: 9, count: 16))
        #expect(throws: ImageIOError.self) { try JPEGCodec.encode(image, quality: 80) }
    }

    @Test func qualityOutOfRangeIsRefused() throws {
        let image = Image(width: 2, height: 2, layout: .rgb, pixels: [UInt8](repeating: 9, count: 12))
        #expect(throws: ImageIOError.self) { try JPEGCodec.encode(image, quality: 0) }
        #expect(throws: ImageIOError.self) { try JPEGCodec.encode(image, quality: 101) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
