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

    /// Source channels 2, 0 and 2 again split into new channels 4, 5 and 6.
    static let splitting = [2, 0, 2]

    @Test func theWidenedNetworkComputesWhatTheSourceDid() throws {
        let source = Self.source()
        var config = Self.narrow
        config.latentChannels = 7
        let wide = MeanScaleHyperprior(config: config, seed: 9)
        #expect(try wide.widenLatent(from: source, splitting: Self.splitting).count == wide.parameters.count)
        let origin = [0, 1, 2, 3] + Self.splitting
        let x = Self.image(seed: 1)
        for level in [0.0, 1.5, 2.0] {
            source.setLevels([level]); wide.setLevels([level])
            let (ys, yw) = (source.analysis.forward(x, training: false), wide.analysis.forward(x, training: false))
            let plane = ys.h * ys.w
            func channel(_ t: Tensor, _ c: Int) -> ArraySlice<Float> { t.data[(c * plane)..<((c + 1) * plane)] }
            // Channels not split are the source's; a split channel and its copies differ from it
            // and from each other, and sum to it times their count.
            for c in [1, 3] { #expect(zip(channel(ys, c), channel(yw, c)).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($0)) }) }
            for c in [0, 2] {
                let parts = origin.indices.filter { origin[$0] == c }
                for (a, b) in zip(parts, parts.dropFirst()) { #expect(zip(channel(yw, a), channel(yw, b)).contains { abs($0 - $1) > 1e-3 }) }
                for i in 0..<plane {
                    let sum = parts.reduce(Float(0)) { $0 + yw.data[$1 * plane + i] }
                    #expect(abs(sum - Float(parts.count) * ys.data[c * plane + i]) <= 1e-4 * max(1, abs(sum)))
                }
            }
            // So every reader of the latent computes what the source's did: the reconstruction
            // and the hyper-analysis (before rounding).
            let (xs, xw) = (source.synthesis.forward(ys, training: false), wide.synthesis.forward(yw, training: false))
            for i in 0..<xs.count { #expect(abs(xs.data[i] - xw.data[i]) <= 1e-5) }
            let (gs, gw) = (source.gainedLatent(ys, levels: [level]), wide.gainedLatent(yw, levels: [level]))
            let (hs, hw) = (source.hyperAnalysis.forward(gs, training: false), wide.hyperAnalysis.forward(gw, training: false))
            for i in 0..<hs.count { #expect(abs(hs.data[i] - hw.data[i]) <= 1e-4 * max(1, abs(hs.data[i]))) }
            // Each channel's predicted mean and log-scale are its source channel's.
            let zs = source.hyperLatent(gs)
            let (ps, pw) = (source.hyperSynthesis.forward(zs, training: false), wide.hyperSynthesis.forward(zs, training: false))
            let zplane = ps.h * ps.w
            for (c, o) in origin.enumerated() {
                for half in 0..<2 {
                    for i in 0..<zplane {
                        #expect(abs(ps.data[(half * 4 + o) * zplane + i] - pw.data[(half * 7 + c) * zplane + i]) <= 1e-4)
                    }
                }
            }
            // Gains: each copy's are its source's.
            let (ls, lw) = (source.log2Gains(level: level), wide.log2Gains(level: level))
            #expect(lw == origin.map { ls[$0] })
        }
        // The context reads a split channel and its copies with a share of its weights each.
        let (ks, kw) = (source.context!.symbols.weight.value, wide.context!.symbols.weight.value)
        let taps = 25, hidden = ks.shape[0]
        let shares = origin.map { o in 1 / Float(origin.filter { $0 == o }.count) }
        for h in 0..<hidden {
            for (c, o) in origin.enumerated() {
                for t in 0..<taps {
                    #expect(abs(kw.data[(h * 7 + c) * taps + t] - shares[c] * ks.data[(h * 4 + o) * taps + t]) <= 1e-7)
                }
            }
        }
    }

    @Test func adamsMomentsWidenAsTheWeightsDo() throws {
        let source = Self.source()
        var config = Self.narrow
        config.latentChannels = 7
        let wide = MeanScaleHyperprior(config: config, seed: 9)
        // Moments: the weights themselves for m, their squares for v, so the expected values are known.
        let m = Dictionary(uniqueKeysWithValues: source.parameters.map { ($0.name, $0.value) })
        let v = m.mapValues { Tensor(shape: $0.shape, data: $0.data.map { $0 * $0 }) }
        let (first, second) = try wide.widenedMoments(from: source, splitting: Self.splitting, firstMoments: m, secondMoments: v)
        let origin = [0, 1, 2, 3] + Self.splitting
        let share = origin.map { o in 1 / Float(origin.filter { $0 == o }.count) }
        for (k, p) in wide.parameters.enumerated() {
            #expect(first[k].count == p.value.count && second[k].count == p.value.count)
            // Every second moment is the square of the first: shares squared where the first has the share.
            for i in 0..<first[k].count { #expect(abs(second[k][i] - first[k][i] * first[k][i]) <= 1e-6 * max(1, second[k][i])) }
        }
        // The synthesis' first layer reads latent channel c with its source's weights times the share.
        let reader = wide.parameters.firstIndex { $0.name == wide.synthesis.parameters[0].name }!
        let old = m[wide.synthesis.parameters[0].name]!
        let size = old.count / 4
        for (c, o) in origin.enumerated() {
            for e in 0..<size { #expect(abs(first[reader][c * size + e] - share[c] * old.data[o * size + e]) <= 1e-7) }
        }
        // A source without optimizer state for a tensor is refused.
        var missing = m
        missing.removeValue(forKey: "gain")
        #expect(throws: ModelFileError.self) {
            try wide.widenedMoments(from: source, splitting: Self.splitting, firstMoments: missing, secondMoments: v)
        }
    }

    @Test func splitsTheChannelsThatSpreadLeast() {
        let source = Self.source()
        let images = [Self.image(seed: 5), Self.image(seed: 6)]
        let chosen = source.leastSpreadChannels(2, on: images)
        // The spread each channel has at the top level, computed here directly.
        source.setLevels([2])
        let gains = source.gainValues(level: 2)
        var spread = [Double](repeating: 0, count: 4)
        for x in images {
            let y = source.analysis.forward(x, training: false), plane = y.h * y.w
            for c in 0..<4 {
                let v = (0..<plane).map { Double(y.data[c * plane + $0]) * gains[c] }
                let mean = v.reduce(0, +) / Double(plane)
                spread[c] += v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
            }
        }
        #expect(chosen == Array((0..<4).sorted { spread[$0] < spread[$1] }.prefix(2)))
    }

    @Test func refusesAnythingButAWiderLatent() {
        let source = Self.source()
        var other = Self.narrow
        other.latentChannels = 7
        other.hyperChannels = 4
        #expect(throws: ModelFileError.self) { try MeanScaleHyperprior(config: other, seed: 1).widenLatent(from: source, splitting: Self.splitting) }
        #expect(throws: ModelFileError.self) { try MeanScaleHyperprior(config: Self.narrow, seed: 1).widenLatent(from: source, splitting: []) }
        // One source channel for each new one, each a channel of the source.
        var wider = Self.narrow
        wider.latentChannels = 7
        #expect(throws: ModelFileError.self) { try MeanScaleHyperprior(config: wider, seed: 1).widenLatent(from: source, splitting: [0, 1]) }
        #expect(throws: ModelFileError.self) { try MeanScaleHyperprior(config: wider, seed: 1).widenLatent(from: source, splitting: [0, 1, 4]) }
    }
}
