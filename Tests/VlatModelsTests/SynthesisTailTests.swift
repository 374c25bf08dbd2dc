import Testing
import VlatFormat
import VlatModels
import VlatTensor

@Suite("A hyperprior's synthesis tail")
struct SynthesisTailTests {
    static func withTail(_ channels: Int) -> HyperpriorConfig {
        var config = SynthesisWideningTests.narrow
        config.tailChannels = channels
        return config
    }

    /// A network without a tail whose synthesis weights are all random.
    static func source() -> MeanScaleHyperprior { SynthesisWideningTests.source() }

    static func latent(seed: UInt64) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor(shape: [1, 4, 3, 5], data: (0..<60).map { _ in 4 * g.uniform() - 2 })
    }

    /// `target`'s tensors that `source` has too, copied (what a warm start does).
    static func copy(_ source: MeanScaleHyperprior, into target: MeanScaleHyperprior) -> Set<String> {
        let values = Dictionary(source.parameters.map { ($0.name, $0.value) }) { a, _ in a }
        var copied: Set<String> = []
        for p in target.parameters { if let v = values[p.name] { p.value = v; copied.insert(p.name) } }
        return copied
    }

    @Test func aNewTailComputesWhatTheSynthesisBeforeItDid() {
        let source = Self.source()
        let tailed = MeanScaleHyperprior(config: Self.withTail(7), seed: 9)
        let copied = Self.copy(source, into: tailed)
        // Everything but the tail's three convolutions came from the source.
        #expect(Set(tailed.parameters.map(\.name)).subtracting(copied) == Set(tailed.tail.flatMap(\.parameters).map(\.name)))
        #expect(tailed.synthesis.layers.count == source.synthesis.layers.count + 5)
        let y = Self.latent(seed: 2)
        for level in [0.0, 1.5, 2.0] {
            source.setLevels([level]); tailed.setLevels([level])
            let (a, b) = (source.synthesis.forward(y, training: false), tailed.synthesis.forward(y, training: false))
            #expect(a.shape == b.shape)
            // (x + 1) - 1 loses the bits of x below 2^-23: far below one 8-bit level.
            let worst = zip(a.data, b.data).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-6, "level \(level): the tail changes the image by \(worst)")
        }
    }

    @Test func theTailsOwnChannelsLearnFromTheFirstStep() {
        let net = MeanScaleHyperprior(config: Self.withTail(6), seed: 5)
        let y = Self.latent(seed: 7)
        net.setLevels([1])
        let x = net.synthesis.forward(y, training: true)
        var g = SeededGenerator(seed: 8)
        _ = net.synthesis.backward(Tensor(shape: x.shape, data: x.data.map { _ in g.uniform() - 0.5 }))
        let last = net.tail[2]
        // The last layer's readers of the tail's own channels (3..<6) start at zero and get a
        // gradient; the carried channels' readers are the identity.
        for o in 0..<3 {
            for i in 0..<6 {
                for t in 0..<9 {
                    let k = (o * 6 + i) * 9 + t
                    #expect(last.weight.value.data[k] == (i == o && t == 4 ? 1 : 0))
                }
            }
        }
        #expect((3..<6).contains { i in (0..<9).contains { t in last.weight.grad.data[i * 9 + t] != 0 } })
        #expect(net.tail.allSatisfy { $0.weight.learningRateScale == MeanScaleHyperprior.tailLearningRateScale })
        #expect(!net.transformParameters.contains { p in net.tail.contains { $0.weight === p || $0.bias === p } })
    }

    /// What stays out of learning is exactly the carried path, as a new tail has it: each
    /// carried channel reading its own at the centre tap (plus the offset and its removal),
    /// and the last layer reading the carried channels one for one.
    @Test func theCarriedPathIsLeftOutOfLearning() {
        let t = 6
        let net = MeanScaleHyperprior(config: Self.withTail(t), seed: 5)
        let learned = net.tailLearnedElements()
        #expect(Set(learned.keys) == Set(net.tail.flatMap(\.parameters).map(\.name)))
        var frozen = 0
        for (k, conv) in net.tail.enumerated() {
            let i = conv.inChannels
            for (e, learns) in learned[conv.weight.name]!.enumerated() where !learns {
                frozen += 1
                let (out, input, tap) = (e / (i * 9), (e / 9) % i, e % 9)
                #expect(conv.weight.value.data[e] == (out == input && tap == 4 ? 1 : 0))
            }
            for (o, learns) in learned[conv.bias.name]!.enumerated() where !learns {
                frozen += 1
                #expect(k < 2 && conv.bias.value.data[o] == (k == 0 ? HyperpriorConfig.tailOffset : 0))
            }
        }
        // Layers 1 and 2: three outputs' weights and biases; layer 3: its weights on the carried channels.
        #expect(frozen == 3 * (3 * 9 + 1) + 3 * (t * 9 + 1) + 3 * 3 * 9)
        #expect(MeanScaleHyperprior(config: SynthesisWideningTests.narrow, seed: 5).tailLearnedElements().isEmpty)
    }

    @Test func aModelFileKeepsTheTail() throws {
        let net = MeanScaleHyperprior(config: Self.withTail(5), seed: 5)
        var g = SeededGenerator(seed: 1)
        for p in net.tail.flatMap(\.parameters) { p.value = Tensor(shape: p.value.shape, data: p.value.data.map { _ in g.uniform() }) }
        let back = try MeanScaleHyperprior(modelFile: ModelFile.parse(net.modelFile().serialized()))
        #expect(back.config.tailChannels == 5)
        for (a, b) in zip(net.tail, back.tail) { #expect(a.weight.value == b.weight.value && a.bias.value == b.bias.value) }
        let y = Self.latent(seed: 3)
        net.setLevels([0.5]); back.setLevels([0.5])
        #expect(net.synthesis.forward(y, training: false) == back.synthesis.forward(y, training: false))
        // A file without a tail reads as one without.
        let plain = try MeanScaleHyperprior(modelFile: ModelFile.parse(Self.source().modelFile().serialized()))
        #expect(plain.config.tailChannels == nil && plain.tail.isEmpty)
    }

    @Test func tailWidthsOutsideTheirRangeAreRefused() {
        #expect(Self.withTail(HyperpriorConfig.minTailChannels).isValid && Self.withTail(HyperpriorConfig.maxTailChannels).isValid)
        #expect(!Self.withTail(HyperpriorConfig.minTailChannels - 1).isValid)
        #expect(!Self.withTail(HyperpriorConfig.maxTailChannels + 1).isValid)
        #expect(Self.withTail(16).tailMacsPerPixel == Double((3 * 16 + 16 * 16 + 16 * 3) * 9))
    }
}
