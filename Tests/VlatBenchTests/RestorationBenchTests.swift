import Foundation
import Testing
import VlatFilters
import VlatImageIO
import VlatTestSupport
import VlatCodec
import VlatModels
import VlatTensor
@testable import VlatBench

@Suite("Restoration benchmark")
struct RestorationBenchTests {
    /// A 96x96 crop: big enough for the filters to matter, small enough for a debug build.
    static func crop(_ name: String, x: Int, y: Int) -> Planes {
        let full = Planes(try! ImageFile.read(TestPaths.path("Corpus/photos/\(name)")))
        return Planes(width: 96, height: 96, channels: full.channels.map { plane in
            (0..<(96 * 96)).map { plane[(y + $0 / 96) * full.width + x + $0 % 96] }
        })
    }
    static let photo = crop("chelsea.png", x: 180, y: 90)

    @Test func noiseIsReproducibleAndHasItsSigma() {
        let d = RestorationBench.Degradation(name: "n", blurSigma: 0, noiseSigma: 25)
        let a = d.apply(Self.photo, imageName: "x"), b = d.apply(Self.photo, imageName: "x"), c = d.apply(Self.photo, imageName: "y")
        #expect(a == b && a != c)
        // Clipping at 0 and 255 removes a little noise, so PSNR sits just above 20 log10(255/25) = 20.17 dB.
        let p = RestorationBench.psnr(a, Self.photo)
        #expect(p > 20.17 && p < 21.5, "\(p)")
    }

    /// The benchmark's cases are the shared `Degradation` model with a noise stream seeded by
    /// the image's name: written out here from its definition (blur every channel, then noise
    /// channel by channel, then clamp), the published tables' pixels are unchanged.
    @Test func casesAreTheSharedDegradationModel() {
        let d = RestorationBench.Degradation(name: "b", blurSigma: 1, noiseSigma: 2)
        var seed: UInt64 = 0xC0FF_EE00 ^ UInt64(2.0 * 1000) ^ (UInt64(1.0 * 1000) << 20)
        for byte in "x".utf8 { seed = (seed ^ UInt64(byte)) &* 0x100_0000_01B3 }
        var g = SeededGenerator(seed: seed)
        var expected = GaussianBlur.apply(Self.photo, sigma: 1)
        for c in 0..<3 {
            for i in 0..<expected.channels[c].count { expected.channels[c][i] = min(255, max(0, expected.channels[c][i] + 2 * Double(g.normal()))) }
        }
        #expect(d.apply(Self.photo, imageName: "x") == expected)
    }

    @Test func classicalMethodsBeatTheDegradedInput() {
        let bench = RestorationBench(degradations: [.init(name: "noise 25", blurSigma: 0, noiseSigma: 25),
                                                    .init(name: "blur 2 + noise 2", blurSigma: 2, noiseSigma: 2)])
        let coffee = Self.crop("coffee.png", x: 250, y: 150)
        let rows = bench.run(tuning: [("coffee", coffee)], test: [("chelsea", Self.photo)])
        #expect(rows.count == 2 + 2 + 3) // per degradation: input + its methods
        for degradation in ["noise 25", "blur 2 + noise 2"] {
            let input = rows.first { $0.degradation == degradation && $0.method == "degraded input" }!.psnr
            let best = rows.filter { $0.degradation == degradation && $0.method != "degraded input" }.map(\.psnr).max()!
            #expect(best > input + 1, "\(degradation): \(best) vs \(input)")
        }
    }

    /// A residual denoiser whose last layer is zero returns its input: the learned method must
    /// then score exactly the degraded input, and denoising before compression change nothing.
    static func identityDenoiser() -> Denoiser {
        let net = Denoiser(config: DenoiserConfig(channels: 4, levels: 1, blocks: 1, residual: true), seed: 1)
        for p in net.parameters where p.name.hasPrefix("head") { p.value = Tensor(zeros: p.value.shape) }
        return net
    }

    @Test func learnedMethodRunsOnEveryDegradation() {
        let bench = RestorationBench(degradations: [.init(name: "noise 25", blurSigma: 0, noiseSigma: 25),
                                                    .init(name: "blur 1 + noise 2", blurSigma: 1, noiseSigma: 2)],
                                     blind: [RestorationBench.learned(name: "vlat denoiser", denoiser: Self.identityDenoiser()),
                                             RestorationBench.learned(name: "ensemble", denoiser: Self.identityDenoiser(), ensemble: true)])
        let rows = bench.run(tuning: [("chelsea", Self.photo)], test: [("chelsea", Self.photo)])
        for degradation in ["noise 25", "blur 1 + noise 2"] {
            let input = rows.first { $0.degradation == degradation && $0.method == "degraded input" }!.psnr
            let learned = rows.first { $0.degradation == degradation && $0.method == "vlat denoiser" }!
            #expect(abs(learned.psnr - input) < 1e-6 && learned.setting == "blind" && learned.tuningPSNR != nil)
            // The identity turned eight ways and back is still the identity (to the float
            // rounding of the mean of eight); the costly ensemble skips the tuning images.
            let ensemble = rows.first { $0.degradation == degradation && $0.method == "ensemble" }!
            #expect(abs(ensemble.psnr - input) < 1e-2 && ensemble.tuningPSNR == nil, "\(ensemble.psnr) vs \(input)")
        }
    }

    @Test func compressionTableComparesNoisyAndDenoised() throws {
        let bench = RestorationBench(degradations: [.init(name: "noise 25", blurSigma: 0, noiseSigma: 25)])
        let codec = try CodecModel(bytes: CodecModel.export(Autoencoder(config: AutoencoderConfig(objective: .rd, channels: 8, latentChannels: 6), seed: 2)).serialized())
        let rows = try bench.compression(test: [("chelsea", Self.photo)], denoiser: Self.identityDenoiser(), codec: codec)
        #expect(rows.count == 1 && rows[0].noisyBPP > 0)
        #expect(rows[0].denoisedBPP == rows[0].noisyBPP && rows[0].denoisedPSNR == rows[0].noisyPSNR)
        #expect(RestorationBench.compressionMarkdown(rows, quality: "q").contains("| noise 25 |"))
    }
}
