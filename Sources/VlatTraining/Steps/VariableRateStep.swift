import Foundation
import VlatModels
import VlatTensor

/// One training step of a variable-rate `MeanScaleHyperprior`: every crop of the batch is
/// trained at a rate level of its own (a batch of `levels` crops holds each level once), with
/// loss
/// ```
/// sum over crops n of  w(n) * (lambda(n) * 255^2 * MSE(n) + bpp_y(n)) / B  +  bpp_z
/// ```
/// where `w = sqrt(lambda_mid / lambda)` evens out the levels' very different loss sizes (a
/// level's loss grows about as the square root of its lambda), so the top level does not
/// drown out the bottom one; each level's own optimum is unchanged.
///
/// The rate uses additive uniform noise in place of rounding (Balle et al. 2017); the
/// synthesis sees the rounded residual plus the mean, with a straight-through gradient
/// (Minnen & Singh 2020), so the decoder trains on what it will decode.
public struct VariableRateStep: TrainingStep {
    public let network: MeanScaleHyperprior
    public let seed: UInt64
    public let synthesisInput: SynthesisInput
    /// Train the entropy model alone (`runEntropyOnly`).
    public var entropyOnly = false
    /// Train the synthesis alone: `run` stops its backward pass at the synthesis' input, so
    /// the analysis, the entropy model and the gains get no gradient.
    public var synthesisOnly = false
    /// The synthesis elements that learn, by parameter name (a widening's new channels,
    /// `MeanScaleHyperprior.newSynthesisElements`, and a tail's own channels,
    /// `tailLearnedElements`): the others' gradients are zeroed, in every mode. Nil: all.
    public var learnedSynthesisElements: [String: [Bool]]?
    /// Train the synthesis' tail alone (`HyperpriorConfig.tailSpecs`), on what the frozen
    /// rest of the network reconstructs: everything before the tail runs as at inference, and
    /// the backward pass stops at the tail's input, so a step costs about half a full one.
    public var tailOnly = false
    /// The levels trained (0-based, as `levels(batch:step:)` draws them); nil for all.
    public var trainedLevels: [Int]?

    /// What the synthesis transform is given in training. Both pass the gradient to `g * y`
    /// one for one and none to the mean, so they share the backward pass.
    public enum SynthesisInput: Sendable {
        /// `round(g * y - g * mean) + g * mean`, scaled back: what the decoder will see.
        case straightThrough
        /// `g * y + u` with the rate's own uniform noise `u`, scaled back: differentiable
        /// everywhere, which is what the finite-difference test of the gradients needs.
        case noisy
    }

    public init(network: MeanScaleHyperprior, seed: UInt64, synthesisInput: SynthesisInput = .straightThrough) {
        self.network = network
        self.seed = seed
        self.synthesisInput = synthesisInput
    }

    public func train(on x: Tensor, step: Int) -> StepResult {
        if entropyOnly {
            let r = runEntropyOnly(x, step: step)
            return StepResult(loss: r.loss, mse: .nan, bitsPerPixel: r.bpp)
        }
        let r = run(x, step: step)
        return StepResult(loss: r.loss, mse: r.mse, bitsPerPixel: r.bpp)
    }

    /// Loss weight of each level.
    public static func weights(_ lambdas: [Float]) -> [Double] {
        let logMid = lambdas.reduce(0.0) { $0 + log(Double($1)) } / Double(lambdas.count)
        return lambdas.map { (exp(logMid) / Double($0)).squareRoot() }
    }

    /// The level of each crop of step `step`'s batch: successive blocks of as many crops as
    /// there are trained levels are permutations of them.
    public func levels(batch: Int, step: Int) -> [Int] {
        var g = SeededGenerator(seed: seed ^ 0x1E7E_15EE_D000, stream: UInt64(step))
        let trained = trainedLevels ?? Array(0..<network.config.levels)
        let count = trained.count
        var out: [Int] = []
        while out.count < batch {
            var perm = trained
            for i in stride(from: count - 1, to: 0, by: -1) { perm.swapAt(i, Int(g.next() % UInt64(i + 1))) }
            out += perm
        }
        return Array(out.prefix(batch))
    }

    /// Forward and backward on `x` `[B, 3, H, W]` (H, W multiples of 64), accumulating every
    /// parameter's gradient. Returns (loss, mean MSE, mean bits per pixel).
    public func run(_ x: Tensor, step: Int) -> (loss: Double, mse: Double, bpp: Double) {
        let net = network, config = net.config
        let b = x.n, pixels = Double(x.h * x.w), m = config.latentChannels
        let levelOf = levels(batch: b, step: step)
        let weights = Self.weights(config.lambdas)
        var noise = SeededGenerator(seed: seed ^ 0x0000_0015_E0A5, stream: UInt64(step))

        let gainsPerLevel = (0..<config.levels).map { net.log2Gains(level: Double($0)) }
        net.setLevels(levelOf.map(Double.init))
        let learnsBelow = !synthesisOnly && !tailOnly
        let y = net.analysis.forward(x, training: learnsBelow)
        let plane = y.h * y.w
        let yg = net.gainedLatent(y, levels: levelOf.map(Double.init))
        var z = net.hyperAnalysis.forward(yg, training: learnsBelow)
        for i in 0..<z.count { z.data[i] += noise.uniform() - 0.5 }
        let zBits = net.hyperPrior.forward(z, training: learnsBelow).bits
        let hyperParams = net.hyperSynthesis.forward(z, training: learnsBelow)
        precondition(hyperParams.h == y.h && hyperParams.w == y.w, "crops must be multiples of \(HyperpriorConfig.hyperDownsampling)")
        let uniforms = (0..<y.count).map { _ in noise.uniform() - 0.5 }
        let params = withContext(hyperParams, gained: yg, noise: uniforms)

        // Per element: the quantized latent for the synthesis, and what the backward needs.
        var yHat = Tensor(zeros: y.shape)
        var dRate = [Float](repeating: 0, count: y.count)      // d bits / d residual
        var dLogScale = [Float](repeating: 0, count: y.count)  // d bits / d log scale
        var yBits = [Double](repeating: 0, count: b)
        for n in 0..<b {
            let log2g = gainsPerLevel[levelOf[n]]
            var bits = 0.0
            for c in 0..<m {
                let g = exp2(log2g[c])
                for p in 0..<plane {
                    let i = (n * m + c) * plane + p
                    let j = (n * 2 * m + c) * plane + p, js = j + m * plane
                    let ygv = Double(yg.data[i]), mean = Double(params.data[j])
                    var scale = exp(Double(params.data[js]))
                    let bounded = scale < GaussianConditional.scaleBound
                    if bounded { scale = GaussianConditional.scaleBound }
                    let (bitsHere, dr, ds) = GaussianConditional.bits(residual: ygv + Double(uniforms[i]) - mean, scale: scale)
                    bits += bitsHere
                    dRate[i] = Float(dr)
                    dLogScale[i] = bounded ? 0 : Float(ds * scale)
                    switch synthesisInput {
                    case .straightThrough: yHat.data[i] = Float(((ygv - mean).rounded() + mean) / g)
                    case .noisy: yHat.data[i] = Float((ygv + Double(uniforms[i])) / g)
                    }
                }
            }
            yBits[n] = bits
        }

        // With `tailOnly`, the synthesis' body runs as at inference and only its tail keeps
        // what a backward pass needs.
        let layers = net.synthesis.layers, body = tailOnly ? layers.count - config.tailSpecs.count : 0
        let tailInput = layers[..<body].reduce(yHat) { $1.forward($0, training: false) }
        let out = layers[body...].reduce(tailInput) { $1.forward($0, training: true) }
        var dOut = Tensor(zeros: out.shape)
        let perSample = out.count / b
        var mse = [Double](repeating: 0, count: b)
        for n in 0..<b {
            let l = levelOf[n]
            let scale = Float(weights[l] * Double(config.lambdas[l]) * 255 * 255 * 2 / Double(perSample * b))
            var s = 0.0
            for k in (n * perSample)..<((n + 1) * perSample) {
                let d = out.data[k] - x.data[k]
                s += Double(d) * Double(d)
                dOut.data[k] = scale * d
            }
            mse[n] = s / Double(perSample)
        }

        let dYHat = layers[body...].reversed().reduce(dOut) { $1.backward($0) }
        if let learned = learnedSynthesisElements {
            for p in net.synthesis.parameters {
                guard let mask = learned[p.name] else { continue }
                for i in 0..<p.grad.count where !mask[i] { p.grad.data[i] = 0 }
            }
        }
        var loss = zBits / (Double(b) * pixels)
        for n in 0..<b {
            let l = levelOf[n]
            loss += weights[l] * (Double(config.lambdas[l]) * 255 * 255 * mse[n] + yBits[n] / pixels) / Double(b)
        }
        let bpp = (zBits + yBits.reduce(0, +)) / (Double(b) * pixels)
        guard learnsBelow else { return (loss, mse.reduce(0, +) / Double(b), bpp) }
        var dYg = Tensor(zeros: y.shape)
        var dParams = Tensor(zeros: params.shape)
        var dGain = [Double](repeating: 0, count: config.levels * m)
        for n in 0..<b {
            let l = levelOf[n], log2g = gainsPerLevel[l]
            let rateWeight = weights[l] / (Double(b) * pixels)
            for c in 0..<m {
                let g = exp2(log2g[c])
                var dg = 0.0
                for p in 0..<plane {
                    let i = (n * m + c) * plane + p
                    let j = (n * 2 * m + c) * plane + p, js = j + m * plane
                    let dyhat = Double(dYHat.data[i])
                    let dr = rateWeight * Double(dRate[i])
                    // Straight-through: the synthesis input moves with g * y one for one, not with the mean.
                    dYg.data[i] = Float(dyhat / g + dr)
                    dParams.data[j] = Float(-dr)
                    dParams.data[js] = Float(rateWeight * Double(dLogScale[i]))
                    // y^ = (...) / g: the division's own share of d/dg.
                    dg -= dyhat * Double(yHat.data[i]) / g
                }
                dGain[l * m + c] += dg
            }
        }

        if let dK = contextBackward(&dParams) { dYg.add(dK) }
        var dZ = net.hyperSynthesis.backward(dParams)
        dZ.add(net.hyperPrior.backward(scale: 1 / (Double(b) * pixels)))
        dYg.add(net.hyperAnalysis.backward(dZ))
        // Through g * y: to y, and to the gain.
        var dY = dYg
        for n in 0..<b {
            let l = levelOf[n], log2g = gainsPerLevel[l]
            for c in 0..<m {
                let g = exp2(log2g[c])
                var dg = 0.0
                for p in 0..<plane {
                    let i = (n * m + c) * plane + p
                    dg += Double(dYg.data[i]) * Double(y.data[i])
                    dY.data[i] = Float(Double(dYg.data[i]) * g)
                }
                dGain[l * m + c] += dg
            }
        }
        // d/d(stored gain) = gainScale * d/d(log2 g) = gainScale * g ln 2 * d/dg.
        for l in 0..<config.levels {
            for c in 0..<m {
                let k = l * m + c
                net.gains.grad.data[k] += Float(dGain[k] * exp2(gainsPerLevel[l][c]) * M_LN2 * Double(MeanScaleHyperprior.gainScale))
            }
        }
        _ = net.analysis.backward(dY)
        return (loss, mse.reduce(0, +) / Double(b), bpp)
    }
}

extension VariableRateStep {
    /// A step that trains only the entropy model (hyper-analysis, hyper-synthesis, the prior
    /// of z) on the latents of the frozen transforms, at the levels' current gains: the rate
    /// part of the loss alone, with no synthesis and no backward through the analysis, so it
    /// costs a fraction of a full step. The transforms and gains get no gradient (with Adam
    /// moments at zero, they stay exactly as they are). Returns (loss, bits per pixel).
    public func runEntropyOnly(_ x: Tensor, step: Int) -> (loss: Double, bpp: Double) {
        let net = network, config = net.config
        let b = x.n, pixels = Double(x.h * x.w), m = config.latentChannels
        let levelOf = levels(batch: b, step: step)
        let weights = Self.weights(config.lambdas)
        var noise = SeededGenerator(seed: seed ^ 0x0000_0015_E0A5, stream: UInt64(step))
        net.setLevels(levelOf.map(Double.init))
        let y = net.analysis.forward(x, training: false)
        let plane = y.h * y.w
        let yg = net.gainedLatent(y, levels: levelOf.map(Double.init))
        var z = net.hyperAnalysis.forward(yg, training: true)
        for i in 0..<z.count { z.data[i] += noise.uniform() - 0.5 }
        let zBits = net.hyperPrior.forward(z, training: true).bits
        let hyperParams = net.hyperSynthesis.forward(z, training: true)
        precondition(hyperParams.h == y.h && hyperParams.w == y.w, "crops must be multiples of \(HyperpriorConfig.hyperDownsampling)")
        let uniforms = (0..<y.count).map { _ in noise.uniform() - 0.5 }
        let params = withContext(hyperParams, gained: yg, noise: uniforms)
        var dParams = Tensor(zeros: params.shape)
        var loss = zBits / (Double(b) * pixels), bits = zBits
        for n in 0..<b {
            let rateWeight = weights[levelOf[n]] / (Double(b) * pixels)
            for c in 0..<m {
                for p in 0..<plane {
                    let i = (n * m + c) * plane + p
                    let j = (n * 2 * m + c) * plane + p, js = j + m * plane
                    let mean = Double(params.data[j])
                    var scale = exp(Double(params.data[js]))
                    let bounded = scale < GaussianConditional.scaleBound
                    if bounded { scale = GaussianConditional.scaleBound }
                    let (bitsHere, dr, ds) = GaussianConditional.bits(residual: Double(yg.data[i]) + Double(uniforms[i]) - mean, scale: scale)
                    bits += bitsHere
                    loss += rateWeight * bitsHere
                    dParams.data[j] = Float(-rateWeight * dr)
                    dParams.data[js] = bounded ? 0 : Float(rateWeight * ds * scale)
                }
            }
        }
        _ = contextBackward(&dParams)
        var dZ = net.hyperSynthesis.backward(dParams)
        dZ.add(net.hyperPrior.backward(scale: 1 / (Double(b) * pixels)))
        _ = net.hyperAnalysis.backward(dZ)
        return (loss, bits / (Double(b) * pixels))
    }

    /// PSNR (dB, outputs clamped to [0, 1]) and rate (bits per pixel of y and z) of `crops` at
    /// each level, with rounded z and rounded residuals, as the codec would code them (its
    /// scales come from a fixed table, which costs a little more; `vlat bench` measures files).
    public static func evaluate(_ net: MeanScaleHyperprior, crops: [Tensor]) -> [(psnr: Double, bpp: Double)] {
        let config = net.config, m = config.latentChannels
        var sums = [(psnr: Double, bpp: Double)](repeating: (0, 0), count: config.levels)
        guard !crops.isEmpty else { return sums }
        let gains = (0..<config.levels).map { net.gainValues(level: Double($0)) }
        for x in crops {
            let pixels = Double(x.h * x.w)
            net.setLevels(Array(repeating: 0, count: x.n))
            let shared = net.modulations.isEmpty ? net.analysis.forward(x, training: false) : nil
            for level in 0..<config.levels {
                // With modulations the transforms depend on the level.
                net.setLevels(Array(repeating: Double(level), count: x.n))
                let y = shared ?? net.analysis.forward(x, training: false)
                let plane = y.h * y.w
                let yg = net.gainedLatent(y, levels: Array(repeating: Double(level), count: y.n))
                let zHat = net.hyperLatent(yg)
                var bits = net.hyperPrior.forward(zHat, training: false).bits
                let (mean, logScale) = net.meanAndLogScale(zHat, gained: yg)
                var yHat = y
                for i in 0..<y.count {
                    let g = gains[level][(i / plane) % m]
                    let k = (Double(yg.data[i]) - Double(mean.data[i])).rounded()
                    let scale = max(exp(Double(logScale.data[i])), GaussianConditional.scaleBound)
                    bits += GaussianConditional.bits(residual: k, scale: scale).bits
                    yHat.data[i] = Float((k + Double(mean.data[i])) / g)
                }
                sums[level].psnr += Trainer.psnr(net.synthesis.forward(yHat, training: false), x)
                sums[level].bpp += bits / pixels
            }
        }
        let n = Double(crops.count)
        return sums.map { ($0.psnr / n, $0.bpp / n) }
    }
}

extension VariableRateStep {
    /// The hyper-synthesis' output `p` corrected by the contexts (`MeanScaleHyperprior.conditions`).
    /// They read what the decoder will have, the residuals rounded without the rate's noise
    /// (as the synthesis input is), unless the synthesis input is `.noisy`: then the latent
    /// plus the rate's noise `noise`, unrounded.
    func withContext(_ p: Tensor, gained yg: Tensor, noise: [Float]) -> Tensor {
        let rounded = synthesisInput == .straightThrough
        return network.conditions(p, gained: yg, noise: rounded ? nil : noise, rounded: rounded, training: true)
    }

    /// Takes the gradient `dParams` with respect to the corrected conditions back through the
    /// contexts, in reverse coding order, to the hyper-synthesis' output (the anchors' means
    /// included, straight through the rounding of their residuals `yg - mean`), and returns
    /// what reaches `yg` (nil without a context).
    func contextBackward(_ dParams: inout Tensor) -> Tensor? {
        guard network.context != nil || network.channelContext != nil else { return nil }
        let channel = network.channelContext
        var dYg = channel?.backward(&dParams, anchors: false)
        if let context = network.context {
            let (dK, dP) = context.backward(CheckerboardContext.nonAnchorPart(dParams))
            dParams.add(dP)
            let m = dK.c, plane = dK.h * dK.w
            for n in 0..<dK.n {
                for c in 0..<m {
                    for r in 0..<dK.h {
                        for x in stride(from: r & 1, to: dK.w, by: 2) {
                            let i = (n * m + c) * plane + r * dK.w + x, j = (n * 2 * m + c) * plane + r * dK.w + x
                            dParams.data[j] -= dK.data[i]
                        }
                    }
                }
            }
            // dK is zero away from the anchors (the symbols' taps there are zero and get no input).
            if dYg == nil { dYg = dK } else { dYg!.add(dK) }
        }
        if let channel { dYg!.add(channel.backward(&dParams, anchors: true)) }
        return dYg
    }
}
