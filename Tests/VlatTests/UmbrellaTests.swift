import Foundation
import Testing
import Vlat

/// The "Using vlat from Swift" example (docs/SWIFT.md), through the one import users write.
@Suite("import Vlat")
struct UmbrellaTests {
    @Test func theReadmeExampleRunsThroughOneImport() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let model = try ModelRegistry(folders: []).model(quality: 4)
        let image = try ImageFile.read(root.appendingPathComponent("Corpus/photos/chelsea.png").path)
        let bytes = try ImageCodec.encode(image, model: model).serialized()
        let restored = try ImageCodec.decode(Container.parse(bytes), model: model)
        #expect(restored.width == image.width && restored.height == image.height)
        let psnr = try PSNR.compute(reference: image, distorted: restored)
        #expect(psnr.rgb > 25, "\(psnr.rgb)")
    }
}

/// `Codec`, the few-line entry point for the common jobs.
@Suite("Codec")
struct CodecFacadeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    @Test func compressesAtAQualityAndDecompressesByDigest() throws {
        let codec = Codec()
        let image = try ImageFile.read(Self.path("Corpus/photos/chelsea.png"))
        let bytes = try codec.compress(image, quality: 3)
        // The same bytes the lower-level call makes, and the same pixels back.
        let model = try ModelRegistry(folders: []).model(quality: 3)
        #expect(bytes == (try ImageCodec.encode(image, model: model).serialized()))
        let back = try codec.decompress(bytes)
        #expect(back == (try ImageCodec.decode(Container.parse(bytes), model: model)))
        // From a file: read upright with its metadata, then the same as from the image.
        #expect(try codec.compress(file: Self.path("Corpus/photos/chelsea.png"), quality: 3) == bytes)
        #expect(throws: (any Error).self) { try codec.decompress(Array(bytes.dropLast(3))) }
    }

    @Test func landsUnderATargetSize() throws {
        let codec = Codec()
        let image = try ImageFile.read(Self.path("Corpus/photos/coffee.png"))
        let pick = try codec.compress(image, underBitsPerPixel: 0.5)
        let bpp = Double(pick.bytes.count * 8) / Double(image.pixelCount)
        #expect(pick.fits && bpp <= 0.5)
        // The next quality up would not have fitted.
        if pick.quality < 8 {
            let above = try codec.compress(image, quality: pick.quality + 1)
            #expect(Double(above.count * 8) / Double(image.pixelCount) > 0.5)
        }
        let tiny = try codec.compress(image, underBitsPerPixel: 0.001)
        #expect(!tiny.fits && tiny.quality == 1)
        // A target above quality 4 lands with the detail layer, within 3 % under it.
        let high = try codec.compress(image, underBitsPerPixel: 1.5)
        let highBpp = Double(high.bytes.count * 8) / Double(image.pixelCount)
        #expect(high.fits && highBpp <= 1.5 && highBpp > 0.97 * 1.5 && high.quality > 4, "\(highBpp) bpp at quality \(high.quality)")
        #expect(try Container.parse(high.bytes).detail != nil)
    }

    @Test func denoisesWithTheInstalledNetwork() throws {
        let image = try ImageFile.read(Self.path("Corpus/generated/gradient_256x192.png"))
        let clean = try Codec().denoise(image, strength: 0)
        #expect(clean.pixels == image.pixels) // strength 0: the input itself
    }
}
