import Testing
import VlatFormat
import VlatModels
import VlatTensor

@Suite("Widening a hyperprior's latent")
struct LatentWideningTests {
    static let narrow = HyperpriorConfig(channels: 6, latentChannels: 4, hyperChannels: 3, lambdas: [0.002, 0.02, 0.2],
                                         levelModulation: true, contextChannels: 5)

    static func image(seed: UInt64) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor(shape: [1, 3, 64, 64], data: (0..<(3 * 64 * 64)).map { _ in g.uniform() })
    }

    /// A source whose every tensor is nonzero, the context's last layer included (it starts at zero).
    static func source() -> MeanScaleHyperprior {
        let net = MeanScaleHyperprior(config: narrow, seed: 3)
        var g = SeededGenerator(seed: 4)
        for p in net.context!.head.layers[3].parameters { p.value = Tensor(shape: p.value.shape, data: p.value.data.map { _ in g.uniform() - 0.5 }) }
        return net
    }

    @Test func theWidenedNetworkComputesWhatTheSourceDid() throws {
        let source = Self.source()
        var config = Self.narrow
        config.latentChannels = 7
        let wide = MeanScaleHyperprior(config: config, seed: 9)
        #expect(try wide.widenLatent(from: source).count == wide.parameters.count)
        let x = Self.image(seed: 1)
        for level in [0.0, 1.5, 2.0] {
            source.setLevels([level]); wide.setLevels([level])
            let (ys, yw) = (source.analysis.forward(x, training: false), wide.analysis.forward(x, training: false))
            let plane = ys.h * ys.w
            // The source's channels are the same; the new ones are small but not zero.
            for i in 0..<ys.count { #expect(abs(ys.data[i] - yw.data[i]) <= 1e-5 * max(1, abs(ys.data[i]))) }
            #expect(yw.data[(4 * plane)...].contains { $0 != 0 })
            // Whatever the new channels hold, the reconstruction and z are the source's.
            let (xs, xw) = (source.synthesis.forward(ys, training: false), wide.synthesis.forward(yw, training: false))
            for i in 0..<xs.count { #expect(abs(xs.data[i] - xw.data[i]) <= 1e-5) }
            let (gs, gw) = (source.gainedLatent(ys, levels: [level]), wide.gainedLatent(yw, levels: [level]))
            let (zs, zw) = (source.hyperLatent(gs), wide.hyperLatent(gw))
            #expect(zs == zw)
            // Means and log-scales (context included) of the source's channels are the same; the
            // new channels get a zero mean and the narrow starting scale.
            let ((ms, ss), (mw, sw)) = (source.meanAndLogScale(zs, gained: gs), wide.meanAndLogScale(zw, gained: gw))
            for i in 0..<ms.count {
                #expect(abs(ms.data[i] - mw.data[i]) <= 1e-4 && abs(ss.data[i] - sw.data[i]) <= 1e-4)
            }
            for i in (4 * plane)..<mw.count {
                #expect(abs(mw.data[i]) <= 1e-6 && abs(sw.data[i] - MeanScaleHyperprior.wideningLogScale) <= 1e-6)
            }
            // New gains: the mean of the source's log gains at the level.
            let (ls, lw) = (source.log2Gains(level: level), wide.log2Gains(level: level))
            #expect(Array(lw.prefix(4)) == ls)
            for c in 4..<7 { #expect(abs(lw[c] - ls.reduce(0, +) / 4) <= 1e-5) }
        }
    }

    @Test func refusesAnythingButAWiderLatent() {
        let source = Self.source()
        var other = Self.narrow
        other.latentChannels = 7
        other.hyperChannels = 4
        #expect(throws: ModelFileError.self) { try MeanScaleHyperprior(config: other, seed: 1).widenLatent(from: source) }
        #expect(throws: ModelFileError.self) { try MeanScaleHyperprior(config: Self.narrow, seed: 1).widenLatent(from: source) }
    }
}
