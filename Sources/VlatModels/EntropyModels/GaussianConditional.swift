import Foundation
import VlatTensor

/// The conditional entropy model of a mean-scale hyperprior (Minnen et al. 2018): each latent
/// is Gaussian with a mean and a scale predicted by the hyper-synthesis, convolved with a unit
/// uniform, so an integer residual `k = round(y - mean)` has probability
/// `Phi((k + 1/2) / scale) - Phi((k - 1/2) / scale)` (CompressAI's `GaussianConditional`).
///
/// The rate of a (noisy, in training) residual `r` is `-log2` of that mass, floored at
/// `likelihoodFloor`; scales are bounded below by `scaleBound`. Everything is computed in
/// Float64 from Float32 inputs.
public enum GaussianConditional {
    public static let likelihoodFloor = 1e-9
    /// Smallest scale the model uses (CompressAI's lower bound).
    public static let scaleBound = 0.11

    /// Phi(x), the standard normal cumulative.
    @inline(__always) static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x * 0.7071067811865476) }
    /// phi(x), the standard normal density.
    @inline(__always) static func pdf(_ x: Double) -> Double { 0.3989422804014327 * exp(-0.5 * x * x) }

    /// Bits of residual `r` at scale `scale` (already bounded), with d(bits)/dr and
    /// d(bits)/d(scale). Computed on the lower tail (`-|r|`) where both cumulatives are far from
    /// 1, as CompressAI does; a floored likelihood has no gradient.
    @inline(__always)
    public static func bits(residual r: Double, scale: Double) -> (bits: Double, dResidual: Double, dScale: Double) {
        let v = abs(r)
        let upper = (0.5 - v) / scale, lower = (-0.5 - v) / scale
        let like = cdf(upper) - cdf(lower)
        guard like > likelihoodFloor else { return (-log2(likelihoodFloor), 0, 0) }
        let pu = pdf(upper), pl = pdf(lower)
        let dLikeDv = (pl - pu) / scale
        let dLikeDScale = -(pu * upper - pl * lower) / scale
        let dBits = -1 / (like * M_LN2)
        return (-log2(like), dBits * dLikeDv * (r < 0 ? -1 : 1), dBits * dLikeDScale)
    }

    /// The probability of each integer residual `low...high` at `scale`, for building an integer
    /// table; the mass beyond is the tail.
    public static func pmf(scale: Double, low: Int, high: Int) -> [Double] {
        (low...high).map { k in
            let v = abs(Double(k))
            return max(0, cdf((0.5 - v) / scale) - cdf((-0.5 - v) / scale))
        }
    }

    /// The fixed, log-uniform table of scales the coder picks from (CompressAI's
    /// `get_scale_table`: 64 scales from 0.11 to 256).
    public static let scaleTable: [Double] = {
        let (lo, hi, n) = (log(0.11), log(256.0), 64)
        return (0..<n).map { exp(lo + (hi - lo) * Double($0) / Double(n - 1)) }
    }()
}
