import Foundation
import VlatModels
import VlatTensor

/// Encoder-side refinement of one image's latents: a slower, better encode that any vlat
/// decoder reads, since the decoder and the format do not change.
///
/// The analysis transform is amortised: trained to do well over the whole training set, so for
/// any one image its latents are not the ones that minimise that image's own loss
/// `lambda * 255^2 * MSE + bits per pixel` (Campos et al. 2019, "Content adaptive optimization
/// for neural image compression"; Yang et al. 2020 call the difference the amortisation gap).
/// Refinement starts from the analysis output and takes `steps` Adam steps on the latents
/// themselves, through the frozen synthesis transform and prior, with the uniform-noise
/// stand-in for rounding the model was trained with (or, with `annealing`, stochastic Gumbel
/// annealing, which hardens towards real rounding over the steps). The loss counts only the image's own
/// pixels, not the padding. At the end the rounded result is kept only if its real loss
/// (rounded latents, real prior) is below that of the unrefined latents, so refinement never
/// makes an image's rate-distortion loss worse.
///
/// ```swift
/// let model = try CodecModel(bytes: FileReader.read("q8.vlatmodel"))
/// let container = try ImageCodec.encode(image, model: model, refinement: LatentRefinement(steps: 20))
/// ```
///
/// Cost: each step is a synthesis forward and a backward pass to the latents only (the
/// synthesis weights are frozen, so their gradients are never computed).
/// The result is deterministic for a given image, model, settings and thread count.
public struct LatentRefinement: Sendable, Equatable {
    /// Adam steps on the latents; 0 is the plain encode.
    public var steps: Int
    /// Adam step size, in latent units (one unit is one quantization step).
    public var learningRate: Float
    /// Seed of the rounding-noise stream.
    public var seed: UInt64
    /// The stand-in for rounding: nil is the uniform noise the model was trained with;
    /// otherwise stochastic Gumbel annealing (`GumbelAnnealing`), whose samples harden over the
    /// steps towards the rounding the file will hold.
    public var annealing: GumbelAnnealing?

    /// At most this many steps (a bound on encode time, not a tuning choice).
    public static let maxSteps = 1000

    /// The step size `vlat compress --refine` uses: the best of those tried on held-out
    /// training images (Scripts/experiments/tune_refinement.sh).
    public static let defaultLearningRate: Float = 0.03

    public init(steps: Int, learningRate: Float = defaultLearningRate, seed: UInt64 = 1, annealing: GumbelAnnealing? = nil) {
        self.steps = steps
        self.learningRate = learningRate
        self.seed = seed
        self.annealing = annealing
    }

    /// The lambda `model` was trained with (its `lambda` metadata; a hyperprior's at the level
    /// its quality codes at, `QualitySchedule`, fractional levels interpolating the levels'
    /// lambdas geometrically): the weight refinement puts on distortion against rate. Above
    /// quality 4 it refines the base the detail layer is then coded over.
    public static func lambda(of model: CodecModel) throws -> Float {
        if let hyper = model.hyperprior {
            let lambdas = hyper.network.config.lambdas, top = lambdas.count - 1
            let t = min(max(model.hyperpriorLevel - 1, 0), Double(top))
            let lo = Int(t.rounded(.down)), hi = min(lo + 1, top), f = t - Double(lo)
            return Float(exp(log(Double(lambdas[lo])) * (1 - f) + log(Double(lambdas[hi])) * f))
        }
        guard let text = model.network.metadata["lambda"], let lambda = Float(text), lambda > 0, lambda.isFinite else {
            throw CodecError.noTrainingLambda
        }
        return lambda
    }

    /// The rate-distortion loss of rounded latents `y` for padded image `x`, whose content is
    /// its top-left `height` x `width`: `lambda * 255^2 * MSE + bits per pixel`.
    static func loss(_ y: Tensor, image x: Tensor, height: Int, width: Int, network: Autoencoder, lambda: Float) -> Double {
        rateDistortion(bits: network.prior!.forward(y, training: false).bits, output: network.synthesis.forward(y, training: false),
                       image: x, height: height, width: width, lambda: lambda)
    }

    /// `lambda * 255^2 * MSE + bits / pixels` of a synthesis `output` (clamped to [0, 1]) against
    /// the top-left `height` x `width` of padded image `x`.
    static func rateDistortion(bits: Double, output out: Tensor, image x: Tensor, height: Int, width: Int, lambda: Float) -> Double {
        var se = 0.0
        forEachPixel(x, height: height, width: width) { i in
            let d = Double(min(1, max(0, out.data[i]))) - Double(x.data[i])
            se += d * d
        }
        let pixels = Double(height * width)
        return Double(lambda) * 255 * 255 * se / (3 * pixels) + bits / pixels
    }

    /// Calls `body` with the flat index of every element of `x` ([1, 3, H, W]) inside the
    /// top-left `height` x `width`.
    private static func forEachPixel(_ x: Tensor, height: Int, width: Int, _ body: (Int) -> Void) {
        for c in 0..<x.c {
            for r in 0..<height {
                let row = (c * x.h + r) * x.w
                for col in 0..<width { body(row + col) }
            }
        }
    }

    /// Rounded latents for padded image `x` (content: its top-left `height` x `width`),
    /// starting from the analysis output `y0`.
    func refine(_ y0: Tensor, image x: Tensor, height: Int, width: Int, network: Autoencoder, lambda: Float) -> Tensor {
        func rounded(_ t: Tensor) -> Tensor {
            var r = t
            for i in 0..<r.count { r.data[i] = r.data[i].rounded() }
            return r
        }
        let start = rounded(y0)
        guard steps > 0, let prior = network.prior else { return start }
        let pixels = Float(height * width)
        // d(lambda * 255^2 * MSE)/d(output), MSE over the 3 * pixels real samples.
        let weight = 2 * lambda * 255 * 255 / (3 * pixels)
        var y = y0
        var m = [Float](repeating: 0, count: y.count), v = m
        let (beta1, beta2, epsilon): (Float, Float, Float) = (0.9, 0.999, 1e-8)
        var g = SeededGenerator(seed: seed)
        // Only the latents move: freezing the synthesis skips its weight gradients, half of the
        // matrix products of a training backward pass. The prior computes its parameters'
        // gradients together with the latents' and is left as it is.
        let frozen = network.synthesis.parameters.filter(\.requiresGradient)
        for p in frozen { p.requiresGradient = false }
        defer { for p in frozen { p.requiresGradient = true } }
        var slope = [Float](repeating: 1, count: y.count)
        for t in 1...steps {
            var noisy = y
            if let annealing {
                let tau = annealing.temperature(step: t, of: steps)
                for i in 0..<noisy.count {
                    (noisy.data[i], slope[i]) = GumbelAnnealing.sample(y.data[i], tau: tau,
                                                                       logistic: GumbelAnnealing.logistic(uniform: g.uniform()))
                }
            } else {
                for i in 0..<noisy.count { noisy.data[i] += g.uniform() - 0.5 }
            }
            _ = prior.forward(noisy, training: true)
            var dy = prior.backward(scale: 1 / Double(pixels))
            let out = network.synthesis.forward(noisy, training: true)
            var grad = Tensor(zeros: out.shape)
            Self.forEachPixel(x, height: height, width: width) { i in grad.data[i] = weight * (out.data[i] - x.data[i]) }
            dy.add(network.synthesis.backward(grad))
            let c1 = 1 - pow(beta1, Float(t)), c2 = 1 - pow(beta2, Float(t))
            y.data.withUnsafeMutableBufferPointer { yp in
                m.withUnsafeMutableBufferPointer { mp in
                    v.withUnsafeMutableBufferPointer { vp in
                        for i in 0..<yp.count {
                            let d = dy.data[i] * slope[i]
                            mp[i] = beta1 * mp[i] + (1 - beta1) * d
                            vp[i] = beta2 * vp[i] + (1 - beta2) * d * d
                            yp[i] -= learningRate * (mp[i] / c1) / ((vp[i] / c2).squareRoot() + epsilon)
                        }
                    }
                }
            }
        }
        // The prior's backward passes left gradients behind; nothing here trains the model.
        for p in network.parameters { p.grad = Tensor(zeros: p.value.shape) }
        let refined = rounded(y)
        let before = Self.loss(start, image: x, height: height, width: width, network: network, lambda: lambda)
        let after = Self.loss(refined, image: x, height: height, width: width, network: network, lambda: lambda)
        return after < before ? refined : start
    }

    /// The rate-distortion loss of a hyperprior's residual symbols `k` (means `means`, table
    /// scales `scales`, per-channel gains `gains`) for padded image `x`: `lambda * 255^2 * MSE +
    /// bits of y per pixel` (z's bits are the same for every candidate and left out).
    static func hyperpriorLoss(_ k: [Double], means: [Double], scales: [Double], gains: [Double], image x: Tensor,
                               height: Int, width: Int, synthesis: Sequential, lambda: Float, latentShape: [Int]) -> Double {
        let plane = latentShape[2] * latentShape[3]
        var y = Tensor(zeros: latentShape)
        var bits = 0.0
        for i in 0..<k.count {
            bits += GaussianConditional.bits(residual: k[i], scale: scales[i]).bits
            y.data[i] = Float((k[i] + means[i]) / gains[i / plane])
        }
        return rateDistortion(bits: bits, output: synthesis.forward(y, training: false), image: x, height: height, width: width, lambda: lambda)
    }

    /// The rounding stand-in of a hyperprior's refinement when none is set: uniform noise, and
    /// the straight-through rounding the model was trained with for its synthesis, both raised
    /// the real loss at every level but the top ones on held-out crops (the refined symbols were
    /// then thrown away), while annealing towards this temperature lowered it at every level.
    public static let hyperpriorAnnealing = GumbelAnnealing(finalTemperature: 0.3)

    /// A hyperprior's refinement: z stays the one of the analysis output, so the hyper-synthesis'
    /// means, scales and gains are fixed, and Adam moves the gained latent `u = g * y` (`u0` at
    /// the start, `[1, M, h, w]`). Rate and synthesis both see the residual `u - mean`
    /// soft-rounded by stochastic Gumbel annealing (`annealing`, else `hyperpriorAnnealing`):
    /// the rate under the Gaussian of its table scale, the synthesis as `(residual + mean) / g`.
    /// `conditions` gives the means and table indices the file would code a candidate `u` with;
    /// when they move with `u` (`conditionsMove`: a context corrects them from the symbols
    /// coded before), they are recomputed from the current `u` at every step, held fixed within
    /// it (no gradient flows through the context). Returns the refined `u`, or `u0` when the
    /// refined one's real loss (rounded symbols, their own conditions) is not lower.
    func refineHyperprior(_ u0: Tensor, gains: [Double], conditionsMove: Bool, conditions: HyperpriorCoding.Refine.Conditions,
                          image x: Tensor, height: Int, width: Int, synthesis: Sequential, lambda: Float) throws -> Tensor {
        let plane = u0.h * u0.w
        func scales(_ indices: [Int]) -> [Double] { indices.map(HyperpriorCodecModel.scale(index:)) }
        func loss(_ u: Tensor, _ conditions: (means: [Double], indices: [Int])) -> Double {
            let (means, indices) = conditions
            let k = (0..<u.count).map { (Double(u.data[$0]) - means[$0]).rounded() }
            return Self.hyperpriorLoss(k, means: means, scales: scales(indices), gains: gains, image: x, height: height, width: width,
                                       synthesis: synthesis, lambda: lambda, latentShape: u0.shape)
        }
        guard steps > 0 else { return u0 }
        let pixels = Double(height * width)
        let weight = 2 * lambda * 255 * 255 / (3 * Float(pixels))
        var u = u0
        var m = [Float](repeating: 0, count: u.count), v = m
        let (beta1, beta2, epsilon): (Float, Float, Float) = (0.9, 0.999, 1e-8)
        var g = SeededGenerator(seed: seed)
        let frozen = synthesis.parameters.filter(\.requiresGradient)
        for p in frozen { p.requiresGradient = false }
        defer { for p in frozen { p.requiresGradient = true } }
        var du = [Float](repeating: 0, count: u.count), slopes = du
        var y = Tensor(zeros: u0.shape)
        let start = try conditions(u0)
        var (means, indices) = start
        for t in 1...steps {
            if conditionsMove && t > 1 { (means, indices) = try conditions(u) }
            let tau = (annealing ?? Self.hyperpriorAnnealing).temperature(step: t, of: steps)
            for i in 0..<u.count {
                let r = Float(Double(u.data[i]) - means[i])
                let (soft, slope) = GumbelAnnealing.sample(r, tau: tau, logistic: GumbelAnnealing.logistic(uniform: g.uniform()))
                slopes[i] = slope
                let scale = HyperpriorCodecModel.scale(index: indices[i])
                du[i] = Float(GaussianConditional.bits(residual: Double(soft), scale: scale).dResidual / pixels)
                y.data[i] = Float((Double(soft) + means[i]) / gains[i / plane])
            }
            let out = synthesis.forward(y, training: true)
            var grad = Tensor(zeros: out.shape)
            Self.forEachPixel(x, height: height, width: width) { i in grad.data[i] = weight * (out.data[i] - x.data[i]) }
            let dy = synthesis.backward(grad)
            let c1 = 1 - pow(beta1, Float(t)), c2 = 1 - pow(beta2, Float(t))
            for i in 0..<u.count {
                let d = (du[i] + dy.data[i] / Float(gains[i / plane])) * slopes[i]
                m[i] = beta1 * m[i] + (1 - beta1) * d
                v[i] = beta2 * v[i] + (1 - beta2) * d * d
                u.data[i] -= learningRate * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
            }
        }
        for p in synthesis.parameters { p.grad = Tensor(zeros: p.value.shape) }
        return try loss(u, conditions(u)) < loss(u0, start) ? u : u0
    }
}
