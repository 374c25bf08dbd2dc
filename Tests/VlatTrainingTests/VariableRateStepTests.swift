import Foundation
import Testing
import VlatTestSupport
import VlatModels
import VlatTensor
@testable import VlatTraining

@Suite("Variable-rate hyperprior training")
struct VariableRateStepTests {
    /// A tiny hyperprior with level modulations, set away from the identity so that their
    /// gradients are exercised.
    static func tinyNetwork(seed: UInt64 = 3) -> MeanScaleHyperprior {
        let net = MeanScaleHyperprior(config: HyperpriorConfig(channels: 5, latentChannels: 3, hyperChannels: 2, lambdas: [0.01, 0.1],
                                                              levelModulation: true), seed: seed)
        var g = SeededGenerator(seed: seed)
        for p in net.modulations.flatMap(\.parameters) { for i in 0..<p.value.count { p.value.data[i] = (g.uniform() - 0.5) * 0.4 } }
        return net
    }

    /// Every parameter's gradient, gains included, against central differences of the loss,
    /// with the differentiable synthesis input (the straight-through one shares this backward).
    @Test func gradientsMatchFiniteDifferences() {
        let net = Self.tinyNetwork()
        // Latents of a fresh network are tiny; larger gains put residuals and scales in the
        // range where the rate's gradients are large.
        for i in 0..<net.gains.value.count { net.gains.value.data[i] = Float(i % 3) / MeanScaleHyperprior.gainScale }
        var g = SeededGenerator(seed: 11)
        let x = Tensor(shape: [2, 3, 64, 64], data: (0..<(2 * 3 * 64 * 64)).map { _ in g.uniform() })
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
        for i in 0..<net.gains.value.count { net.gains.value.data[i] = Float(i % 3) / MeanScaleHyperprior.gainScale }
        var g = SeededGenerator(seed: 12)
        let x = Tensor(shape: [2, 3, 64, 64], data: (0..<(2 * 3 * 64 * 64)).map { _ in g.uniform() })
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
