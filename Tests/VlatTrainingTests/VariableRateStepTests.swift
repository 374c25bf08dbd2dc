import Foundation
import Testing
import VlatTestSupport
import VlatModels
import VlatTensor
@testable import VlatTraining

@Suite("Variable-rate hyperprior training")
struct VariableRateStepTests {
    /// A tiny hyperprior with level modulations, set away from the identity so that their
    /// gradients are exercised, and optionally a checkerboard context whose output layer is
    /// moved off its zero start for the same reason.
    static func tinyNetwork(seed: UInt64 = 3, context: Bool = false, channelGroups: Int? = nil) -> MeanScaleHyperprior {
        let net = MeanScaleHyperprior(config: HyperpriorConfig(channels: 5, latentChannels: 3, hyperChannels: 2, lambdas: [0.01, 0.1],
                                                              levelModulation: true, contextChannels: context ? 4 : nil,
                                                              channelGroups: channelGroups, channelContextChannels: 4), seed: seed)
        var g = SeededGenerator(seed: seed)
        for p in net.modulations.flatMap(\.parameters) { for i in 0..<p.value.count { p.value.data[i] = (g.uniform() - 0.5) * 0.4 } }
        for p in net.context?.head.layers[3].parameters ?? [] { for i in 0..<p.value.count { p.value.data[i] = (g.uniform() - 0.5) * 0.6 } }
        for net in (net.channelContext?.anchorNetworks ?? []) + (net.channelContext?.otherNetworks ?? []) {
            // Off zero, and no hidden ReLU near its kink (see `ChannelContextTests`).
            for p in net.layers[4].parameters { for i in 0..<p.value.count { p.value.data[i] = (g.uniform() - 0.5) * 0.6 } }
            for k in [0, 2] { let b = net.layers[k].parameters[1]; b.value = Tensor(shape: b.value.shape, data: [Float](repeating: 8, count: b.value.count)) }
        }
        return net
    }

    /// Latents of a fresh network are tiny; larger gains put residuals and scales in the range
    /// where the rate's gradients are large. Returns a random batch of two 64x64 crops.
    static func raiseGainsAndMakeBatch(_ net: MeanScaleHyperprior, seed: UInt64) -> Tensor {
        for i in 0..<net.gains.value.count { net.gains.value.data[i] = Float(i % 3) / MeanScaleHyperprior.gainScale }
        var g = SeededGenerator(seed: seed)
        return Tensor(shape: [2, 3, 64, 64], data: (0..<(2 * 3 * 64 * 64)).map { _ in g.uniform() })
    }

    /// The same with a checkerboard context: its own parameters, and everything whose gradient
    /// now also flows through it (the anchors' residuals reach the analysis and the
    /// hyper-synthesis' means straight through the rounding, which the noisy input leaves out).
    @Test func gradientsThroughTheContextMatchFiniteDifferences() throws {
        let net = Self.tinyNetwork(seed: 4, context: true)
        let context = try #require(net.context)
        // A strong context, so that what flows through it stands out of the checks' absolute floor.
        for i in 0..<context.symbols.weight.value.count { context.symbols.weight.value.data[i] *= 8 }
        let x = Self.raiseGainsAndMakeBatch(net, seed: 13)
        let step = VariableRateStep(network: net, seed: 5, synthesisInput: .noisy)
        net.parameters.forEach { $0.zeroGrad() }
        _ = step.run(x, step: 7)
        #expect(context.parameters.allSatisfy { $0.grad.data.contains { $0 != 0 } })
        // The taps that never see an anchor stay at zero and get no gradient.
        let k2 = 25
        let unused = (0..<context.symbols.weight.value.count).filter { i in ((i % k2) / 5 + (i % k2) % 5) & 1 == 0 }
        #expect(unused.allSatisfy { context.symbols.weight.value.data[$0] == 0 && context.symbols.weight.grad.data[$0] == 0 })
        Self.compareWithCentralDifferences(context.parameters + net.analysis.parameters + net.hyperSynthesis.parameters + [net.gains], seed: 3) {
            net.parameters.forEach { $0.zeroGrad() }
            return step.run(x, step: 7).loss
        }
        // The entropy-only step trains the context too.
        net.parameters.forEach { $0.zeroGrad() }
        _ = step.runEntropyOnly(x, step: 2)
        Self.compareWithCentralDifferences(context.parameters + net.hyperSynthesis.parameters, seed: 5) {
            net.parameters.forEach { $0.zeroGrad() }
            return step.runEntropyOnly(x, step: 2).loss
        }
    }

    /// The context's own backward (`withContext` then `contextBackward`) against central
    /// differences of `sum(r * P')`, where `P'` is the corrected hyper-synthesis output: the
    /// gradients reaching `P` (directly, through the context's conditions, and through the
    /// anchors' residuals `yg - mean`), `yg` and the context's parameters. The step's loss
    /// scales these far below the whole-step check's absolute floor, so they are checked here
    /// on their own scale.
    @Test func contextBackwardMatchesFiniteDifferences() throws {
        let net = Self.tinyNetwork(seed: 6, context: true)
        let context = try #require(net.context)
        let step = VariableRateStep(network: net, seed: 1, synthesisInput: .noisy)
        var g = SeededGenerator(seed: 21)
        var yg = GradientCheck.random([2, 3, 6, 7], &g, scale: 3)
        var p = GradientCheck.random([2, 6, 6, 7], &g, scale: 2)
        let r = GradientCheck.random([2, 6, 6, 7], &g)
        let noise = [Float](repeating: 0, count: yg.count)
        func f() -> Double { GradientCheck.dot(r, step.withContext(p, gained: yg, noise: noise)) }
        context.parameters.forEach { $0.zeroGrad() }
        _ = step.withContext(p, gained: yg, noise: noise)
        var dP = r
        let dYg = try #require(step.contextBackward(&dP))
        var probe = SeededGenerator(seed: 22)
        GradientCheck.checkEntries("P", dP, generator: &probe, get: { p.data[$0] }, set: { p.data[$0] = $1 }) { f() }
        GradientCheck.checkEntries("yg", dYg, generator: &probe, get: { yg.data[$0] }, set: { yg.data[$0] = $1 }) { f() }
        // Some anchors' residuals do reach yg and P's means (else the checks above prove little).
        #expect(dYg.data.contains { abs($0) > 0.05 })
        // A weight moves every position's pre-activation: a smaller step crosses fewer ReLU kinks.
        GradientCheck.checkParameters(context.parameters, h: 1e-3, tolerance: 2e-2, generator: &probe) { f() }
    }

    /// The same for a channel context beside the checkerboard one: `withContext` then
    /// `contextBackward` against central differences of `sum(r * P')`, for `P` and `yg` (which
    /// now also reach the corrections through the earlier groups' decoded values and through
    /// the anchors' corrected means); then the whole step's gradients, the entropy-only step's too.
    @Test func channelContextBackwardMatchesFiniteDifferences() throws {
        let net = Self.tinyNetwork(seed: 16, context: true, channelGroups: 3)
        let channel = try #require(net.channelContext)
        #expect(channel.anchorNetworks.count == 2 && channel.otherNetworks.count == 2)
        let step = VariableRateStep(network: net, seed: 1, synthesisInput: .noisy)
        var g = SeededGenerator(seed: 31)
        var yg = GradientCheck.random([1, 3, 5, 6], &g, scale: 2)
        var p = GradientCheck.random([1, 6, 5, 6], &g, scale: 1)
        let r = GradientCheck.random([1, 6, 5, 6], &g)
        let noise = GradientCheck.random([1, 3, 5, 6], &g, scale: 0.5).data
        func f() -> Double { GradientCheck.dot(r, step.withContext(p, gained: yg, noise: noise)) }
        net.parameters.forEach { $0.zeroGrad() }
        _ = step.withContext(p, gained: yg, noise: noise)
        var dP = r
        let dYg = try #require(step.contextBackward(&dP))
        var probe = SeededGenerator(seed: 32)
        GradientCheck.checkEntries("P", dP, generator: &probe, get: { p.data[$0] }, set: { p.data[$0] = $1 }) { f() }
        GradientCheck.checkEntries("yg", dYg, generator: &probe, get: { yg.data[$0] }, set: { yg.data[$0] = $1 }) { f() }
        // (The channel context's own weights are checked in `ChannelContextTests`.)
        #expect(channel.parameters.allSatisfy { $0.grad.data.contains { $0 != 0 } })

        let x = Self.raiseGainsAndMakeBatch(net, seed: 17)
        net.parameters.forEach { $0.zeroGrad() }
        _ = step.run(x, step: 3)
        Self.compareWithCentralDifferences(channel.parameters + net.analysis.parameters + net.hyperSynthesis.parameters, seed: 8) {
            net.parameters.forEach { $0.zeroGrad() }
            return step.run(x, step: 3).loss
        }
        net.parameters.forEach { $0.zeroGrad() }
        _ = step.runEntropyOnly(x, step: 4)
        Self.compareWithCentralDifferences(channel.parameters + net.hyperSynthesis.parameters, seed: 9) {
            net.parameters.forEach { $0.zeroGrad() }
            return step.runEntropyOnly(x, step: 4).loss
        }
    }

    /// A channel context that starts at zero changes nothing: the same loss as the model with the
    /// checkerboard context alone.
    @Test func aFreshChannelContextCodesAsBefore() {
        let config = HyperpriorConfig(channels: 5, latentChannels: 4, hyperChannels: 2, lambdas: [0.01, 0.1], contextChannels: 4)
        var grouped = config
        grouped.channelGroups = 2; grouped.channelContextChannels = 3
        let with = MeanScaleHyperprior(config: grouped, seed: 9), without = MeanScaleHyperprior(config: config, seed: 9)
        for p in without.parameters { with.parameters.first { $0.name == p.name }!.value = p.value }
        var g = SeededGenerator(seed: 14)
        let x = Tensor(shape: [2, 3, 64, 64], data: (0..<(2 * 3 * 64 * 64)).map { _ in g.uniform() })
        #expect(VariableRateStep(network: with, seed: 5).run(x, step: 1).loss == VariableRateStep(network: without, seed: 5).run(x, step: 1).loss)
    }

    /// A context that starts at zero changes nothing: the same loss as the network without it.
    @Test func aFreshContextCodesAsTheHyperpriorAlone() {
        let with = MeanScaleHyperprior(config: HyperpriorConfig(channels: 5, latentChannels: 3, hyperChannels: 2, lambdas: [0.01, 0.1],
                                                               contextChannels: 4), seed: 9)
        let without = MeanScaleHyperprior(config: HyperpriorConfig(channels: 5, latentChannels: 3, hyperChannels: 2, lambdas: [0.01, 0.1]), seed: 9)
        for (a, b) in zip(without.parameters, with.parameters) { a.value = b.value }
        var g = SeededGenerator(seed: 14)
        let x = Tensor(shape: [2, 3, 64, 64], data: (0..<(2 * 3 * 64 * 64)).map { _ in g.uniform() })
        let a = VariableRateStep(network: with, seed: 5).run(x, step: 1).loss
        let b = VariableRateStep(network: without, seed: 5).run(x, step: 1).loss
        #expect(a == b)
    }

    /// Every parameter's gradient, gains included, against central differences of the loss,
    /// with the differentiable synthesis input (the straight-through one shares this backward).
    @Test func gradientsMatchFiniteDifferences() {
        let net = Self.tinyNetwork()
        let x = Self.raiseGainsAndMakeBatch(net, seed: 11)
        let step = VariableRateStep(network: net, seed: 5, synthesisInput: .noisy)
        net.parameters.forEach { $0.zeroGrad() }
        _ = step.run(x, step: 7)
        Self.compareWithCentralDifferences(net.parameters, seed: 2) {
            net.parameters.forEach { $0.zeroGrad() }
            return step.run(x, step: 7).loss
        }
    }

    /// The entropy-only step: the hyper-transforms' and z prior's gradients against central
    /// differences of its loss, and none at all for the transforms and gains.
    @Test func entropyOnlyGradientsMatchFiniteDifferencesAndSpareTheTransforms() {
        let net = Self.tinyNetwork()
        let x = Self.raiseGainsAndMakeBatch(net, seed: 12)
        let step = VariableRateStep(network: net, seed: 6)
        net.parameters.forEach { $0.zeroGrad() }
        _ = step.runEntropyOnly(x, step: 3)
        let frozen = net.analysis.parameters + net.synthesis.parameters + [net.gains]
        #expect(frozen.allSatisfy { $0.grad.data.allSatisfy { $0 == 0 } })
        let trained = net.hyperAnalysis.parameters + net.hyperSynthesis.parameters + net.hyperPrior.parameters
        #expect(trained.contains { $0.grad.data.contains { $0 != 0 } })
        Self.compareWithCentralDifferences(trained, seed: 4) {
            net.parameters.forEach { $0.zeroGrad() }
            return step.runEntropyOnly(x, step: 3).loss
        }
    }

    /// The synthesis-only step: the same loss and synthesis gradients as the full step, and no
    /// gradient at all for the analysis, the entropy model or the gains.
    @Test func synthesisOnlyTrainsTheSynthesisAlone() {
        let net = Self.tinyNetwork(seed: 5, context: true)
        let x = Self.raiseGainsAndMakeBatch(net, seed: 14)
        var step = VariableRateStep(network: net, seed: 7)
        net.parameters.forEach { $0.zeroGrad() }
        let full = step.run(x, step: 2)
        let expected = net.synthesis.parameters.map(\.grad)
        net.parameters.forEach { $0.zeroGrad() }
        step.synthesisOnly = true
        let alone = step.run(x, step: 2)
        #expect(abs(alone.loss - full.loss) <= 1e-6 * full.loss && abs(alone.bpp - full.bpp) <= 1e-9 * full.bpp)
        let synthesis = Set(net.synthesis.parameters.map(\.name))
        #expect(net.parameters.filter { !synthesis.contains($0.name) }.allSatisfy { $0.grad.data.allSatisfy { $0 == 0 } })
        for (p, g) in zip(net.synthesis.parameters, expected) {
            let scale = g.data.reduce(Float(0)) { max($0, abs($1)) }
            #expect(zip(p.grad.data, g.data).allSatisfy { abs($0 - $1) <= 1e-4 * max(scale, 1e-6) }, "\(p.name)")
        }
        #expect(net.synthesis.parameters.contains { $0.grad.data.contains { $0 != 0 } })
    }

    /// The tail-only step: the full step's loss and tail gradients (the body runs on the
    /// inference path, which sums in another order), and no gradient for anything else.
    @Test func tailOnlyTrainsTheTailAlone() {
        let net = MeanScaleHyperprior(config: HyperpriorConfig(channels: 5, latentChannels: 3, hyperChannels: 2, lambdas: [0.01, 0.1],
                                                              levelModulation: true, tailChannels: 4), seed: 6)
        // Off the identity it starts as, so that every tail weight has a gradient.
        var g = SeededGenerator(seed: 8)
        for p in net.tail.flatMap(\.parameters) { for i in 0..<p.value.count { p.value.data[i] += (g.uniform() - 0.5) * 0.2 } }
        let x = Self.raiseGainsAndMakeBatch(net, seed: 15)
        var step = VariableRateStep(network: net, seed: 7)
        net.parameters.forEach { $0.zeroGrad() }
        let full = step.run(x, step: 3)
        let tailParameters = net.tail.flatMap(\.parameters)
        let expected = tailParameters.map(\.grad)
        net.parameters.forEach { $0.zeroGrad() }
        step.tailOnly = true
        let alone = step.run(x, step: 3)
        #expect(abs(alone.loss - full.loss) <= 1e-5 * full.loss && abs(alone.bpp - full.bpp) <= 1e-6 * full.bpp)
        let tail = Set(tailParameters.map(\.name))
        #expect(net.parameters.filter { !tail.contains($0.name) }.allSatisfy { $0.grad.data.allSatisfy { $0 == 0 } })
        for (p, g) in zip(tailParameters, expected) {
            let scale = g.data.reduce(Float(0)) { max($0, abs($1)) }
            #expect(scale > 0, "\(p.name)")
            #expect(zip(p.grad.data, g.data).allSatisfy { abs($0 - $1) <= 1e-3 * scale }, "\(p.name)")
        }
        Self.compareWithCentralDifferences(tailParameters, seed: 6) {
            net.parameters.forEach { $0.zeroGrad() }
            return step.run(x, step: 3).loss
        }
    }

    /// The gradients now in `parameters` against central differences of `loss` at a few
    /// entries of each (the gradients are read before any probe moves a value).
    static func compareWithCentralDifferences(_ parameters: [Parameter], seed: UInt64, tolerance: Double = 3e-2,
                                              _ loss: () -> Double) {
        let analytic = parameters.map(\.grad)
        var probe = SeededGenerator(seed: seed)
        for (k, p) in parameters.enumerated() {
            for i in GradientCheck.probes(p.value.count, &probe, limit: 6) {
                let saved = p.value.data[i], h: Float = 1e-2
                p.value.data[i] = saved + h
                let fp = loss()
                p.value.data[i] = saved - h
                let fm = loss()
                p.value.data[i] = saved
                _ = GradientCheck.compare(numeric: (fp - fm) / (2 * Double(h)), analytic: Double(analytic[k].data[i]),
                                          tolerance: tolerance, "\(p.name)[\(i)]")
            }
        }
    }

    @Test func everyBatchOfLevelsCropsHoldsEachLevelOnce() {
        let net = MeanScaleHyperprior(config: HyperpriorConfig(channels: 4, latentChannels: 2, hyperChannels: 2), seed: 1)
        let step = VariableRateStep(network: net, seed: 9)
        for s in 0..<20 {
            let levels = step.levels(batch: 16, step: s)
            #expect(levels[..<8].sorted() == Array(0..<8) && levels[8...].sorted() == Array(0..<8))
            #expect(levels == step.levels(batch: 16, step: s))
        }
        #expect(step.levels(batch: 8, step: 0) != step.levels(batch: 8, step: 1))
    }

    @Test func trainedLevelsAloneAreDrawn() {
        let net = MeanScaleHyperprior(config: HyperpriorConfig(channels: 4, latentChannels: 2, hyperChannels: 2), seed: 1)
        var step = VariableRateStep(network: net, seed: 9)
        step.trainedLevels = [3]
        #expect(step.levels(batch: 8, step: 5) == Array(repeating: 3, count: 8))
        step.trainedLevels = [0, 7]
        for s in 0..<10 {
            let levels = step.levels(batch: 6, step: s)
            #expect(levels.count == 6 && levels[..<2].sorted() == [0, 7] && levels[4...].sorted() == [0, 7])
        }
    }

    @Test func levelWeightsAreOneAtTheGeometricMeanLambda() {
        let w = VariableRateStep.weights([0.001, 0.01, 0.1])
        #expect(abs(w[1] - 1) < 1e-6 && abs(w[0] - 10.0.squareRoot()) < 1e-5 && abs(w[2] - 0.1.squareRoot()) < 1e-6)
    }

    @Test func higherLevelsSpendMoreBitsForMoreQuality() throws {
        let net = Self.tinyNetwork()
        for c in 0..<3 { net.gains.value.data[c] = -1 / MeanScaleHyperprior.gainScale; net.gains.value.data[3 + c] = 3 / MeanScaleHyperprior.gainScale }
        var g = SeededGenerator(seed: 4)
        let crop = Tensor(shape: [1, 3, 64, 64], data: (0..<(3 * 64 * 64)).map { _ in g.uniform() })
        let points = VariableRateStep.evaluate(net, crops: [crop])
        #expect(points.count == 2 && points[1].bpp > points[0].bpp)
    }
}
