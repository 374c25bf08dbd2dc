import VlatTensor

/// The checkerboard context of a mean-scale hyperprior (He et al. 2021, "Checkerboard context
/// model for efficient learned image compression"), in floating point for training.
///
/// Latent positions split like a checkerboard: the *anchors* (`(row + column)` even) are coded
/// first with the hyper-synthesis' means and scales alone; every other position is coded second,
/// its mean and log-scale corrected by what its anchor neighbours turned out to be. Both halves
/// decode in parallel over the whole image, unlike a serial autoregressive context.
///
/// The context reads the anchors' residual symbols `k = round(g * y - mean)` (integers: the
/// decoder has them exactly) in a 5x5 window, of which 12 taps are anchors, and the
/// hyper-synthesis' own output at the position, and adds a correction to that output:
/// ```
/// a     = ReLU(W_k * K + W_p * P + b)      // K: anchors' symbols (0 elsewhere); P: (mean, log s)
/// delta = W_2 ReLU(W_1 a + b_1) + b_2      // 1x1 layers; W_2 and b_2 start at zero
/// P'    = P + delta   at non-anchors,   P at anchors
/// ```
/// Starting from zero, a model that gains a context codes exactly as before until training
/// moves it. `IntegerCheckerboardContext` is its exact integer form for the codec.
public final class CheckerboardContext {
    /// `W_k`: latent channels M to H, 5x5, padding 2 (the taps that are not anchors stay zero).
    public let symbols: Conv2d
    /// `W_p`: 2M to H, 1x1.
    public let conditions: Conv2d
    /// ReLU, 1x1 H to H, ReLU, 1x1 H to 2M.
    public let head: Sequential

    /// Whether latent position (`row`, `column`) is an anchor, coded in the first pass.
    @inline(__always) public static func isAnchor(_ row: Int, _ column: Int) -> Bool { (row + column) & 1 == 0 }

    /// The anchors' (`anchors` true) or the other positions `row * width + column` of an
    /// `height x width` plane, in row-major order: the order both halves are coded in.
    public static func positions(anchors: Bool, height h: Int, width w: Int) -> [Int] {
        (0..<h).flatMap { r in stride(from: anchors ? r & 1 : 1 - (r & 1), to: w, by: 2).map { r * w + $0 } }
    }

    public static let kernel = 5
    /// The offsets `(dy, dx)` of the 5x5 window that are anchors when its centre is not (odd
    /// `dy + dx`), in row-major order.
    public static let taps: [(dy: Int, dx: Int)] = (-2...2).flatMap { dy in (-2...2).compactMap { dx in (dy + dx) & 1 != 0 ? (dy, dx) : nil } }

    public init(latentChannels m: Int, hiddenChannels h: Int, generator: inout SeededGenerator) {
        symbols = Conv2d(name: "context.symbols", inChannels: m, outChannels: h, kernel: Self.kernel, padding: Self.kernel / 2, generator: &generator)
        conditions = Conv2d(name: "context.conditions", inChannels: 2 * m, outChannels: h, kernel: 1, generator: &generator)
        head = Sequential(name: "context.head", specs: [
            LayerSpec(kind: .relu),
            LayerSpec(kind: .conv, inChannels: h, outChannels: h, kernel: 1),
            LayerSpec(kind: .relu),
            LayerSpec(kind: .conv, inChannels: h, outChannels: 2 * m, kernel: 1),
        ], generator: &generator)
        // Taps that are never anchors see only zeros; zero them so the weights say what is used.
        let k2 = Self.kernel * Self.kernel
        for i in 0..<symbols.weight.value.count {
            let t = i % k2, dy = t / Self.kernel - 2, dx = t % Self.kernel - 2
            if (dy + dx) & 1 == 0 { symbols.weight.value.data[i] = 0 }
        }
        for p in head.layers[3].parameters { p.value = Tensor(zeros: p.value.shape) }
    }

    public var parameters: [Parameter] { symbols.parameters + conditions.parameters + head.parameters }
    public var hiddenChannels: Int { symbols.outChannels }

    /// The correction `delta` `[N, 2M, h, w]` (meaningful at non-anchors) from the anchors'
    /// symbols `k` `[N, M, h, w]` (zero at non-anchors) and the hyper-synthesis' output `p`.
    public func forward(symbols k: Tensor, conditions p: Tensor, training: Bool) -> Tensor {
        var a = symbols.forward(k, training: training)
        a.add(conditions.forward(p, training: training))
        return head.forward(a, training: training)
    }

    /// Gradients with respect to the symbols and the conditions, from that of `delta`.
    public func backward(_ dDelta: Tensor) -> (symbols: Tensor, conditions: Tensor) {
        let da = head.backward(dDelta)
        return (symbols.backward(da), conditions.backward(da))
    }

    /// The anchors' symbols of a gained latent `yg` `[N, M, h, w]` with the hyper-synthesis'
    /// output `p` `[N, 2M, h, w]`: `round(yg - mean)` at anchors (plus `noise[i]` before
    /// rounding, and no rounding at all when `rounded` is false: the differentiable form that
    /// gradient checks need), zero elsewhere.
    public static func anchorSymbols(_ yg: Tensor, conditions p: Tensor, noise: [Float]? = nil, rounded: Bool = true) -> Tensor {
        let m = yg.c, plane = yg.h * yg.w
        var k = Tensor(zeros: yg.shape)
        for n in 0..<yg.n {
            for c in 0..<m {
                for r in 0..<yg.h {
                    for x in stride(from: r & 1, to: yg.w, by: 2) {
                        let i = (n * m + c) * plane + r * yg.w + x, j = (n * 2 * m + c) * plane + r * yg.w + x
                        let v = yg.data[i] + (noise?[i] ?? 0) - p.data[j]
                        k.data[i] = rounded ? v.rounded() : v
                    }
                }
            }
        }
        return k
    }

    /// `p + delta` at non-anchors, `p` at anchors.
    public static func corrected(_ p: Tensor, by delta: Tensor) -> Tensor {
        var out = p
        let plane = p.h * p.w
        for nc in 0..<(p.n * p.c) {
            for r in 0..<p.h {
                for x in stride(from: 1 - (r & 1), to: p.w, by: 2) {
                    let i = nc * plane + r * p.w + x
                    out.data[i] += delta.data[i]
                }
            }
        }
        return out
    }

    /// `d` at non-anchors, zero at anchors: the part of a gradient that reaches `delta`.
    public static func nonAnchorPart(_ d: Tensor) -> Tensor {
        var out = Tensor(zeros: d.shape)
        let plane = d.h * d.w
        for nc in 0..<(d.n * d.c) {
            for r in 0..<d.h {
                for x in stride(from: 1 - (r & 1), to: d.w, by: 2) {
                    let i = nc * plane + r * d.w + x
                    out.data[i] = d.data[i]
                }
            }
        }
        return out
    }
}
