import Foundation
import Testing
import VlatFiles
import VlatImageIO
import VlatTensor
import VlatTestSupport
@testable import VlatCodec

/// The codec's transforms in bands must give the whole-image pass's values: the same latents
/// from the analysis, the same 8-bit pixels from the synthesis.
@Suite("Banded transforms")
struct BandedTransformsTests {
    /// A photo made taller than wide (several bands at a small budget), with a height and a
    /// width that are not multiples of 16.
    static let image: Image = {
        let full = try! ImageFile.read(TestPaths.path("Corpus/photos/astronaut.png")).toRGB()
        let (w, h) = (90, 203)
        var pixels: [UInt8] = []
        for y in 0..<h { pixels += full.pixels[((y * full.width + 100) * 3)..<((y * full.width + 100 + w) * 3)] }
        return Image(width: w, height: h, layout: .rgb, pixels: pixels)
    }()

    @Test(arguments: [false, true])
    func bandsGiveTheWholeImagesLatentsAndPixels(grey: Bool) throws {
        let model = try CodecModel(bytes: FileReader.read(TestPaths.path("Sources/VlatCodec/Models/hyperprior.vlatmodel"))).atQuality(5)
        let hyper = try #require(model.hyperprior)
        let net = hyper.network
        var image = Self.image
        if grey { image = Image(width: image.width, height: image.height, layout: .grey, pixels: stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0] }) }
        net.setLevels([4])
        let whole = net.analysis.forward(ImageCodec.paddedTensor(image), training: false)
        // Budgets from one band per 16 rows up to the whole image in one band.
        for budget in [1, 200_000, 1 << 30] {
            let banded = BandedTransforms.analyze(image, with: net.analysis, channels: net.config.channels, budget: budget)
            #expect(banded.shape == whole.shape && banded.data == whole.data, "analysis, budget \(budget)")
        }
        var latent = whole
        for i in 0..<latent.count { latent.data[i] = latent.data[i].rounded() }
        let out = TensorOps.crop(net.synthesis.forward(latent, training: false), height: image.height, width: image.width)
        let expected = ImageTensor.rgb(from: out, grey: grey)
        for budget in [1, 200_000, 1 << 30] {
            let rgb = BandedTransforms.synthesize(latent, with: net.synthesis, channels: net.config.channels, width: image.width,
                                                  height: image.height, grey: grey, budget: budget)
            #expect(rgb == expected, "synthesis, budget \(budget)")
        }
    }

    @Test func theMemoryEstimateCountsTheBandNotTheImageButAtLeastSixteenRows() throws {
        let model = try CodecModel(bytes: FileReader.read(TestPaths.path("Sources/VlatCodec/Models/hyperprior.vlatmodel")))
        let n = model.network.config.channels
        // Tall: the bands' share stays fixed as the image grows.
        let a = ImageCodec.requiredMemory(width: 1024, height: 16_384, model: model)
        let b = ImageCodec.requiredMemory(width: 1024, height: 32_768, model: model)
        let c = ImageCodec.requiredMemory(width: 1024, height: 65_536, model: model)
        #expect(c - b == 2 * (b - a))
        #expect(b - a < 1024 * 16_384 * 2 * n / 4, "far under the whole-image activations' growth")
        // Wide: a band is at least 16 full rows, however wide the image.
        let wide = ImageCodec.requiredMemory(width: 1 << 20, height: 16, model: model)
        #expect(wide >= 16 * (1 << 20) * 2 * n)
    }

    @Test func smallBudgetsMakeSeveralBands() {
        #expect(BandedTransforms.bandRows(bytesPerRow: 1000, budget: 1) == 16)
        #expect(BandedTransforms.bandRows(bytesPerRow: 1000, budget: 100_000) == 96)
        #expect(BandedTransforms.bandRows(bytesPerRow: 96 * 12000 * 2, budget: BandedTransforms.bandBytes) == 16)
    }
}
