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

    /// Each batch item's and channel's scale and bias (`[n * channels + c]`) for `count` items.
    func affine(items count: Int) -> (scales: [Float], biases: [Float]) {
        precondition(levels.count == count, "LevelModulation needs one level per batch item (\(levels.count) for \(count))")
        var scales = [Float](repeating: 0, count: count * channels), biases = scales
        for n in 0..<count {
            let (lo, hi, f) = split(levels[n])
            for c in 0..<channels {
                scales[n * channels + c] = exp(interpolated(logScale, lo, hi, f, c))
                biases[n * channels + c] = interpolated(bias, lo, hi, f, c)
            }
        }
        return (scales, biases)
    }

    /// `dst[i] = src[i] * scale + bias` for i < count (`dst` may be `src`): the layer's one
    /// operation, shared with a GDN that applies it in its own pass (`GDN.fusedModulation`).
    @inline(__always)
    static func apply(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count: Int, scale: Float, bias: Float) {
        for i in 0..<count { dst[i] = src[i] * scale + bias }
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.shape.count == 4 && x.c == channels, "LevelModulation expects [N, \(channels), H, W]")
        let plane = x.h * x.w, channels = self.channels
        // Each batch item's and channel's scale and bias, then one pass that writes the output
        // straight from the input (no copy of it first), the planes shared among the threads.
        let (scales, biases) = affine(items: x.n)
        let data = [Float](unsafeUninitializedCapacity: x.count) { out, initialized in
            let yp = out.baseAddress!
            x.data.withUnsafeBufferPointer { xp in
                let xb = xp.baseAddress!
                Parallel.forRanges(x.n * channels, minimumPerThread: max(1, (1 << 16) / max(1, plane))) { planes in
                    for nc in planes {
                        Self.apply(xb + nc * plane, yp + nc * plane, count: plane, scale: scales[nc], bias: biases[nc])
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
        let plane = x.h * x.w, planes = x.n * channels
        let splits = levels.map(split)
        let scales = (0..<planes).map { nc in
            let (lo, hi, f) = splits[nc / channels]
            return exp(interpolated(logScale, lo, hi, f, nc % channels))
        }
        // Each plane's sums in order by one thread (the threads share the planes), then added
        // into the gradients in the order of the images and channels: the same floats on any
        // thread count. dx is written whole.
        var dScale = [Double](repeating: 0, count: planes), dBias = [Double](repeating: 0, count: planes)
        let dx = [Float](uninitializedCount: x.count) { dxp in
            x.data.withUnsafeBufferPointer { xp in
                dy.data.withUnsafeBufferPointer { dyp in
                    dScale.withUnsafeMutableBufferPointer { ds in
                        dBias.withUnsafeMutableBufferPointer { db in
                            Parallel.forRanges(planes, minimumPerThread: max(1, (1 << 15) / max(1, plane))) { range in
                                for nc in range {
                                    let scale = scales[nc], base = nc * plane
                                    var sumScale = 0.0, sumBias = 0.0
                                    for i in base..<(base + plane) {
                                        let g = dyp[i]
                                        sumScale += Double(g) * Double(xp[i]) * Double(scale)
                                        sumBias += Double(g)
                                        dxp[i] = g * scale
                                    }
                                    ds[nc] = sumScale
                                    db[nc] = sumBias
                                }
                            }
                        }
                    }
                }
            }
        }
        for n in 0..<x.n {
            let (lo, hi, f) = splits[n]
            for c in 0..<channels {
                for (level, weight) in [(lo, 1 - f), (hi, f)] where weight > 0 {
                    if logScale.requiresGradient { logScale.grad.data[level * channels + c] += Float(weight * dScale[n * channels + c]) }
                    if bias.requiresGradient { bias.grad.data[level * channels + c] += Float(weight * dBias[n * channels + c]) }
                }
            }
        }
        return Tensor(shape: x.shape, data: dx)
    }
}
