import Testing
import VlatFormat
import VlatModels
import VlatTensor

@Suite("Widening a hyperprior's synthesis")
struct SynthesisWideningTests {
    static let narrow = HyperpriorConfig(channels: 6, latentChannels: 4, hyperChannels: 3, lambdas: [0.002, 0.02, 0.2],
                                         levelModulation: true, contextChannels: 5)

    /// A source whose every tensor is random, the modulations and GDN's off-diagonal gammas
    /// included (they start as constants, which would hide a wrongly mapped axis).
    static func source() -> MeanScaleHyperprior {
        let net = MeanScaleHyperprior(config: narrow, seed: 3)
        var g = SeededGenerator(seed: 4)
        for p in net.synthesis.parameters {
            let isGDN = p.name.hasSuffix(".gamma") || p.name.hasSuffix(".beta")
            p.value = Tensor(shape: p.value.shape, data: p.value.data.map { v in isGDN ? 0.2 + g.uniform() : v + 0.3 * (g.uniform() - 0.5) })
        }
        return net
    }

    static func wideConfig(_ width: Int) -> HyperpriorConfig {
        var config = narrow
        config.synthesisChannels = width
        return config
    }

    static let stages = [[2, 0, 5], [1, 2, 3], [4, 0, 1]]

    static func latent(seed: UInt64) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor(shape: [1, 4, 4, 4], data: (0..<64).map { _ in 4 * g.uniform() - 2 })
    }

    @Test func theWidenedSynthesisComputesWhatTheSourceDid() throws {
        let source = Self.source()
        let wide = MeanScaleHyperprior(config: Self.wideConfig(9), seed: 9)
        #expect(try wide.widenSynthesis(from: source, stages: Self.stages, seed: 1).count == wide.parameters.count)
        #expect(wide.synthesis.parameters.map(\.value.count).reduce(0, +) > source.synthesis.parameters.map(\.value.count).reduce(0, +))
        let y = Self.latent(seed: 2)
        for level in [0.0, 1.5, 2.0] {
            source.setLevels([level]); wide.setLevels([level])
            let (xs, xw) = (source.synthesis.forward(y, training: false), wide.synthesis.forward(y, training: false))
            #expect(xs.shape == xw.shape)
            var worst: Float = 0
            for i in 0..<xs.count { worst = max(worst, abs(xs.data[i] - xw.data[i])) }
            #expect(worst <= 1e-5, "level \(level): the widened synthesis differs by \(worst)")
        }
        // Outside the synthesis every tensor is the source's.
        let sourceValues = Dictionary(source.parameters.map { ($0.name, $0.value) }) { a, _ in a }
        for p in wide.analysis.parameters + wide.hyperSynthesis.parameters + [wide.gains] { #expect(p.value == sourceValues[p.name]) }
    }

    @Test func aChannelAndItsCopyLearnApart() throws {
        let source = Self.source()
        let wide = MeanScaleHyperprior(config: Self.wideConfig(9), seed: 9)
        _ = try wide.widenSynthesis(from: source, stages: Self.stages, seed: 1)
        // The second transposed convolution's input weights [in, out, k, k]: source channel 2 of
        // the first stage and its copy (wide channel 6) read unevenly, summing to the source's.
        let convs = { (net: MeanScaleHyperprior) in net.synthesis.layers.compactMap { $0 as? ConvTranspose2d } }
        let (ws, ww) = (convs(source)[1].weight.value, convs(wide)[1].weight.value)
        let sourceSize = ws.count / 6, wideSize = ww.count / 9
        var different = false
        for out in 0..<6 {
            for t in 0..<25 {
                let (a, b) = (ww.data[2 * wideSize + out * 25 + t], ww.data[6 * wideSize + out * 25 + t])
                #expect(abs(a + b - ws.data[2 * sourceSize + out * 25 + t]) <= 1e-6)
                if abs(a - b) > 1e-4 { different = true }
            }
        }
        #expect(different)
        // So the two get different gradients for their own filters from the first step.
        wide.setLevels([1])
        let out = wide.synthesis.forward(Self.latent(seed: 5), training: true)
        var grad = Tensor(zeros: out.shape)
        for i in 0..<grad.count { grad.data[i] = out.data[i] - 0.5 }
        for p in wide.synthesis.parameters { p.grad = Tensor(zeros: p.value.shape) }
        _ = wide.synthesis.backward(grad)
        let bias = convs(wide)[0].bias.grad
        #expect(abs(bias.data[2] - bias.data[6]) > 1e-6)
    }

    @Test func theMomentsWidenAlike() throws {
        let source = Self.source()
        let wide = MeanScaleHyperprior(config: Self.wideConfig(9), seed: 9)
        let first = Dictionary(source.parameters.map { ($0.name, Tensor(shape: $0.value.shape, data: [Float](repeating: 2, count: $0.value.count))) }) { a, _ in a }
        let (m, v) = try wide.widenedSynthesisMoments(from: source, stages: Self.stages, firstMoments: first, secondMoments: first)
        #expect(m.map(\.count) == wide.parameters.map(\.value.count))
        // A halved reading weight keeps half of its first moment and a quarter of its second.
        let index = wide.parameters.firstIndex { $0 === (wide.synthesis.layers.compactMap { $0 as? ConvTranspose2d })[1].weight }!
        let size = wide.parameters[index].value.count / 9
        #expect(m[index][6 * size] == 1 && v[index][6 * size] == 0.5)
        #expect(m[index][3 * size] == 2 && v[index][3 * size] == 2)
    }

    @Test func otherDifferencesAreRefused() throws {
        let source = Self.source()
        var config = Self.wideConfig(9)
        config.hyperChannels = 4
        #expect(throws: ModelFileError.self) { try MeanScaleHyperprior(config: config, seed: 1).widenSynthesis(from: source, stages: Self.stages, seed: 1) }
        let wide = MeanScaleHyperprior(config: Self.wideConfig(9), seed: 9)
        #expect(throws: ModelFileError.self) { try wide.widenSynthesis(from: source, stages: [[2, 0, 5], [1, 2, 3]], seed: 1) }
        #expect(throws: ModelFileError.self) { try wide.widenSynthesis(from: source, stages: [[2, 2, 5], [1, 2, 3], [4, 0, 1]], seed: 1) }
        #expect(throws: ModelFileError.self) { try MeanScaleHyperprior(config: Self.wideConfig(13), seed: 1).widenSynthesis(from: source, stages: Self.stages, seed: 1) }
    }

    @Test func aWiderSynthesisSurvivesItsModelFile() throws {
        let wide = MeanScaleHyperprior(config: Self.wideConfig(9), seed: 9)
        let file = try ModelFile.parse(wide.modelFile().serialized())
        let back = try MeanScaleHyperprior(modelFile: file)
        #expect(back.config == wide.config && back.config.synthesisChannels == 9)
        #expect(back.config.widthsDescription == "N=6 (synthesis 9), M=4")
        // A synthesis as wide as the analysis is the plain configuration, as files before it.
        #expect(HyperpriorConfig(channels: 6, latentChannels: 4, synthesisChannels: 6).synthesisChannels == nil)
    }
}
