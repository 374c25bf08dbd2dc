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

    static func latent(seed: UInt64) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor(shape: [1, 4, 4, 4], data: (0..<64).map { _ in 4 * g.uniform() - 2 })
    }

    @Test func theWidenedSynthesisComputesWhatTheSourceDid() throws {
        let source = Self.source()
        let wide = MeanScaleHyperprior(config: Self.wideConfig(9), seed: 9)
        #expect(try wide.widenSynthesis(from: source).count == wide.parameters.count)
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

    @Test func theNewChannelsAreFreshFeaturesNothingReadsYet() throws {
        let source = Self.source()
        let fresh = MeanScaleHyperprior(config: Self.wideConfig(9), seed: 9)
        let wide = MeanScaleHyperprior(config: Self.wideConfig(9), seed: 9)
        _ = try wide.widenSynthesis(from: source)
        let convs = { (net: MeanScaleHyperprior) in net.synthesis.layers.compactMap { $0 as? ConvTranspose2d } }
        // The second transposed convolution [in, out, k, k]: old to old is the source's, new to
        // old zero, anything to a new channel a new network's.
        let (ws, ww, wf) = (convs(source)[1].weight.value, convs(wide)[1].weight.value, convs(fresh)[1].weight.value)
        for i in 0..<9 {
            for o in 0..<9 {
                for t in 0..<25 {
                    let at = (i * 9 + o) * 25 + t, v = ww.data[at]
                    if o >= 6 { #expect(v == wf.data[at]) } else if i >= 6 { #expect(v == 0) } else { #expect(v == ws.data[(i * 6 + o) * 25 + t]) }
                }
            }
        }
        // Old channels' normalisers do not see the new ones; a new channel's is a new GDN's.
        let gdn = { (net: MeanScaleHyperprior) in net.synthesis.layers.compactMap { $0 as? GDN }[0] }
        let (gw, gf) = (gdn(wide).gamma.value, gdn(fresh).gamma.value)
        for r in 0..<9 {
            for c in 0..<9 where r >= 6 || c >= 6 {
                let e = GDN.effective(gw.data[r * 9 + c], bound: GDN.gammaBound)
                if r >= 6 { #expect(gw.data[r * 9 + c] == gf.data[r * 9 + c]) } else { #expect(e == 0) }
            }
        }
        // The readers of the new channels get a gradient from the first step.
        wide.setLevels([1])
        let out = wide.synthesis.forward(Self.latent(seed: 5), training: true)
        var grad = Tensor(zeros: out.shape)
        for i in 0..<grad.count { grad.data[i] = out.data[i] - 0.5 }
        for p in wide.synthesis.parameters { p.grad = Tensor(zeros: p.value.shape) }
        _ = wide.synthesis.backward(grad)
        let dw = convs(wide)[1].weight.grad
        #expect((0..<(9 * 25)).contains { dw.data[7 * 9 * 25 + $0] != 0 })
    }

    @Test func theMomentsWidenAlike() throws {
        let source = Self.source()
        let wide = MeanScaleHyperprior(config: Self.wideConfig(9), seed: 9)
        let first = Dictionary(source.parameters.map { ($0.name, Tensor(shape: $0.value.shape, data: [Float](repeating: 2, count: $0.value.count))) }) { a, _ in a }
        // Second moments 1 and 3 alternating: a mean of 2.
        let second = Dictionary(source.parameters.map { ($0.name, Tensor(shape: $0.value.shape, data: (0..<$0.value.count).map { Float(1 + 2 * ($0 % 2)) })) }) { a, _ in a }
        let (m, v) = try wide.widenedSynthesisMoments(from: source, firstMoments: first, secondMoments: second)
        #expect(m.map(\.count) == wide.parameters.map(\.value.count))
        // The source's moments for old elements; for new ones no momentum and the mean second moment.
        let index = wide.parameters.firstIndex { $0 === (wide.synthesis.layers.compactMap { $0 as? ConvTranspose2d })[1].weight }!
        #expect(m[index][0] == 2 && v[index][0] == 1 && v[index][1] == 3)
        #expect(m[index][7 * 9 * 25] == 0 && abs(v[index][(0 * 9 + 7) * 25] - 2) < 1e-3)
    }

    @Test func otherDifferencesAreRefused() throws {
        let source = Self.source()
        var config = Self.wideConfig(9)
        config.hyperChannels = 4
        #expect(throws: ModelFileError.self) { try MeanScaleHyperprior(config: config, seed: 1).widenSynthesis(from: source) }
        #expect(throws: ModelFileError.self) { try MeanScaleHyperprior(config: Self.narrow, seed: 1).widenSynthesis(from: source) }
    }

    @Test func aWiderSynthesisSurvivesItsModelFile() throws {
        let wide = MeanScaleHyperprior(config: Self.wideConfig(9), seed: 9)
        let file = try ModelFile.parse(wide.modelFile().serialized())
        let back = try MeanScaleHyperprior(modelFile: file)
        #expect(back.config == wide.config && back.config.synthesisChannels == 9)
        #expect(back.config.widthsDescription == "N=6 (synthesis 9), M=4")
        // A file declaring an absurd width is refused before anything is built.
        for bad in [0, HyperpriorConfig.maxChannels + 1] {
            let json = file.json.replacingOccurrences(of: "\"synthesisChannels\":9", with: "\"synthesisChannels\":\(bad)")
            #expect(json != file.json)
            #expect(throws: ModelFileError.self) { try MeanScaleHyperprior(modelFile: ModelFile(json: json, tensors: file.tensors)) }
        }
        // A synthesis as wide as the analysis is the plain configuration, as files before it.
        #expect(HyperpriorConfig(channels: 6, latentChannels: 4, synthesisChannels: 6).synthesisChannels == nil)
    }
}
