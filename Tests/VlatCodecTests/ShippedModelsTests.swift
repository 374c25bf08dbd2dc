import Foundation
import Testing
import VlatCodec
import VlatImageIO
import VlatFormat
import VlatMetrics
import VlatTensor
import VlatTestSupport

/// The models in Sources/VlatCodec/Models are what users get: the hyperprior must serve every
/// quality, code a photo and decode it, and spend more bits for more quality as the quality
/// rises. The retired factorized levels (RetiredModels/) must keep decoding what they made.
@Suite("Shipped models")
struct ShippedModelsTests {
    /// A 128x128 crop of a Corpus photo keeps the debug build quick.
    static let crop: Image = {
        let full = try! ImageFile.read(TestPaths.path("Corpus/photos/astronaut.png")).toRGB()
        var pixels: [UInt8] = []
        for y in 100..<228 { pixels += full.pixels[((y * full.width + 180) * 3)..<((y * full.width + 308) * 3)] }
        return Image(width: 128, height: 128, layout: .rgb, pixels: pixels)
    }()

    @Test func theHyperpriorServesEveryQualityRisingInRateAndQuality() throws {
        let registry = ModelRegistry(folders: [], environment: [:])
        #expect(registry.qualities == Array(1...8))
        let entry = try registry.entry(quality: 4)
        #expect(entry.variableRate && entry.path.hasSuffix("/hyperprior.vlatmodel"))
        // Loaded once; every quality, whole and fractional, is the same file set to it.
        let base = try ModelRegistry.load(entry, quality: 1)
        #expect(base.hyperprior != nil)
        var points: [(quality: Double, bytes: Int, psnr: Double)] = []
        for quality in [1.0, 2, 3, 4, 4.5, 5, 6, 7, 8] {
            let model = try base.atQuality(quality)
            let bytes = try ImageCodec.encode(Self.crop, model: model).serialized()
            // Decoded by the digest its file carries, as `vlat decompress` does.
            let container = try Container.parse(bytes)
            let found = try registry.model(digest: container.header.modelDigest)
            let decoded = try ImageCodec.decode(container, model: found)
            points.append((quality, bytes.count, try PSNR.compute(reference: Self.crop, distorted: decoded).rgb))
        }
        for (a, b) in zip(points, points.dropFirst()) { #expect(b.bytes > a.bytes && b.psnr > a.psnr, "\(points)") }
    }

    /// The analysis is not normative: with bfloat16 products (the default where the CPU has
    /// them) or float32 ones, the files decode with the same model to nearly the same size and
    /// quality.
    @Test func theAnalysisArithmeticMovesOnlyWhichSymbolsAreChosen() throws {
        let registry = ModelRegistry(folders: [], environment: [:])
        let base = try ModelRegistry.load(try registry.entry(quality: 4), quality: 1)
        let hyper = try #require(base.hyperprior)
        #expect(hyper.analysisPrecision == .fastest)
        defer { hyper.analysisPrecision = .fastest }
        // The first convolution reads the image's samples and stays float32; the rest follow.
        hyper.analysisPrecision = .bfloat16
        let convs = hyper.network.analysis.layers.compactMap { $0 as? Conv2d }, gdns = hyper.network.analysis.layers.compactMap { $0 as? GDN }
        #expect(convs.map(\.inferencePrecision) == [.float32] + Array(repeating: .bfloat16, count: convs.count - 1))
        #expect(!gdns.isEmpty && gdns.allSatisfy { $0.inferencePrecision == .bfloat16 })
        for quality in [2.0, 7] {
            let model = try base.atQuality(quality)
            var points: [(bytes: Int, psnr: Double)] = []
            for precision in [InferencePrecision.float32, .bfloat16] {
                hyper.analysisPrecision = precision
                let bytes = try ImageCodec.encode(Self.crop, model: model).serialized()
                let decoded = try ImageCodec.decode(Container.parse(bytes), model: model)
                points.append((bytes.count, try PSNR.compute(reference: Self.crop, distorted: decoded).rgb))
            }
            #expect(abs(Double(points[1].bytes) / Double(points[0].bytes) - 1) < 0.02 && abs(points[1].psnr - points[0].psnr) < 0.1,
                    "quality \(quality): float32 \(points[0]), bfloat16 \(points[1])")
        }
    }

    @Test func theRetiredLevelsStillCodeWithEveryFactorizedCoder() throws {
        let registry = ModelRegistry(folders: [TestPaths.path("RetiredModels")], environment: [:], includeShipped: false)
        #expect(registry.qualities == Array(1...8))
        var results: [CoderChoice: [(bytes: Int, psnr: Double)]] = [:]
        for level in registry.qualities {
            let model = try registry.model(quality: Double(level))
            #expect(model.contextPriors != nil, "q\(level) lacks fitted context priors")
            #expect(try registry.entries.first { $0.digest == model.digest }?.quality == level)
            for coder in CoderChoice.factorized {
                let bytes = try ImageCodec.encode(Self.crop, model: model, coder: coder).serialized()
                let decoded = try ImageCodec.decode(Container.parse(bytes), model: model)
                results[coder, default: []].append((bytes.count, try PSNR.compute(reference: Self.crop, distorted: decoded).rgb))
            }
        }
        for (coder, points) in results {
            for (a, b) in zip(points, points.dropFirst()) {
                #expect(b.bytes > a.bytes && b.psnr > a.psnr, "\(coder): \(points)")
            }
        }
    }
}
