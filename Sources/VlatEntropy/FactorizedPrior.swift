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

    /// Intermediate values of one evaluation of g, kept for backward.
    struct Trace {
        var inputs: [[Double]] = []   // v_k entering layer k
        var preacts: [[Double]] = []  // u_k
        var logit: Double = 0
    }

    @inline(__always) static func softplus(_ x: Double) -> Double { x > 30 ? x : log1p(exp(x)) }
    @inline(__always) static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// g(x) for channel c.
    func logit(_ x: Double, channel c: Int, trace: inout Trace) -> Double {
        var v = [x]
        trace.inputs.removeAll(keepingCapacity: true)
        trace.preacts.removeAll(keepingCapacity: true)
        for k in 0..<(Self.widths.count - 1) {
            let (input, output) = (Self.widths[k], Self.widths[k + 1])
            trace.inputs.append(v)
            var u = [Double](repeating: 0, count: output)
            let mBase = c * output * input, bBase = c * output
            for o in 0..<output {
                var s = Double(biases[k].value.data[bBase + o])
                for i in 0..<input { s += Self.softplus(Double(matrices[k].value.data[mBase + o * input + i])) * v[i] }
                u[o] = s
            }
            trace.preacts.append(u)
            if k < factors.count {
                v = (0..<output).map { o in u[o] + tanh(Double(factors[k].value.data[bBase + o])) * tanh(u[o]) }
            } else {
                v = u
            }
        }
        trace.logit = v[0]
        return v[0]
    }

    /// Adds `upstream * dg/dparameters` into the gradients and returns `upstream * dg/dx`.
    func backwardLogit(_ trace: Trace, channel c: Int, upstream: Double) -> Double {
        var dv = [upstream]
        for k in stride(from: Self.widths.count - 2, through: 0, by: -1) {
            let (input, output) = (Self.widths[k], Self.widths[k + 1])
            let u = trace.preacts[k], vin = trace.inputs[k]
            let mBase = c * output * input, bBase = c * output
            var du = dv
            if k < factors.count {
                for o in 0..<output {
                    let aRaw = Double(factors[k].value.data[bBase + o]), a = tanh(aRaw), t = tanh(u[o])
                    du[o] = dv[o] * (1 + a * (1 - t * t))
                    factors[k].grad.data[bBase + o] += Float(dv[o] * t * (1 - a * a))
                }
            }
            var dIn = [Double](repeating: 0, count: input)
            for o in 0..<output {
                biases[k].grad.data[bBase + o] += Float(du[o])
                for i in 0..<input {
                    let raw = Double(matrices[k].value.data[mBase + o * input + i])
                    matrices[k].grad.data[mBase + o * input + i] += Float(du[o] * vin[i] * Self.sigmoid(raw))
                    dIn[i] += du[o] * Self.softplus(raw)
                }
            }
            dv = dIn
        }
        return dv[0]
    }

    // MARK: - Likelihoods and rate

    /// Likelihood of each element of `y` ([N, C, H, W]) under its channel's density, and the
    /// total rate in bits. With `training`, keeps what `backward` needs.
    public func forward(_ y: Tensor, training: Bool) -> (likelihoods: [Double], bits: Double) {
        precondition(y.shape.count == 4 && y.c == channels, "FactorizedPrior expects [N, \(channels), H, W]")
        let plane = y.h * y.w
        var likelihoods = [Double](repeating: 0, count: y.count)
        var bits = 0.0
        var lo = Trace(), hi = Trace()
        for n in 0..<y.n {
            for c in 0..<channels {
                for p in 0..<plane {
                    let i = (n * channels + c) * plane + p
                    let x = Double(y.data[i])
                    let l = logit(x - 0.5, channel: c, trace: &lo), u = logit(x + 0.5, channel: c, trace: &hi)
                    let sign: Double = (l + u) > 0 ? -1 : 1
                    let like = max(abs(Self.sigmoid(sign * u) - Self.sigmoid(sign * l)), Self.likelihoodFloor)
                    likelihoods[i] = like
                    bits -= log2(like)
                }
            }
        }
        cache = training ? (y, likelihoods) : nil
        return (likelihoods, bits)
    }

    /// Backward of `scale * bits`: adds parameter gradients and returns d(scale * bits)/dy.
    public func backward(scale: Double) -> Tensor {
        guard let (y, likelihoods) = cache else { preconditionFailure("FactorizedPrior.backward without a training forward") }
        cache = nil
        let plane = y.h * y.w
        var dy = Tensor(zeros: y.shape)
        var lo = Trace(), hi = Trace()
        for n in 0..<y.n {
            for c in 0..<channels {
                for p in 0..<plane {
                    let i = (n * channels + c) * plane + p
                    let like = likelihoods[i]
                    if like <= Self.likelihoodFloor { continue } // floored: no gradient, as in CompressAI
                    let x = Double(y.data[i])
                    let l = logit(x - 0.5, channel: c, trace: &lo), u = logit(x + 0.5, channel: c, trace: &hi)
                    let sign: Double = (l + u) > 0 ? -1 : 1
                    let su = Self.sigmoid(sign * u), sl = Self.sigmoid(sign * l)
                    let direction: Double = su - sl >= 0 ? 1 : -1
                    // d(-log2 like)/d like = -1 / (like ln 2)
                    let dLike = -scale / (like * log(2.0))
                    let du = dLike * direction * sign * su * (1 - su)
                    let dl = -dLike * direction * sign * sl * (1 - sl)
                    let gx = backwardLogit(hi, channel: c, upstream: du) + backwardLogit(lo, channel: c, upstream: dl)
                    dy.data[i] = Float(gx)
                }
            }
        }
        return dy
    }

    // MARK: - Integer tables for the entropy coder

    /// The cumulative F(x) of channel c.
    public func cumulative(_ x: Double, channel c: Int) -> Double {
        var t = Trace()
        return Self.sigmoid(logit(x, channel: c, trace: &t))
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
