import VlatEntropy
import VlatTensor

/// The factorized prior of Balle et al. 2018 (appendix 6.1): an independent, learned,
/// univariate density per latent channel, shaped by a small monotone network.
///
/// For channel c the cumulative is `F(x) = sigmoid(g(x))` with
/// `g = f_4 . f_3 . f_2 . f_1`, widths 1 -> 3 -> 3 -> 3 -> 1, where
/// `f_k(v) = u + tanh(a_k) * tanh(u)` and `u = softplus(H_k) v + b_k` (the last layer has no
/// gate). softplus keeps every matrix positive and |tanh(a)| < 1 keeps each gate increasing, so
/// g is monotone and F is a valid cumulative.
///
/// The likelihood of a latent value y (noisy in training, an integer at test time) is the mass
/// of the unit interval around it, `F(y + 1/2) - F(y - 1/2)`, computed on whichever side of
/// the median keeps the sigmoids away from 1 (CompressAI's sign trick), floored at 1e-9. Its
/// negative log2 is the rate in bits: the KL term of the VAE reading.
public final class FactorizedPrior {
    public let channels: Int
    public static let widths = [1, 3, 3, 3, 1]
    /// Per layer k: `matrices[k]` is [C, out, in], `biases[k]` [C, out], `factors[k]` [C, out]
    /// (factors for the first three layers only).
    public let matrices: [Parameter]
    public let biases: [Parameter]
    public let factors: [Parameter]
    public static let likelihoodFloor: Double = 1e-9

    private var cache: (y: Tensor, likelihoods: [Double])?

    public init(name: String, channels: Int, generator: inout SeededGenerator) {
        self.channels = channels
        let widths = Self.widths, layers = widths.count - 1
        // CompressAI's initialisation: the density starts as a wide (init_scale 10) bump.
        let scale = pow(10.0, 1.0 / Double(layers))
        var m: [Parameter] = [], b: [Parameter] = [], f: [Parameter] = []
        for k in 0..<layers {
            let (input, output) = (widths[k], widths[k + 1])
            let initial = Float(log(expm1(1 / scale / Double(output))))
            m.append(Parameter(name: "\(name).matrix\(k)", value: Tensor(shape: [channels, output, input],
                                                                          data: [Float](repeating: initial, count: channels * output * input))))
            b.append(Parameter(name: "\(name).bias\(k)", value: Tensor(shape: [channels, output],
                                                                        data: (0..<(channels * output)).map { _ in generator.uniform() - 0.5 })))
            if k < layers - 1 {
                f.append(Parameter(name: "\(name).factor\(k)", value: Tensor(zeros: [channels, output])))
            }
        }
        matrices = m
        biases = b
        factors = f
    }

    public var parameters: [Parameter] { matrices + biases + factors }

    // MARK: - The per-channel network, forward and backward, in Float64.

    @inline(__always) static func softplus(_ x: Double) -> Double { x > 30 ? x : log1p(exp(x)) }
    @inline(__always) static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// One channel's network with its parameters mapped once (softplus of the matrices, tanh of
    /// the factors) into flat arrays, gradient accumulators for those effective values, and two
    /// scratch slots for the two evaluations (x - 1/2 and x + 1/2) a likelihood needs. Widths are
    /// fixed at 1 -> 3 -> 3 -> 3 -> 1: per layer k, the matrix starts at `mOff[k]`, biases and
    /// pre-activations at `bOff[k]`, gates at `gOff[k]`, layer inputs at `iOff[k]`.
    struct Channel {
        static let layers = 4
        static let mOff = [0, 3, 12, 21], bOff = [0, 3, 6, 9], gOff = [0, 3, 6], iOff = [0, 1, 4, 7]
        static let slotSize = 10

        var m = [Double](repeating: 0, count: 24)
        var b = [Double](repeating: 0, count: 10)
        var g = [Double](repeating: 0, count: 9)
        var dM = [Double](repeating: 0, count: 24)
        var dB = [Double](repeating: 0, count: 10)
        var dG = [Double](repeating: 0, count: 9)
        var inputs = [Double](repeating: 0, count: 2 * slotSize)
        var preacts = [Double](repeating: 0, count: 2 * slotSize)

        init(_ prior: FactorizedPrior, channel c: Int) {
            for k in 0..<Channel.layers {
                let (input, output) = (FactorizedPrior.widths[k], FactorizedPrior.widths[k + 1])
                for j in 0..<(output * input) {
                    m[Channel.mOff[k] + j] = FactorizedPrior.softplus(Double(prior.matrices[k].value.data[c * output * input + j]))
                }
                for o in 0..<output {
                    b[Channel.bOff[k] + o] = Double(prior.biases[k].value.data[c * output + o])
                    if k < Channel.layers - 1 { g[Channel.gOff[k] + o] = tanh(Double(prior.factors[k].value.data[c * output + o])) }
                }
            }
        }

        /// g(x), keeping inputs and pre-activations in scratch `slot` (0 or 1).
        mutating func logit(_ x: Double, slot: Int) -> Double {
            let base = slot * Channel.slotSize
            inputs[base] = x
            for k in 0..<Channel.layers {
                let (input, output) = (FactorizedPrior.widths[k], FactorizedPrior.widths[k + 1])
                for o in 0..<output {
                    var s = b[Channel.bOff[k] + o]
                    for i in 0..<input { s += m[Channel.mOff[k] + o * input + i] * inputs[base + Channel.iOff[k] + i] }
                    preacts[base + Channel.bOff[k] + o] = s
                    if k < Channel.layers - 1 { inputs[base + Channel.iOff[k + 1] + o] = s + g[Channel.gOff[k] + o] * tanh(s) }
                }
            }
            return preacts[base + 9]
        }

        /// Adds `upstream * dg/d(effective parameters)` for the evaluation in `slot` and returns
        /// `upstream * dg/dx`.
        mutating func backward(upstream: Double, slot: Int) -> Double {
            let base = slot * Channel.slotSize
            var dv = SIMD3<Double>(upstream, 0, 0)
            for k in stride(from: Channel.layers - 1, through: 0, by: -1) {
                let (input, output) = (FactorizedPrior.widths[k], FactorizedPrior.widths[k + 1])
                var du = dv
                if k < Channel.layers - 1 {
                    for o in 0..<output {
                        let t = tanh(preacts[base + Channel.bOff[k] + o])
                        du[o] = dv[o] * (1 + g[Channel.gOff[k] + o] * (1 - t * t))
                        dG[Channel.gOff[k] + o] += dv[o] * t
                    }
                }
                var dIn = SIMD3<Double>(0, 0, 0)
                for o in 0..<output {
                    dB[Channel.bOff[k] + o] += du[o]
                    for i in 0..<input {
                        dM[Channel.mOff[k] + o * input + i] += du[o] * inputs[base + Channel.iOff[k] + i]
                        dIn[i] += du[o] * m[Channel.mOff[k] + o * input + i]
                    }
                }
                dv = dIn
            }
            return dv[0]
        }

        /// Likelihood of x and, when `scale` is non-zero, d(scale * -log2 likelihood)/dx (also
        /// accumulating the parameter gradients).
        mutating func likelihood(_ x: Double, scale: Double) -> (Double, Double) {
            let l = logit(x - 0.5, slot: 0), u = logit(x + 0.5, slot: 1)
            let sign: Double = (l + u) > 0 ? -1 : 1
            let su = FactorizedPrior.sigmoid(sign * u), sl = FactorizedPrior.sigmoid(sign * l)
            let like = max(abs(su - sl), FactorizedPrior.likelihoodFloor)
            // A floored likelihood has no gradient, as in CompressAI.
            guard scale != 0, like > FactorizedPrior.likelihoodFloor else { return (like, 0) }
            let direction: Double = su - sl >= 0 ? 1 : -1
            let dLike = -scale / (like * log(2.0))
            return (like, backward(upstream: dLike * direction * sign * su * (1 - su), slot: 1)
                        + backward(upstream: -dLike * direction * sign * sl * (1 - sl), slot: 0))
        }
    }

    // MARK: - Likelihoods and rate

    /// Likelihood of each element of `y` ([N, C, H, W]) under its channel's density, and the
    /// total rate in bits. With `training`, keeps what `backward` needs. Channels run in
    /// parallel; each writes only its own elements, and bits are summed in channel order.
    public func forward(_ y: Tensor, training: Bool) -> (likelihoods: [Double], bits: Double) {
        precondition(y.shape.count == 4 && y.c == channels, "FactorizedPrior expects [N, \(channels), H, W]")
        var likelihoods = [Double](repeating: 0, count: y.count)
        var channelBits = [Double](repeating: 0, count: channels)
        let plane = y.h * y.w
        likelihoods.withUnsafeMutableBufferPointer { lp in
            channelBits.withUnsafeMutableBufferPointer { bp in
                Parallel.forRanges(channels) { range in
                    for c in range {
                        var ch = Channel(self, channel: c)
                        var bits = 0.0
                        for n in 0..<y.n {
                            for p in 0..<plane {
                                let i = (n * channels + c) * plane + p
                                let like = ch.likelihood(Double(y.data[i]), scale: 0).0
                                lp[i] = like
                                bits -= log2(like)
                            }
                        }
                        bp[c] = bits
                    }
                }
            }
        }
        cache = training ? (y, likelihoods) : nil
        return (likelihoods, channelBits.reduce(0, +))
    }

    /// Backward of `scale * bits`: adds parameter gradients and returns d(scale * bits)/dy.
    public func backward(scale: Double) -> Tensor {
        guard let (y, _) = cache else { preconditionFailure("FactorizedPrior.backward without a training forward") }
        cache = nil
        var dy = Tensor(zeros: y.shape)
        var results = [Channel?](repeating: nil, count: channels)
        let plane = y.h * y.w
        dy.data.withUnsafeMutableBufferPointer { dp in
            results.withUnsafeMutableBufferPointer { rp in
                Parallel.forRanges(channels) { range in
                    for c in range {
                        var ch = Channel(self, channel: c)
                        for n in 0..<y.n {
                            for p in 0..<plane {
                                let i = (n * channels + c) * plane + p
                                dp[i] = Float(ch.likelihood(Double(y.data[i]), scale: scale).1)
                            }
                        }
                        rp[c] = ch
                    }
                }
            }
        }
        // Effective-parameter gradients to raw parameters: through softplus (its derivative is
        // the sigmoid) and tanh.
        for c in 0..<channels {
            let ch = results[c]!
            for k in 0..<Channel.layers {
                let (input, output) = (Self.widths[k], Self.widths[k + 1])
                for j in 0..<(output * input) {
                    let raw = Double(matrices[k].value.data[c * output * input + j])
                    matrices[k].grad.data[c * output * input + j] += Float(ch.dM[Channel.mOff[k] + j] * Self.sigmoid(raw))
                }
                for o in 0..<output {
                    biases[k].grad.data[c * output + o] += Float(ch.dB[Channel.bOff[k] + o])
                    if k < factors.count {
                        let a = ch.g[Channel.gOff[k] + o]
                        factors[k].grad.data[c * output + o] += Float(ch.dG[Channel.gOff[k] + o] * (1 - a * a))
                    }
                }
            }
        }
        return dy
    }

    // MARK: - Integer tables for the entropy coder

    /// The cumulative F(x) of channel c.
    public func cumulative(_ x: Double, channel c: Int) -> Double {
        var ch = Channel(self, channel: c)
        return Self.sigmoid(ch.logit(x, slot: 0))
    }


    /// Smallest x (to 1e-6) with F(x) >= p, by bisection: g is monotone.
    public func quantile(_ p: Double, channel c: Int) -> Double {
        var lo = -1.0, hi = 1.0
        while cumulative(lo, channel: c) > p && lo > -1e6 { lo *= 2 }
        while cumulative(hi, channel: c) < p && hi < 1e6 { hi *= 2 }
        for _ in 0..<80 {
            let mid = (lo + hi) / 2
            if cumulative(mid, channel: c) < p { lo = mid } else { hi = mid }
        }
        return hi
    }

    /// Integer CDF tables for coding rounded latents: channel c covers the integers between the
    /// quantiles `tail / 2` and `1 - tail / 2`; everything outside is the escape symbol.
    public func quantizedTables(tail: Double = 1e-9) throws -> [QuantizedCDF] {
        try (0..<channels).map { c in
            let low = Int32((quantile(tail / 2, channel: c)).rounded(.down))
            let high = Int32((quantile(1 - tail / 2, channel: c)).rounded(.up))
            let pmf = (low...high).map { k in
                max(0, cumulative(Double(k) + 0.5, channel: c) - cumulative(Double(k) - 0.5, channel: c))
            }
            let inside = pmf.reduce(0, +)
            return try QuantizedCDF(offset: low, pmf: pmf, tail: max(0, 1 - inside))
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
