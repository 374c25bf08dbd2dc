import Foundation
import Testing
import VlatCodec
import VlatImageIO
import VlatFormat
import VlatMetrics
import VlatTestSupport

/// The models in Sources/VlatCodec/Models are what users get: all eight levels must load, code
/// a photo and decode it, and spend more bits for more quality as the level rises.
@Suite("Shipped models")
struct ShippedModelsTests {
    @Test func eightLevelsLoadCodeAndRiseInRateAndQuality() throws {
        let registry = ModelRegistry(folders: [], environment: [:])
        #expect(registry.qualities == Array(1...8))
        // A 128x128 crop of a Corpus photo keeps the debug build quick.
        let full = try ImageFile.read(TestPaths.path("Corpus/photos/astronaut.png")).toRGB()
        var pixels: [UInt8] = []
        for y in 100..<228 { pixels += full.pixels[((y * full.width + 180) * 3)..<((y * full.width + 308) * 3)] }
        let image = Image(width: 128, height: 128, layout: .rgb, pixels: pixels)
        // Each model is loaded (and its digest lookup checked) once, then codes with every coder.
        var results: [CoderChoice: [(bytes: Int, psnr: Double)]] = [:]
        for level in registry.qualities {
            let model = try registry.model(quality: Double(level))
            #expect(model.contextPriors != nil, "q\(level) ships without fitted context priors")
            // Found again by the digest its files carry.
            #expect(try registry.entries.first { $0.digest == model.digest }?.quality == level)
            for coder in CoderChoice.factorized {
                let bytes = try ImageCodec.encode(image, model: model, coder: coder).serialized()
                let decoded = try ImageCodec.decode(Container.parse(bytes), model: model)
                results[coder, default: []].append((bytes.count, try PSNR.compute(reference: image, distorted: decoded).rgb))
            }
        }
        for (coder, points) in results {
            for (a, b) in zip(points, points.dropFirst()) {
                #expect(b.bytes > a.bytes && b.psnr > a.psnr, "\(coder): \(points)")
            }
        }
    }
}
