import Testing
import VlatFormat
import VlatModels
import VlatTensor
import VlatTestSupport

@Suite("Denoiser")
struct DenoiserTests {
    static let configs = [
        DenoiserConfig(channels: 3, levels: 2, blocks: 2, skips: true, residual: true),
        DenoiserConfig(channels: 3, levels: 1, blocks: 1, skips: false, residual: false),
        DenoiserConfig(channels: 4, levels: 0, blocks: 2, skips: true, residual: true),
    ]

    /// Relative errors of central differences of f = sum(r * net(x)) against the analytic
    /// gradients, for sampled elements of every parameter.
    static func gradientErrors(_ net: Denoiser, h: Float, seed: UInt64) -> [(String, Double)] {
        var g = SeededGenerator(seed: seed)
        let x = GradientCheck.random([2, 3, 8, 12], &g)
        let y = net.forward(x, training: true)
        let r = GradientCheck.random(y.shape, &g)
        for p in net.parameters { p.zeroGrad() }
        net.backward(r)
        var errors: [(String, Double)] = []
        for p in net.parameters {
            for i in GradientCheck.probes(p.value.count, &g, limit: 12) {
                let saved = p.value.data[i]
                p.value.data[i] = saved + h
                let fp = GradientCheck.dot(r, net.forward(x, training: false))
                p.value.data[i] = saved - h
                let fm = GradientCheck.dot(r, net.forward(x, training: false))
                p.value.data[i] = saved
                let numeric = (fp - fm) / (2 * Double(h)), analytic = Double(p.grad.data[i])
                errors.append(("\(p.name)[\(i)]", abs(numeric - analytic) / max(0.05, abs(numeric), abs(analytic))))
            }
        }
        return errors
    }

    /// ReLU makes f piecewise linear: a probe whose step crosses a kink disagrees by design
    /// (perturbing a first-layer weight moves every unit after it). So the test asks, for every
    /// parameter tensor, that most of its probes agree closely: a wiring error (a lost skip or
    /// residual gradient, a wrong up or down step) breaks all probes of the tensors it feeds.
    @Test(arguments: configs)
    func gradientsMatchFiniteDifferences(config: DenoiserConfig) {
        let errors = Self.gradientErrors(Denoiser(config: config, seed: 3), h: 3e-4, seed: 4)
        let byTensor = Dictionary(grouping: errors) { String($0.0.prefix { $0 != "[" }) }
        #expect(byTensor.count == Denoiser(config: config, seed: 3).parameters.count)
        for (tensor, probes) in byTensor {
            let sorted = probes.map(\.1).sorted()
            #expect(sorted[sorted.count / 2] < 5e-2, "\(tensor): median relative error \(sorted[sorted.count / 2]) over \(sorted.count) probes")
        }
        let all = errors.map(\.1).sorted()
        #expect(all[all.count * 3 / 4] < 2e-2, "75th percentile \(all[all.count * 3 / 4])")
    }

    @Test(arguments: configs)
    func tilesGiveTheWholeImageResult(config: DenoiserConfig) {
        let net = Denoiser(config: config, seed: 5)
        var g = SeededGenerator(seed: 6)
        let x = Tensor(shape: [1, 3, 37, 53], data: (0..<(3 * 37 * 53)).map { _ in g.uniform() })
        let whole = net.denoise(x, tile: 4096)
        let tiled = net.denoise(x, tile: 8)
        #expect(whole.shape == x.shape && tiled.shape == x.shape)
        let worst = zip(whole.data, tiled.data).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5, "largest difference \(worst)")
    }

    @Test func selfEnsembleIsEquivariantAndDiffersFromOnePass() {
        // Without the residual path, so that the network's own output (not the input) dominates.
        let net = Denoiser(config: DenoiserConfig(channels: 4, levels: 2, blocks: 1, residual: false), seed: 9)
        var g = SeededGenerator(seed: 10)
        let x = Tensor(shape: [1, 3, 13, 21], data: (0..<(3 * 13 * 21)).map { _ in g.uniform() })
        let ensemble = net.denoiseSelfEnsemble(x, tile: 8)
        #expect(ensemble.shape == x.shape)
        #expect(zip(ensemble.data, net.denoise(x).data).map { abs($0 - $1) }.max()! > 1e-4)
        // Turning the input turns the output the same way (to float rounding): one pass of an
        // untrained network is not, the average over the group is.
        for d in Dihedral.allCases {
            let turned = net.denoiseSelfEnsemble(d.apply(x), tile: 8)
            let worst = zip(turned.data, d.apply(ensemble).data).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-5, "\(d): \(worst)")
        }
        let onePass = zip(net.denoise(Dihedral.allCases[5].apply(x)).data, Dihedral.allCases[5].apply(net.denoise(x)).data)
        #expect(onePass.map { abs($0 - $1) }.max()! > 1e-4)
    }

    @Test func receptiveRadiusBoundsWhatAnOutputSees() {
        let config = DenoiserConfig(channels: 4, levels: 2, blocks: 2)
        let net = Denoiser(config: config, seed: 7)
        let (h, w) = (64, 64)
        var x = Tensor(zeros: [1, 3, h, w])
        let base = net.forward(x, training: false)
        x.data[32 * w + 32] = 1 // one pixel of the first channel
        let moved = net.forward(x, training: false)
        var farthest = 0
        for c in 0..<3 {
            for yy in 0..<h {
                for xx in 0..<w where moved.data[(c * h + yy) * w + xx] != base.data[(c * h + yy) * w + xx] {
                    farthest = max(farthest, abs(yy - 32), abs(xx - 32))
                }
            }
        }
        #expect(farthest > 0 && farthest <= config.receptiveRadius, "reach \(farthest), radius \(config.receptiveRadius)")
    }

    @Test func modelFilesRoundTripAndAreChecked() throws {
        let net = Denoiser(config: DenoiserConfig(channels: 4, levels: 2, blocks: 1), seed: 8, metadata: ["note": "x"])
        var g = SeededGenerator(seed: 9)
        let x = Tensor(shape: [1, 3, 16, 20], data: (0..<(3 * 16 * 20)).map { _ in g.uniform() })
        let file = try ModelFile.parse(net.modelFile(extra: [], trainer: nil, storage: .float32).serialized())
        #expect(try NetworkKind(of: file) == .denoiser)
        let loaded = try Denoiser(modelFile: file)
        #expect(loaded.config == net.config && loaded.metadata == ["note": "x"])
        #expect(loaded.forward(x, training: false) == net.forward(x, training: false))
        // An autoencoder file is not a denoiser, and absurd shapes are refused before building.
        let ae = Autoencoder(config: AutoencoderConfig(objective: .ae, channels: 4, latentChannels: 3), seed: 1).modelFile()
        #expect(try NetworkKind(of: ae) == .autoencoder)
        #expect(throws: ModelFileError.self) { try Denoiser(modelFile: ae) }
        let huge = ModelFile(json: file.json.replacingOccurrences(of: "\"channels\":4", with: "\"channels\":100000"), tensors: file.tensors)
        #expect(throws: ModelFileError.self) { try Denoiser(modelFile: huge) }
        let missing = ModelFile(json: file.json, tensors: Array(file.tensors.dropLast()))
        #expect(throws: ModelFileError.self) { try Denoiser(modelFile: missing) }
    }

    @Test func residualLearningAddsTheInput() {
        var g = SeededGenerator(seed: 10)
        let x = Tensor(shape: [1, 3, 8, 8], data: (0..<192).map { _ in g.uniform() })
        for residual in [true, false] {
            let net = Denoiser(config: DenoiserConfig(channels: 4, levels: 1, blocks: 1, residual: residual), seed: 11)
            // With the last layer zeroed the correction is zero: the output is the input, or zero.
            for p in net.parameters where p.name.hasPrefix("head") { p.value = Tensor(zeros: p.value.shape) }
            #expect(net.forward(x, training: false) == (residual ? x : Tensor(zeros: x.shape)))
        }
    }

    @Test func macCountMatchesAHandCount() {
        // C=2, one level, one block: 3->2 conv at full res, 2->4 stride-2 conv at 1/4,
        // 4->2 transposed conv at full res, 2->3 head: 9 * (6 + 8/4 + 8 + 6) = 198.
        #expect(DenoiserConfig(channels: 2, levels: 1, blocks: 1).macsPerPixel == 198)
    }
}

