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
/// (tested on images several bands tall). `forward(rows:)` computes one band on its own, its
/// halo rows included; `forEachBand` keeps each convolution's halo rows for the next band, so
/// nothing is computed twice.
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
        let (needed, starts) = self.needed(rows: rows, heights: h)
        var slab = try input(needed[0])
        precondition(slab.h == needed[0].count, "input gave \(slab.h) rows for \(needed[0])")
        for (l, layer) in layers.enumerated() {
            let out = forward(l, slab)
            let first = needed[l + 1].lowerBound - starts[l + 1]
            precondition(first >= 0 && first + needed[l + 1].count <= out.h, "band geometry of layer \(l) (\(layer.spec.kind))")
            slab = first == 0 && out.h == needed[l + 1].count ? out : Self.rows(out, first..<(first + needed[l + 1].count))
        }
        return slab
    }

    /// Runs the whole stack band by band: output rows `0..<bandRows`, then the next band, and
    /// so on, handing each band's rows and values to `body` in order.
    ///
    /// Streaming: the input of every convolution keeps, from one band to the next, the rows the
    /// next band will read again (its halo), so each row of every activation is computed once
    /// and the input is read once, whatever the band height. The kept rows are the only memory
    /// that outlives a band.
    public func forEachBand(inputHeight: Int, bandRows: Int, input: (Range<Int>) throws -> Tensor,
                            _ body: (Range<Int>, Tensor) throws -> Void) rethrows {
        precondition(bandRows > 0)
        let h = heights(input: inputHeight), height = h.last!
        let bands = stride(from: 0, to: height, by: bandRows).map { $0..<min(height, $0 + bandRows) }
        // Activation l is layer l's input; only a convolution's is kept between bands.
        let kept = (0..<layers.count).map { Self.readsNeighbours(layers[$0].spec) }
        var cache = [Tensor?](repeating: nil, count: layers.count)
        var cached = [Range<Int>](repeating: 0..<0, count: layers.count)
        for (b, rows) in bands.enumerated() {
            // What the next band will need of each activation: the kept rows start there.
            let next = b + 1 < bands.count ? needed(rows: bands[b + 1], heights: h).rows : nil
            // From the output back: the rows of each activation this band computes (`compute`),
            // and those each layer reads (`read`, from the kept rows and the computed ones).
            var compute = [Range<Int>](repeating: rows, count: layers.count + 1)
            var read = [Range<Int>](repeating: 0..<0, count: layers.count)
            var starts = [Int](repeating: 0, count: layers.count + 1)
            for l in stride(from: layers.count - 1, through: 0, by: -1) {
                // (A band may need no new rows of a layer's output: an upsampling layer's next
                // output rows can come from input rows all kept already.)
                guard !compute[l + 1].isEmpty else { compute[l] = 0..<0; continue }
                (read[l], starts[l + 1]) = Self.inputRows(for: compute[l + 1], layers[l].spec, inHeight: h[l])
                compute[l] = read[l]
                if kept[l] && cached[l].upperBound > read[l].lowerBound && cached[l].lowerBound <= read[l].lowerBound {
                    compute[l] = min(read[l].upperBound, cached[l].upperBound)..<read[l].upperBound
                }
            }
            var slab = compute[0].isEmpty ? nil : try input(compute[0])
            if let s = slab { precondition(s.h == compute[0].count, "input gave \(s.h) rows for \(compute[0])") }
            for (l, layer) in layers.enumerated() where !read[l].isEmpty {
                // Layer l's input rows `read[l]`: the kept ones, then the computed ones.
                let x: Tensor
                if compute[l].count == read[l].count {
                    x = slab!
                } else {
                    let keep = Self.rows(cache[l]!, (read[l].lowerBound - cached[l].lowerBound)..<(compute[l].lowerBound - cached[l].lowerBound))
                    x = slab.map { Self.concatenateRows(keep, $0) } ?? keep
                }
                if kept[l] {
                    // Keep what the next band reads again.
                    if let next, next[l].upperBound > read[l].lowerBound, next[l].lowerBound < read[l].upperBound {
                        let from = max(next[l].lowerBound, read[l].lowerBound)
                        cached[l] = from..<read[l].upperBound
                        cache[l] = from == read[l].lowerBound ? x : Self.rows(x, (from - read[l].lowerBound)..<read[l].count)
                    } else {
                        (cached[l], cache[l]) = (0..<0, nil)
                    }
                }
                let out = forward(l, x)
                let first = compute[l + 1].lowerBound - starts[l + 1]
                precondition(first >= 0 && first + compute[l + 1].count <= out.h, "band geometry of layer \(l) (\(layer.spec.kind))")
                slab = first == 0 && out.h == compute[l + 1].count ? out : Self.rows(out, first..<(first + compute[l + 1].count))
            }
            try body(rows, slab!)
        }
    }

    /// Layer `l` at inference on `x`, a layer that takes the next one into its own pass
    /// (`Sequential.fusedInference`) running both, and that next layer then passing its input
    /// on: the values the two layers give one after the other.
    func forward(_ l: Int, _ x: Tensor) -> Tensor {
        if l > 0 && Sequential.fusedInference(layers, at: l - 1) != nil { return x }
        return Sequential.fusedInference(layers, at: l)?(x) ?? layers[l].forward(x, training: false)
    }

    /// What output rows `rows` need of every activation (the input's first), and where a slab
    /// starting at the first of them begins in each layer's output.
    func needed(rows: Range<Int>, heights h: [Int]) -> (rows: [Range<Int>], starts: [Int]) {
        var needed = [Range<Int>](repeating: rows, count: layers.count + 1)
        var starts = [Int](repeating: 0, count: layers.count + 1)
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            (needed[l], starts[l + 1]) = Self.inputRows(for: needed[l + 1], layers[l].spec, inHeight: h[l])
        }
        return (needed, starts)
    }

    /// Whether a layer's output rows read rows of its input other than their own.
    static func readsNeighbours(_ s: LayerSpec) -> Bool {
        switch s.kind {
        case .conv, .convTranspose: return true
        case .gdn, .igdn, .relu, .leakyRelu, .levelModulation: return false
        }
    }

    /// `a`'s rows then `b`'s, plane by plane (`[N, C, H, W]`, the same N, C and W).
    static func concatenateRows(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.n == b.n && a.c == b.c && a.w == b.w)
        var out = Tensor(uninitialized: [a.n, a.c, a.h + b.h, a.w])
        let (pa, pb) = (a.h * a.w, b.h * b.w)
        a.data.withUnsafeBufferPointer { sa in
            b.data.withUnsafeBufferPointer { sb in
                out.data.withUnsafeMutableBufferPointer { dst in
                    for p in 0..<(a.n * a.c) {
                        (dst.baseAddress! + p * (pa + pb)).update(from: sa.baseAddress! + p * pa, count: pa)
                        (dst.baseAddress! + p * (pa + pb) + pa).update(from: sb.baseAddress! + p * pb, count: pb)
                    }
                }
            }
        }
        return out
    }

    /// Rows `r` of every plane of `t` (`[N, C, H, W]`).
    public static func rows(_ t: Tensor, _ r: Range<Int>) -> Tensor {
        precondition(r.lowerBound >= 0 && r.upperBound <= t.h)
        var out = Tensor(uninitialized: [t.n, t.c, r.count, t.w])
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
