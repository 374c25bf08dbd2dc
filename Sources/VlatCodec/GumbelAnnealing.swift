import Foundation

/// Stochastic Gumbel annealing (Yang, Bamler and Mandt 2020, "Improving inference for neural
/// image compression", section 3.2): a differentiable stand-in for rounding whose samples move
/// from soft to hard over the steps of latent refinement.
///
/// Uniform noise, the stand-in the model was trained with, never tells the latents where the
/// rounding boundaries are: a latent at 2.49 and one at 2.51 look alike to it and round to
/// different integers. Annealing rounds each latent `y` stochastically to `floor(y)` or
/// `floor(y) + 1` through a two-way Gumbel-softmax whose logits are `-atanh(distance) / tau`,
/// so the nearer integer is the likelier one, and whose temperature `tau` falls over the steps:
/// early samples are soft mixtures (gradients everywhere), late ones almost hard roundings, so
/// the loss the optimiser sees converges to the loss of the rounded latents it will keep.
///
/// The sample of one latent, with `r = y - floor(y)` clamped to `[epsilon, 1 - epsilon]` and a
/// standard logistic variate `L` (the difference of the two Gumbel variates):
///
///     s = ((atanh(r) - atanh(1 - r)) / tau + L) / tau
///     sample = floor(y) + sigmoid(s)
///
/// and its derivative `sigmoid'(s) * (1/(1 - r^2) + 1/(1 - (1 - r)^2)) / tau^2` (zero where
/// the clamp is active). Precision: single precision; `sigmoid` saturates without overflow.
public struct GumbelAnnealing: Sendable, Equatable {
    /// The temperature of the first step (Yang et al.'s upper bound).
    public var initialTemperature: Float
    /// The temperature of the last step; the schedule falls geometrically in between.
    public var finalTemperature: Float

    /// Keeps `r` off 0 and 1, where `atanh` is infinite.
    static let epsilon: Float = 1e-5

    /// Temperatures must be positive and the schedule must not rise.
    public init(initialTemperature: Float = 0.5, finalTemperature: Float = 0.1) {
        precondition(finalTemperature > 0 && initialTemperature >= finalTemperature, "temperatures must satisfy initial >= final > 0")
        self.initialTemperature = initialTemperature
        self.finalTemperature = finalTemperature
    }

    /// The temperature of step `step` (1-based) of `steps`.
    public func temperature(step: Int, of steps: Int) -> Float {
        guard steps > 1 else { return finalTemperature }
        let f = Float(step - 1) / Float(steps - 1)
        return initialTemperature * pow(finalTemperature / initialTemperature, f)
    }

    /// One annealed sample of `y` at temperature `tau`, for standard logistic variate
    /// `logistic`, and its derivative with respect to `y`.
    public static func sample(_ y: Float, tau: Float, logistic: Float) -> (value: Float, derivative: Float) {
        let lower = y.rounded(.down)
        let raw = y - lower
        let r = min(max(raw, epsilon), 1 - epsilon)
        let s = ((atanh(r) - atanh(1 - r)) / tau + logistic) / tau
        let p = sigmoid(s)
        guard r == raw else { return (lower + p, 0) }
        let q = 1 - r
        return (lower + p, p * (1 - p) * (1 / (1 - r * r) + 1 / (1 - q * q)) / (tau * tau))
    }

    /// A standard logistic variate from a uniform one in [0, 1) (kept off 0).
    public static func logistic(uniform u: Float) -> Float {
        let v = min(max(u, 1e-7), 1 - 1e-7)
        return log(v) - log1p(-v)
    }

    /// The logistic function without overflow for large |s|.
    static func sigmoid(_ s: Float) -> Float {
        s >= 0 ? 1 / (1 + exp(-s)) : exp(s) / (1 + exp(s))
    }
}
