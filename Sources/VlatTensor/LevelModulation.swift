import Foundation

/// A channel-wise affine map chosen by a rate level: for batch item `n` at level `l(n)`,
/// `y[n, c] = x[n, c] * exp(s[l(n), c]) + b[l(n), c]`, so that one network can behave
/// differently at each rate (conditional layers, Choi et al. 2019). A fractional level
/// interpolates `s` and `b` linearly between the two neighbouring levels. Set `levels` (one per
/// batch item) before each forward. Starts as the identity (`s = b = 0`).
public final class LevelModulation: Layer {
    public let channels: Int
    public let levelCount: Int
    /// `[levels, channels]`: natural-log scales.
    public let logScale: Parameter
    /// `[levels, channels]`.
    public let bias: Parameter
    /// The level of each batch item of the next forward (0-based, clamped to the trained range).
    public var levels: [Double] = []
    private var cache: (x: Tensor, levels: [Double])?

    public init(name: String, channels: Int, levels: Int) {
        self.channels = channels
        levelCount = levels
        logScale = Parameter(name: "\(name).log_scale", value: Tensor(zeros: [levels, channels]))
        bias = Parameter(name: "\(name).bias", value: Tensor(zeros: [levels, channels]))
    }

    public var parameters: [Parameter] { [logScale, bias] }
    public var spec: LayerSpec { LayerSpec(kind: .levelModulation, inChannels: channels, outChannels: levelCount) }

    /// The two levels a level falls between and the weight of the upper one.
    func split(_ level: Double) -> (Int, Int, Double) {
        let t = min(max(level, 0), Double(levelCount - 1))
        let lo = min(Int(t.rounded(.down)), levelCount - 1)
        return (lo, min(lo + 1, levelCount - 1), t - Double(lo))
    }

    /// Channel `c` of `p` between levels `lo` and `hi`, a fraction `f` of the way.
    func interpolated(_ p: Parameter, _ lo: Int, _ hi: Int, _ f: Double, _ c: Int) -> Float {
        Float((1 - f) * Double(p.value.data[lo * channels + c]) + f * Double(p.value.data[hi * channels + c]))
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.shape.count == 4 && x.c == channels, "LevelModulation expects [N, \(channels), H, W]")
        precondition(levels.count == x.n, "LevelModulation needs one level per batch item (\(levels.count) for \(x.n))")
        let plane = x.h * x.w, channels = self.channels
        // Each batch item's and channel's scale and bias, then one pass that writes the output
        // straight from the input (no copy of it first), the planes shared among the threads.
        var scales = [Float](repeating: 0, count: x.n * channels), biases = scales
        for n in 0..<x.n {
            let (lo, hi, f) = split(levels[n])
            for c in 0..<channels {
                scales[n * channels + c] = exp(interpolated(logScale, lo, hi, f, c))
                biases[n * channels + c] = interpolated(bias, lo, hi, f, c)
            }
        }
        let data = [Float](unsafeUninitializedCapacity: x.count) { out, initialized in
            let yp = out.baseAddress!
            x.data.withUnsafeBufferPointer { xp in
                let xb = xp.baseAddress!
                Parallel.forRanges(x.n * channels, minimumPerThread: max(1, (1 << 16) / max(1, plane))) { planes in
                    for nc in planes {
                        let (scale, b) = (scales[nc], biases[nc])
                        let src = xb + nc * plane, dst = yp + nc * plane
                        for i in 0..<plane { dst[i] = src[i] * scale + b }
                    }
                }
            }
            initialized = x.count
        }
        cache = training ? (x, levels) : nil
        return Tensor(shape: x.shape, data: data)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let (x, levels) = cache else { preconditionFailure("LevelModulation.backward without a training forward") }
        cache = nil
        var dx = dy
        let plane = x.h * x.w
        for n in 0..<x.n {
            let (lo, hi, f) = split(levels[n])
            for c in 0..<channels {
                let scale = exp(interpolated(logScale, lo, hi, f, c)), base = (n * channels + c) * plane
                var dScale = 0.0, dBias = 0.0
                for i in base..<(base + plane) {
                    let g = dy.data[i]
                    dScale += Double(g) * Double(x.data[i]) * Double(scale)
                    dBias += Double(g)
                    dx.data[i] = g * scale
                }
                for (level, weight) in [(lo, 1 - f), (hi, f)] where weight > 0 {
                    if logScale.requiresGradient { logScale.grad.data[level * channels + c] += Float(weight * dScale) }
                    if bias.requiresGradient { bias.grad.data[level * channels + c] += Float(weight * dBias) }
                }
            }
        }
        return dx
    }
}
