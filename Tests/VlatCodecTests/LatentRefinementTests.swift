import Foundation
import Testing
import VlatFiles
import VlatFormat
import VlatImageIO
import VlatMetrics
import VlatModels
import VlatTensor
import VlatTestSupport
@testable import VlatCodec

/// Latent refinement must lower each image's rate-distortion loss, never raise it, and leave
/// a file the plain decoder reads.
@Suite("Latent refinement")
struct LatentRefinementTests {
    /// The factorized levels (retired from the package, kept for their files).
    static let retired = ModelRegistry(folders: [TestPaths.path("RetiredModels")], environment: [:], includeShipped: false)

    /// A 96x80 crop of a Corpus photo (not a multiple of 16, so padding is exercised).
    static let crop: Image = {
        let full = try! ImageFile.read(TestPaths.path("Corpus/photos/astronaut.png")).toRGB()
        var pixels: [UInt8] = []
        for y in 120..<200 { pixels += full.pixels[((y * full.width + 200) * 3)..<((y * full.width + 296) * 3)] }
        return Image(width: 96, height: 80, layout: .rgb, pixels: pixels)
    }()

    /// The loss computed here, independently of `LatentRefinement.loss`: the decoded 8-bit
    /// image's MSE against the original, and the prior's bits for the coded latents.
    static func loss(_ image: Image, decoded: Image, latent: Tensor, model: CodecModel, lambda: Double) -> Double {
        var se = 0.0
        for (a, b) in zip(image.pixels, decoded.pixels) { se += Double(Int(a) - Int(b)) * Double(Int(a) - Int(b)) }
        let pixels = Double(image.pixelCount)
        let bits = model.network.prior!.forward(latent, training: false).bits
        return lambda * se / (3 * pixels) + bits / pixels
    }

    @Test func lowersTheLossOfAShippedModelAndDecodesWithThePlainDecoder() throws {
        let model = try LatentRefinementTests.retired.model(quality: 8.0)
        let lambda = Double(try LatentRefinement.lambda(of: model))
        let image = Self.crop
        var losses: [Double] = []
        for refinement in [nil, LatentRefinement(steps: 8), LatentRefinement(steps: 8, annealing: GumbelAnnealing())] {
            let (container, latent) = try ImageCodec.encodeKeepingLatent(image, model: model, refinement: refinement)
            let decoded = try ImageCodec.decode(Container.parse(container.serialized()), model: model)
            #expect(decoded.width == image.width && decoded.height == image.height)
            #expect(latent.data.allSatisfy { $0 == $0.rounded() })
            losses.append(Self.loss(image, decoded: decoded, latent: latent, model: model, lambda: lambda))
        }
        #expect(losses[1] < losses[0] * 0.99 && losses[2] < losses[0] * 0.99, "\(losses)")
    }

    @Test func zeroStepsIsThePlainEncodeAndTheResultIsDeterministic() throws {
        let model = try LatentRefinementTests.retired.model(quality: 5.0)
        let image = Self.crop
        let plain = try ImageCodec.encode(image, model: model).serialized()
        #expect(try ImageCodec.encode(image, model: model, refinement: LatentRefinement(steps: 0)).serialized() == plain)
        let a = try ImageCodec.encode(image, model: model, refinement: LatentRefinement(steps: 3)).serialized()
        let b = try ImageCodec.encode(image, model: model, refinement: LatentRefinement(steps: 3)).serialized()
        #expect(a == b)
    }

    @Test func neverKeepsAWorseResult() throws {
        // A huge step size throws the latents far off; the plain latents must be kept then.
        let model = try LatentRefinementTests.retired.model(quality: 3.0)
        let image = Self.crop
        let plain = try ImageCodec.encode(image, model: model).serialized()
        let wild = try ImageCodec.encode(image, model: model, refinement: LatentRefinement(steps: 2, learningRate: 50)).serialized()
        #expect(wild == plain)
    }

    @Test func needsTheModelsLambda() throws {
        // The untrained fixture records no lambda: refinement refuses, the plain encode works.
        let model = CodecFixtures.model()
        #expect(throws: CodecError.noTrainingLambda) {
            try ImageCodec.encode(Self.crop, model: model, refinement: LatentRefinement(steps: 1))
        }
        _ = try ImageCodec.encode(Self.crop, model: model)
    }

    @Test func asksForMoreMemoryThanThePlainEncode() throws {
        let model = try LatentRefinementTests.retired.model(quality: 1.0)
        let (w, h) = (Self.crop.width, Self.crop.height)
        let plain = ImageCodec.requiredMemory(width: w, height: h, model: model)
        #expect(ImageCodec.requiredMemory(width: w, height: h, model: model, refining: true) > plain)
        _ = try ImageCodec.encode(Self.crop, model: model, memoryLimit: plain)
        #expect(throws: CodecError.needsMemory(required: ImageCodec.requiredMemory(width: w, height: h, model: model, refining: true),
                                               limit: plain)) {
            try ImageCodec.encode(Self.crop, model: model, refinement: LatentRefinement(steps: 1), memoryLimit: plain)
        }
    }
}

/// The hyperprior's refinement moves only the residual symbols (z, hence the means and scales,
/// stay), so its files decode with the plain decoder and cost what their bytes say.
@Suite("Latent refinement of a hyperprior")
struct HyperpriorRefinementTests {
    static func model() throws -> CodecModel {
        try CodecModel(bytes: FileReader.read(ProcessInfo.processInfo.environment["VLAT_TEST_HYPERPRIOR"]
            ?? TestPaths.path("Sources/VlatCodec/Models/hyperprior.vlatmodel")))
    }

    /// Independent of the refinement's own loss: the decoded 8-bit image's MSE, and the real
    /// file's bits per pixel.
    static func loss(_ image: Image, file: [UInt8], model: CodecModel, lambda: Double) throws -> Double {
        let decoded = try ImageCodec.decode(Container.parse(file), model: model)
        #expect(decoded.width == image.width && decoded.height == image.height)
        var se = 0.0
        for (a, b) in zip(image.pixels, decoded.pixels) { se += Double(Int(a) - Int(b)) * Double(Int(a) - Int(b)) }
        let pixels = Double(image.pixelCount)
        return lambda * se / (3 * pixels) + Double(file.count * 8) / pixels
    }

    /// Above quality 4 the refinement works on the base, at its level's lambda, and the detail
    /// layer is coded over the refined base.
    @Test func aboveQualityFourItRefinesTheBaseUnderTheDetailLayer() throws {
        let model = try Self.model().atQuality(8)
        let levels = model.hyperprior!.network.config.lambdas
        let lambda = try LatentRefinement.lambda(of: model)
        #expect(model.hyperpriorLevel == 5 && Double(lambda) == Double(levels[4]))
        let image = LatentRefinementTests.crop
        let refined = try ImageCodec.encode(image, model: model, refinement: LatentRefinement(steps: 10))
        let plain = try ImageCodec.encode(image, model: model)
        #expect(refined.detail != nil && refined.payload != plain.payload)
        let decoded = try ImageCodec.decode(Container.parse(refined.serialized()), model: model)
        var base = refined
        base.detail = nil
        let baseOnly = try ImageCodec.decode(base, model: model)
        let (withLayer, without) = (try PSNR.compute(reference: image, distorted: decoded).rgb, try PSNR.compute(reference: image, distorted: baseOnly).rgb)
        #expect(withLayer > without + 1, "\(withLayer) against \(without) dB")
    }

    @Test(arguments: [2.0, 3.6])
    func lowersTheRealLossAndKeepsTheSideInformation(quality: Double) throws {
        let model = try Self.model().atQuality(quality)
        let lambda = Double(try LatentRefinement.lambda(of: model))
        let levels = model.hyperprior!.network.config.lambdas
        #expect(lambda >= Double(levels[Int(quality) - 1]) && lambda <= Double(levels[Int(quality)]))
        let image = LatentRefinementTests.crop
        let plain = try ImageCodec.encode(image, model: model).serialized()
        let refined = try ImageCodec.encode(image, model: model, refinement: LatentRefinement(steps: 30)).serialized()
        let (a, b) = (try Self.loss(image, file: plain, model: model, lambda: lambda), try Self.loss(image, file: refined, model: model, lambda: lambda))
        #expect(refined != plain)
        #expect(b < a * 0.995, "plain \(a), refined \(b)")
        // The same z stream: only the residuals changed.
        let hyper = model.hyperprior!
        let p = try Container.parse(plain), r = try Container.parse(refined)
        let (h, w) = (Int(p.header.latentHeight), Int(p.header.latentWidth))
        let dp = try HyperpriorCoding.decodeSymbols(p.payload, model: hyper, height: h, width: w)
        let dr = try HyperpriorCoding.decodeSymbols(r.payload, model: hyper, height: h, width: w)
        // With a checkerboard context the second half's tables follow the first half's symbols,
        // and with a channel context every group's but the first's.
        let plane = h * w, firstGroup = plane * hyper.network.config.latentChannels / (hyper.channelContext?.groups ?? 1)
        let fixed = (0..<min(firstGroup, dp.indices.count)).filter { hyper.context == nil || CheckerboardContext.isAnchor(($0 % plane) / w, $0 % w) }
        #expect(dp.zHat == dr.zHat && fixed.allSatisfy { dp.indices[$0] == dr.indices[$0] } && dp.symbols != dr.symbols)
    }

    @Test func neverKeepsAWorseResultAndIsDeterministic() throws {
        let model = try Self.model().atQuality(4)
        let image = LatentRefinementTests.crop
        let plain = try ImageCodec.encode(image, model: model).serialized()
        #expect(try ImageCodec.encode(image, model: model, refinement: LatentRefinement(steps: 2, learningRate: 50)).serialized() == plain)
        let a = try ImageCodec.encode(image, model: model, refinement: LatentRefinement(steps: 3)).serialized()
        #expect(try ImageCodec.encode(image, model: model, refinement: LatentRefinement(steps: 3)).serialized() == a)
    }
}
