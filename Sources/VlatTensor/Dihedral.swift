/// One of the eight symmetries of the square (rotations by multiples of 90 degrees, flips,
/// transposes) acting on the spatial axes of `[N, C, H, W]` tensors.
///
/// Self-ensembling averages a network's outputs over all eight: a photo's statistics barely
/// change under them, but the network's errors do, so the mean is better than any one pass.
///
/// ```swift
/// for g in Dihedral.allCases {
///     let y = g.invert(network(g.apply(x)))     // back in x's orientation
/// }
/// ```
public struct Dihedral: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Applied in this order: transpose (swap rows and columns), flip rows, flip columns.
    public let transpose: Bool, flipY: Bool, flipX: Bool

    public init(transpose: Bool, flipY: Bool, flipX: Bool) {
        (self.transpose, self.flipY, self.flipX) = (transpose, flipY, flipX)
    }

    public static let identity = Dihedral(transpose: false, flipY: false, flipX: false)

    public static let allCases: [Dihedral] = [false, true].flatMap { t in
        [false, true].flatMap { fy in [false, true].map { fx in Dihedral(transpose: t, flipY: fy, flipX: fx) } }
    }

    public var description: String {
        self == .identity ? "identity" : [transpose ? "transpose" : nil, flipY ? "flipY" : nil, flipX ? "flipX" : nil].compactMap { $0 }.joined(separator: "+")
    }

    /// `x` transformed: `[N, C, W, H]` when transposing, else `[N, C, H, W]`.
    public func apply(_ x: Tensor) -> Tensor { remap(x, forward: true) }

    /// The inverse: `invert(apply(x)) == x`.
    public func invert(_ y: Tensor) -> Tensor { remap(y, forward: false) }

    /// Output element (y, x) of `apply` comes from input (sy, sx); `invert` moves it back.
    private func remap(_ t: Tensor, forward: Bool) -> Tensor {
        let (n, c) = (t.n, t.c)
        // The transformed layout's sides, and the original's.
        let (th, tw) = forward ? (transpose ? (t.w, t.h) : (t.h, t.w)) : (t.h, t.w)
        let (oh, ow) = transpose ? (tw, th) : (th, tw)
        var out = Tensor(zeros: forward ? [n, c, th, tw] : [n, c, oh, ow])
        let planes = n * c
        t.data.withUnsafeBufferPointer { src in
            out.data.withUnsafeMutableBufferPointer { dst in
                for p in 0..<planes {
                    let transformed = p * th * tw, original = p * oh * ow
                    for y in 0..<th {
                        let u = flipY ? th - 1 - y : y
                        for x in 0..<tw {
                            let v = flipX ? tw - 1 - x : x
                            let o = original + (transpose ? v * ow + u : u * ow + v)
                            if forward { dst[transformed + y * tw + x] = src[o] } else { dst[o] = src[transformed + y * tw + x] }
                        }
                    }
                }
            }
        }
        return out
    }
}
