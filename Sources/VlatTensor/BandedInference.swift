/// Inference of a stack of layers in horizontal bands of output rows, so that memory is bounded
/// by a band instead of the image.
///
/// Each band of output rows is computed from the rows of the input it depends on (its
/// receptive field through every layer, the image's true border giving the same zero padding
/// as in the whole-image pass): each layer runs on a slab of its input rows, and only the rows
/// the next layer needs, all computed from real rows, are kept. Every kept value comes from the
/// same terms added in the same order as in `Sequential.forward` on the whole image (a
/// convolution's element is one dot product over its patch; a transposed convolution adds its
/// terms in input-row order, `Im2Col.col2im`), so the bands give the whole pass's floats
/// (tested on images several bands tall). The halo rows are computed more than once: the
/// smaller the band, the more.
///
/// Supported layers: convolutions and transposed convolutions (any kernel, stride and
/// padding), and per-pixel layers (GDN, ReLU, level modulations). Width is not banded.
///
/// ```swift
/// let bands = BandedInference(synthesis)
/// try bands.forEachBand(inputHeight: latent.h, bandRows: 64, input: { rows in BandedInference.rows(latent, rows) }) { rows, out in
///     write(out, at: rows)
/// }
/// ```
public struct BandedInference {
    public let layers: [any Layer]

    public init(_ stack: Sequential) { layers = stack.layers }

    /// The heights of the stack's activations for an input `height` rows tall: the input's,
    /// then each layer's output.
    public func heights(input height: Int) -> [Int] {
        var h = [height]
        for layer in layers { h.append(Self.outputHeight(layer.spec, input: h.last!)) }
        return h
    }

    static func outputHeight(_ s: LayerSpec, input h: Int) -> Int {
        switch s.kind {
        case .conv: return (h + 2 * s.padding - s.kernel) / s.stride + 1
        case .convTranspose: return (h - 1) * s.stride - 2 * s.padding + s.kernel + s.outputPadding
        case .gdn, .igdn, .relu, .leakyRelu, .levelModulation: return h
        }
    }

    /// `a / b` rounded towards minus infinity (b > 0).
    static func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

    /// The input rows layer `s` (input `inHeight` rows tall) needs for its output rows `rows`,
    /// and the full-image output row that a slab starting at the first of them begins with.
    static func inputRows(for rows: Range<Int>, _ s: LayerSpec, inHeight: Int) -> (rows: Range<Int>, outputStart: Int) {
        let (k, st, p) = (s.kernel, s.stride, s.padding)
        switch s.kind {
        case .conv:
            // Output row o reads input rows o*st - p ..< o*st - p + k. A slab must start on the
            // stride's grid for its outputs to be the image's.
            let lo = rows.lowerBound * st - p, hi = (rows.upperBound - 1) * st - p + k
            let a = max(0, lo) / st * st
            return (a..<max(a, min(inHeight, hi)), a / st)
        case .convTranspose:
            // Output row o receives from input rows i with o = i*st - p + ky, 0 <= ky < k.
            let lo = -floorDiv(-(rows.lowerBound + p - k + 1), st), hi = floorDiv(rows.upperBound - 1 + p, st) + 1
            let a = max(0, lo)
            return (a..<max(a, min(inHeight, hi)), a * st)
        case .gdn, .igdn, .relu, .leakyRelu, .levelModulation:
            return (rows, rows.lowerBound)
        }
    }

    /// Output rows `rows` of the stack run on an input `inputHeight` rows tall, `input(r)`
    /// giving that input's rows `r` as `[N, C, r.count, W]`.
    public func forward(rows: Range<Int>, inputHeight: Int, input: (Range<Int>) throws -> Tensor) rethrows -> Tensor {
        let h = heights(input: inputHeight)
        precondition(rows.lowerBound >= 0 && rows.upperBound <= h.last! && !rows.isEmpty, "rows \(rows) outside 0..<\(h.last!)")
        // What each activation must provide, from the output back to the input.
        var needed = [Range<Int>](repeating: rows, count: layers.count + 1)
        var starts = [Int](repeating: 0, count: layers.count + 1)
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            (needed[l], starts[l + 1]) = Self.inputRows(for: needed[l + 1], layers[l].spec, inHeight: h[l])
        }
        var slab = try input(needed[0])
        precondition(slab.h == needed[0].count, "input gave \(slab.h) rows for \(needed[0])")
        for (l, layer) in layers.enumerated() {
            let out = layer.forward(slab, training: false)
            let first = needed[l + 1].lowerBound - starts[l + 1]
            precondition(first >= 0 && first + needed[l + 1].count <= out.h, "band geometry of layer \(l) (\(layer.spec.kind))")
            slab = first == 0 && out.h == needed[l + 1].count ? out : Self.rows(out, first..<(first + needed[l + 1].count))
        }
        return slab
    }

    /// Runs the whole stack band by band: output rows `0..<bandRows`, then the next band, and
    /// so on, handing each band's rows and values to `body` in order.
    public func forEachBand(inputHeight: Int, bandRows: Int, input: (Range<Int>) throws -> Tensor,
                            _ body: (Range<Int>, Tensor) throws -> Void) rethrows {
        precondition(bandRows > 0)
        let height = heights(input: inputHeight).last!
        for first in stride(from: 0, to: height, by: bandRows) {
            let rows = first..<min(height, first + bandRows)
            try body(rows, try forward(rows: rows, inputHeight: inputHeight, input: input))
        }
    }

    /// Rows `r` of every plane of `t` (`[N, C, H, W]`).
    public static func rows(_ t: Tensor, _ r: Range<Int>) -> Tensor {
        precondition(r.lowerBound >= 0 && r.upperBound <= t.h)
        var out = Tensor(zeros: [t.n, t.c, r.count, t.w])
        let planeIn = t.h * t.w, planeOut = r.count * t.w
        t.data.withUnsafeBufferPointer { src in
            out.data.withUnsafeMutableBufferPointer { dst in
                for p in 0..<(t.n * t.c) {
                    (dst.baseAddress! + p * planeOut).update(from: src.baseAddress! + p * planeIn + r.lowerBound * t.w, count: planeOut)
                }
            }
        }
        return out
    }
}
