import Testing
import VlatTestSupport
import VlatTensor
@testable import VlatModels

@Suite("Channel context")
struct ChannelContextTests {
    /// A channel context of three groups of one channel each, its output layers moved off zero
    /// and its hidden biases raised so that no ReLU sits near its kink (a finite difference
    /// across one is no derivative).
    static func context(seed: UInt64) -> ChannelContext {
        var g = SeededGenerator(seed: seed)
        let c = ChannelContext(latentChannels: 3, groups: 3, hiddenChannels: 4, generator: &g)
        ChannelContextTests.prepare(c, generator: &g)
        return c
    }

    static func prepare(_ c: ChannelContext, generator g: inout SeededGenerator) {
        for net in c.anchorNetworks + c.otherNetworks {
            for p in net.layers[4].parameters { for i in 0..<p.value.count { p.value.data[i] = (g.uniform() - 0.5) * 0.6 } }
            for k in [0, 2] { net.layers[k].parameters[1].value = Tensor(shape: [4], data: [Float](repeating: 8, count: 4)) }
        }
    }

    /// One half's `correct` then `backward` against central differences of `sum(r * P')`: the
    /// gradients reaching the conditions `P` (directly and through the later groups' inputs),
    /// the gained latent (through the earlier groups' decoded values) and the networks' weights.
    @Test(arguments: [true, false]) func backwardMatchesFiniteDifferences(anchors: Bool) {
        let c = Self.context(seed: anchors ? 1 : 2)
        var g = SeededGenerator(seed: 3)
        var yg = GradientCheck.random([1, 3, 4, 5], &g, scale: 2)
        var p = GradientCheck.random([1, 6, 4, 5], &g, scale: 1)
        let r = GradientCheck.random([1, 6, 4, 5], &g)
        let noise = GradientCheck.random([1, 3, 4, 5], &g, scale: 0.5).data
        func f() -> Double {
            var q = p
            c.correct(&q, anchors: anchors, gained: yg, noise: noise, rounded: false, training: true)
            return GradientCheck.dot(r, q)
        }
        c.parameters.forEach { $0.zeroGrad() }
        _ = f()
        var dP = r
        let dYg = c.backward(&dP, anchors: anchors)
        var probe = SeededGenerator(seed: 4)
        GradientCheck.checkEntries("P", dP, generator: &probe, get: { p.data[$0] }, set: { p.data[$0] = $1 }) { f() }
        GradientCheck.checkEntries("yg", dYg, generator: &probe, get: { yg.data[$0] }, set: { yg.data[$0] = $1 }) { f() }
        // Every ReLU active: the correction is linear in each single weight, so a large step is exact.
        GradientCheck.checkParameters(anchors ? c.anchorNetworks.flatMap(\.parameters) : c.otherNetworks.flatMap(\.parameters),
                                      h: 5e-2, tolerance: 1e-2, generator: &probe) { f() }
    }
}
