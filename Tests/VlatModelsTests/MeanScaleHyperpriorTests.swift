import Foundation
import Testing
import VlatFormat
import VlatModels
import VlatTensor

@Suite("Mean-scale hyperprior")
struct MeanScaleHyperpriorTests {
    static let config = HyperpriorConfig(channels: 6, latentChannels: 4, hyperChannels: 3, lambdas: [0.002, 0.02, 0.2])

    @Test func modelFileRoundTripsEveryTensor() throws {
        let net = MeanScaleHyperprior(config: Self.config, seed: 8, metadata: ["steps": "12"])
        let back = try MeanScaleHyperprior(modelFile: ModelFile.parse(net.modelFile().serialized()))
        #expect(back.config == net.config && back.metadata == net.metadata)
        for (a, b) in zip(net.parameters, back.parameters) { #expect(a.name == b.name && a.value == b.value) }
        // Gains stay float32 even in a float16 file.
        let half = try MeanScaleHyperprior(modelFile: ModelFile.parse(net.modelFile(storage: .float16).serialized()))
        #expect(half.gains.value == net.gains.value)
    }

    @Test func refusesOtherKindsAndMissingTensors() throws {
        let ae = Autoencoder(config: AutoencoderConfig(objective: .rd, channels: 6, latentChannels: 4), seed: 1)
        #expect(throws: ModelFileError.self) { try MeanScaleHyperprior(modelFile: ae.modelFile()) }
        let net = MeanScaleHyperprior(config: Self.config, seed: 8)
        var file = net.modelFile()
        file.tensors.removeLast()
        #expect(throws: ModelFileError.self) { try MeanScaleHyperprior(modelFile: file) }
    }

    @Test func fractionalLevelsInterpolateLogGains() {
        let net = MeanScaleHyperprior(config: Self.config, seed: 8)
        let (l1, l2) = (net.log2Gains(level: 1), net.log2Gains(level: 2))
        let mid = net.log2Gains(level: 1.25)
        for c in 0..<4 { #expect(abs(mid[c] - (0.75 * l1[c] + 0.25 * l2[c])) < 1e-9) }
        #expect(net.log2Gains(level: 9) == l2 && net.log2Gains(level: -1) == net.log2Gains(level: 0))
        #expect(l2[0] > l1[0])
    }

    @Test func hyperSynthesisUndoesTheHyperAnalysisDownsampling() {
        let net = MeanScaleHyperprior(config: Self.config, seed: 8)
        let y = Tensor(zeros: [1, 4, 5, 7])           // not a multiple of 4: cropped back
        let z = net.hyperLatent(y)
        #expect(z.h == 2 && z.w == 2)
        let (mean, logScale) = net.meanAndLogScale(z, gained: y)
        #expect(mean.shape == [1, 4, 5, 7] && logScale.shape == [1, 4, 5, 7])
    }
}
