import Testing
import VlatTensor
import VlatImageIO

@Suite("PNG decoding of every colour type and bit depth")
struct PNGDecodeTests {
    @Test(arguments: [1, 2, 4])
    func lowBitGreyIsScaledTo8Bits(bits: Int) throws {
        let image = try ImageFile.read(Fixtures.generated("png_grey\(bits).png"))
        #expect(image.layout == .grey)
        #expect(image.source.bitDepth == bits && image.source.colorType == .grey)
        let scale = 255 / ((1 << bits) - 1)
        #expect(image.pixels == Fixtures.expected(channels: 1) { x, y, _ in UInt8(Fixtures.vlow(x, y, bits: bits) * scale) })
    }

    @Test func grey8() throws {
        let image = try ImageFile.read(Fixtures.generated("png_grey8.png"))
        #expect(image.layout == .grey && image.width == 33 && image.height == 17)
        #expect(image.pixels == Fixtures.expected(channels: 1, Fixtures.v8))
        #expect(!image.source.wasReducedTo8Bit)
    }

    @Test(arguments: ["png_grey16.png", "png_grey16_interlaced.png"])
    func grey16IsRoundedTo8Bits(name: String) throws {
        let image = try ImageFile.read(Fixtures.generated(name))
        #expect(image.layout == .grey && image.source.bitDepth == 16 && image.source.wasReducedTo8Bit)
        #expect(image.pixels == Fixtures.expected(channels: 1, Fixtures.v16to8))
        #expect(image.source.interlaced == name.contains("interlaced"))
    }

    @Test(arguments: [(PixelLayout.greyAlpha, "greyalpha"), (.rgb, "rgb"), (.rgba, "rgba")])
    func eightAndSixteenBit(layout: PixelLayout, stem: String) throws {
        // Grey+alpha fixtures store channels 0 and 3 of the formula.
        let channelMap = layout == .greyAlpha ? [0, 3] : Array(0..<layout.channels)
        let eight = try ImageFile.read(Fixtures.generated("png_\(stem)8.png"))
        #expect(eight.layout == layout)
        #expect(eight.pixels == Fixtures.expected(channels: layout.channels) { x, y, c in Fixtures.v8(x, y, channelMap[c]) })
        let sixteen = try ImageFile.read(Fixtures.generated("png_\(stem)16.png"))
        #expect(sixteen.layout == layout && sixteen.source.bitDepth == 16)
        #expect(sixteen.pixels == Fixtures.expected(channels: layout.channels) { x, y, c in Fixtures.v16to8(x, y, channelMap[c]) })
    }

    @Test(arguments: [4, 8])
    func paletteWithTransparencyBecomesRGBA(bits: Int) throws {
        let image = try ImageFile.read(Fixtures.generated("png_palette\(bits)_trns.png"))
        #expect(image.layout == .rgba && image.source.colorType == .palette && image.source.bitDepth == bits)
        #expect(image.pixels == Fixtures.expected(channels: 4) { x, y, c in
            let i = (x + 3 * y) % 16
            return c < 3 ? Fixtures.paletteEntry(i)[c] : Fixtures.paletteAlpha(i)
        })
    }

    @Test func opaquePaletteBecomesRGB() throws {
        let image = try ImageFile.read(Fixtures.generated("png_palette1.png"))
        #expect(image.layout == .rgb && image.source.colorType == .palette && image.source.bitDepth == 1)
        #expect(image.pixels == Fixtures.expected(channels: 3) { x, y, c in Fixtures.paletteEntry((x + 3 * y) % 2)[c] })
    }

    @Test func interlacedMatchesProgressiveRows() throws {
        let image = try ImageFile.read(Fixtures.generated("png_rgb8_interlaced.png"))
        #expect(image.source.interlaced)
        #expect(image.pixels == Fixtures.expected(channels: 3, Fixtures.v8))
    }

    @Test func iccProfileIsRead() throws {
        let image = try ImageFile.read(Fixtures.generated("png_rgb8_icc.png"))
        #expect(image.iccProfile == Fixtures.bytes(Fixtures.generated("srgb.icc")))
        #expect(image.pixels == Fixtures.expected(channels: 3, Fixtures.v8))
    }

    @Test(arguments: [("size_1x1.png", 1, 1), ("size_17x9.png", 17, 9), ("size_4097x3.png", 4097, 3)])
    func oddSizes(name: String, width: Int, height: Int) throws {
        let image = try ImageFile.read(Fixtures.generated(name))
        #expect(image.width == width && image.height == height && image.layout == .rgb)
    }
}

@Suite("PNG encoding")
struct PNGEncodeTests {
    @Test(arguments: PixelLayout.allCases)
    func roundTripIsExact(layout: PixelLayout) throws {
        var generator = SeededGenerator(seed: UInt64(layout.rawValue))
        let w = 19, h = 7
        let pixels = (0..<(w * h * layout.channels)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let image = Image(width: w, height: h, layout: layout, pixels: pixels)
        let back = try PNGCodec.decode(PNGCodec.encode(image))
        #expect(back.layout == layout && back.pixels == pixels)
    }

    @Test func iccProfileIsWrittenAndReadBack() throws {
        let source = try ImageFile.read(Fixtures.generated("png_rgb8_icc.png"))
        let back = try PNGCodec.decode(PNGCodec.encode(source))
        #expect(back.iccProfile == source.iccProfile && back.iccProfile != nil)
    }
}

