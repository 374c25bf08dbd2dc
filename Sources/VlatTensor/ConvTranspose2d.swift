/// 2-D transposed convolution (the adjoint of `Conv2d`, PyTorch's `ConvTranspose2d`).
/// Weight `[Cin, Cout, k, k]`, bias `[Cout]`. Output size per side:
/// `(in - 1) * stride - 2 * padding + kernel + outputPadding`.
///
/// Per image: `col = W^T x x` is `[Cout*k*k, Hin*Win]` (one `cblas_sgemm`), and `col2im`
/// scatters it into the output. Inference with many output channels goes by output phases
/// instead (`ConvTransposePhases`), which writes no column matrix.
public final class ConvTranspose2d: Layer {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, outputPadding: Int
    public let weight: Parameter
    /// Largest column buffer (or, by phases, padded input rows) of one inference band (see
    /// `ConvGeometry.inferenceBandBytes`).
    public var inferenceBandBytes = ConvGeometry.inferenceBandBytes
    public let bias: Parameter
    /// Inference by output phases (`ConvTransposePhases`) rather than `col2im`: faster when the
    /// products have many output channels; with a few (an image's 3) their `Cout x Cin`
    /// products are too thin, and the column matrix is the faster way.
    public var inferenceByPhases: Bool
    private var input: Tensor?

    public init(name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, generator: inout SeededGenerator) {
        precondition(outputPadding < stride || outputPadding == 0, "outputPadding must be smaller than stride")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        // PyTorch's default: fan_in is weight.size(1) * k * k = Cout * k * k.
        let bound = 1 / Float(outChannels * kernel * kernel).squareRoot()
        weight = .uniform(name: "\(name).weight", shape: [inChannels, outChannels, kernel, kernel], bound: bound, generator: &generator)
        bias = .uniform(name: "\(name).bias", shape: [outChannels], bound: bound, generator: &generator)
        inferenceByPhases = outChannels >= 16
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var spec: LayerSpec {
        LayerSpec(kind: .convTranspose, inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride,
                  padding: padding, outputPadding: outputPadding)
    }

    public func outputSize(height: Int, width: Int) -> (Int, Int) {
        ((height - 1) * stride - 2 * padding + kernel + outputPadding, (width - 1) * stride - 2 * padding + kernel + outputPadding)
    }

    /// The convolution that maps this layer's output back to its input's size.
    func geometry(_ x: Tensor) -> ConvGeometry {
        let (oh, ow) = outputSize(height: x.h, width: x.w)
        return ConvGeometry(channels: outChannels, height: oh, width: ow, kernel: kernel, stride: stride, padding: padding)
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.shape.count == 4 && x.c == inChannels, "ConvTranspose2d expects [N, \(inChannels), H, W], got \(x.shape)")
        let g = geometry(x)
        precondition(g.outHeight == x.h && g.outWidth == x.w, "ConvTranspose2d geometry mismatch")
        // Both paths write every output (the column path starts each plane from its bias).
        var y = Tensor(uninitialized: [x.n, outChannels, g.height, g.width])
        if !training && inferenceByPhases {
            forwardByPhases(x, into: &y)
            input = nil
            return y
        }
        // Inference goes in bands of input rows (the geometry's output rows), bounding the
        // column buffer for large photos; training keeps one whole-image matrix.
        let bandRows = training ? g.outHeight : g.rowsPerBand(bytes: inferenceBandBytes)
        let inStride = inChannels * g.positions, outStride = outChannels * g.height * g.width, plane = g.height * g.width
        // Inference: one product per input row (`BLAS.sgemm`'s chunk), for `BandedInference`.
        let rowChunk = training ? nil : g.outWidth
        // Training at the latent's resolution, where an image's positions fill fewer than two of
        // `BLAS.sgemm`'s column chunks: the threads share the images, each image computed by the
        // same calls as on one thread.
        let byImage = training && g.positions <= BLAS.chunkColumns
        x.data.withUnsafeBufferPointer { xp in
            weight.value.data.withUnsafeBufferPointer { wp in
                bias.value.data.withUnsafeBufferPointer { bp in
                    y.data.withUnsafeMutableBufferPointer { yp in
                        Parallel.forRanges(byImage ? x.n : 1) { range in
                            // The product writes all of col (beta 0) before col2im reads it: no zero-fill.
                            withUnsafeTemporaryAllocation(of: Float.self, capacity: g.patchSize * bandRows * g.outWidth) { cp in
                                for b in byImage ? range : 0..<x.n {
                                    let out = yp.baseAddress! + b * outStride
                                    for o in 0..<outChannels { (out + o * plane).update(repeating: bp[o], count: plane) }
                                    for first in Swift.stride(from: 0, to: g.outHeight, by: bandRows) {
                                        let rows = first..<min(g.outHeight, first + bandRows), n = rows.count * g.outWidth
                                        BLAS.sgemm(transposeA: true, m: g.patchSize, n: n, k: inChannels,
                                                   a: wp.baseAddress!, lda: g.patchSize, b: xp.baseAddress! + b * inStride + first * g.outWidth,
                                                   ldb: g.positions, beta: 0, c: cp.baseAddress!, ldc: n, chunk: rowChunk, threaded: !byImage)
                                        Im2Col.col2im(cp.baseAddress!, g, out, rows: rows)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        input = training ? x : nil
        return y
    }

    /// Inference by output phases, in bands of output rows whose zero-padded input rows stay
    /// within `inferenceBandBytes`.
    private func forwardByPhases(_ x: Tensor, into y: inout Tensor) {
        let (oh, ow) = (y.h, y.w)
        let rowBytes = inChannels * (x.w + kernel) * MemoryLayout<Float>.size
        // At least two output rows a thread: the rows of a band are what the threads share.
        let bandRows = max(2 * Parallel.threads, (inferenceBandBytes / max(1, rowBytes) - (kernel + stride - 1) / stride) * stride)
        let inStride = inChannels * x.h * x.w, outStride = outChannels * oh * ow
        let taps = ConvTaps.taps(weight.value.data, outChannels: outChannels, inChannels: inChannels, kernel: kernel, transposed: true)
        x.data.withUnsafeBufferPointer { xp in
            taps.withUnsafeBufferPointer { wp in
                bias.value.data.withUnsafeBufferPointer { bp in
                    y.data.withUnsafeMutableBufferPointer { yp in
                        for b in 0..<x.n {
                            for first in Swift.stride(from: 0, to: oh, by: bandRows) {
                                ConvTransposePhases.forward(xp.baseAddress! + b * inStride, inChannels: inChannels, height: x.h, width: x.w,
                                                            taps: wp.baseAddress!, bias: bp.baseAddress!, outChannels: outChannels,
                                                            kernel: kernel, stride: stride, padding: padding, outHeight: oh, outWidth: ow,
                                                            rows: first..<min(oh, first + bandRows), out: yp.baseAddress! + b * outStride)
                            }
                        }
                    }
                }
            }
        }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("ConvTranspose2d.backward without a training forward") }
        input = nil
        let g = geometry(x)
        var dx = Tensor(zeros: x.shape)
        let inStride = inChannels * g.positions, outStride = outChannels * g.height * g.width, plane = g.height * g.width
        // At the latent's resolution, where an image's positions fill fewer than two of
        // `BLAS.sgemm`'s column chunks, the threads share the images for dx (each image's dcol
        // kept for the weight gradient, which adds the images in order): each image computed by
        // the same calls as on one thread.
        let byImage = g.positions <= BLAS.chunkColumns
        let dcolCount = g.patchSize * g.positions
        x.data.withUnsafeBufferPointer { xp in
            dy.data.withUnsafeBufferPointer { dyp in
                weight.value.data.withUnsafeBufferPointer { wp in
                    weight.grad.data.withUnsafeMutableBufferPointer { dwp in
                        bias.grad.data.withUnsafeMutableBufferPointer { dbp in
                            dx.data.withUnsafeMutableBufferPointer { dxp in
                                // im2col writes all of dcol: no zero-fill.
                                withUnsafeTemporaryAllocation(of: Float.self, capacity: dcolCount * (byImage ? x.n : 1)) { dcp in
                                    func inputGradient(_ b: Int) {
                                        let dcol = dcp.baseAddress! + (byImage ? b * dcolCount : 0)
                                        Im2Col.im2col(dyp.baseAddress! + b * outStride, g, dcol)
                                        // dx = W x dcol
                                        BLAS.sgemm(m: inChannels, n: g.positions, k: g.patchSize, a: wp.baseAddress!,
                                                   lda: g.patchSize, b: dcol, ldb: g.positions, beta: 0,
                                                   c: dxp.baseAddress! + b * inStride, ldc: g.positions, threaded: !byImage)
                                    }
                                    if byImage { Parallel.forRanges(x.n) { range in for b in range { inputGradient(b) } } }
                                    for b in 0..<x.n {
                                        let d = dyp.baseAddress! + b * outStride
                                        if bias.requiresGradient {
                                            Parameter.accumulateBiasGradient(d, channels: outChannels, plane: plane, into: dbp)
                                        }
                                        if !byImage { inputGradient(b) }
                                        if weight.requiresGradient {
                                            // dW += x x dcol^T
                                            BLAS.accumulateProductTransposed(m: inChannels, n: g.patchSize, k: g.positions,
                                                                             a: xp.baseAddress! + b * inStride, lda: g.positions,
                                                                             b: dcp.baseAddress! + (byImage ? b * dcolCount : 0),
                                                                             ldb: g.positions, c: dwp.baseAddress!, ldc: g.patchSize)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}
