import CKernels

/// 2-D convolution (cross-correlation, as in PyTorch) with zero padding, any kernel size and
/// stride. Weight `[Cout, Cin, k, k]`, bias `[Cout]`.
///
/// Per image: `col = im2col(x)` is `[Cin*k*k, Ho*Wo]`, and `y = W x col + b` is one
/// `cblas_sgemm`, whose `[Cout, Ho*Wo]` result is already the NCHW output. A training forward
/// keeps every batch item's `col` for the weight gradient, so the backward pass does not
/// gather it again. Inference with many input channels goes tap by tap instead (`ConvTaps`),
/// which writes no column matrix.
public final class Conv2d: Layer {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    public let weight: Parameter
    /// Largest column buffer (or, tap by tap, input rows) of one inference band (see
    /// `ConvGeometry.inferenceBandBytes`).
    public var inferenceBandBytes = ConvGeometry.inferenceBandBytes
    public let bias: Parameter
    /// Inference tap by tap (`ConvTaps`) rather than through a column matrix: faster when the
    /// products have many input channels; with a few (an image's 3) their `Cout x Cin` products
    /// are too thin, and the column matrix is the faster way. Only for outputs at least
    /// `tapsMinimumWidth` wide: a narrower row makes each tap's product too small to pay its call.
    public var inferenceByTaps: Bool
    public var tapsMinimumWidth = 64
    /// The arithmetic of inference (`InferencePrecision`): with `bfloat16`, on a CPU that has it,
    /// every inference that is not pointwise or direct goes tap by tap with bfloat16 operands.
    public var inferencePrecision = InferencePrecision.float32
    private var input: Tensor?
    /// A training forward's column matrices, every batch item's, kept for the weight gradient
    /// (memory traded for the second im2col the backward pass would otherwise run).
    private var columns: [Float]?

    public init(name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                generator: inout SeededGenerator) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        // PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.
        let bound = 1 / Float(inChannels * kernel * kernel).squareRoot()
        weight = .uniform(name: "\(name).weight", shape: [outChannels, inChannels, kernel, kernel], bound: bound, generator: &generator)
        bias = .uniform(name: "\(name).bias", shape: [outChannels], bound: bound, generator: &generator)
        inferenceByTaps = inChannels >= 16 && !(kernel == 1 && stride == 1 && padding == 0)
        inferenceDirect = kernel == 3 && stride == 1 && padding == 1
            && inChannels <= Self.directMaximumChannels && outChannels <= Self.directMaximumChannels
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var spec: LayerSpec {
        LayerSpec(kind: .conv, inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride, padding: padding)
    }

    func geometry(_ x: Tensor) -> ConvGeometry {
        ConvGeometry(channels: inChannels, height: x.h, width: x.w, kernel: kernel, stride: stride, padding: padding)
    }

    /// Output spatial size for an input of `height x width`.
    public func outputSize(height: Int, width: Int) -> (Int, Int) {
        let g = ConvGeometry(channels: inChannels, height: height, width: width, kernel: kernel, stride: stride, padding: padding)
        return (g.outHeight, g.outWidth)
    }

    /// Inference computed directly (`vlat_conv3x3_direct`), for a 3x3, stride-1, padded
    /// convolution with at most `directMaximumChannels` channels each side, as at full
    /// resolution, where a column matrix would be nine times the input and its products thin.
    /// Set for the layers it serves (a benchmark may switch it off to compare).
    public var inferenceDirect: Bool
    public static let directMaximumChannels = 32

    /// The weights tap-major, `[Cin * 9][Cout rounded up to 8]`, as `vlat_conv3x3_direct` reads them.
    func directWeights() -> [Float] {
        let padded = (outChannels + 7) / 8 * 8
        var out = [Float](repeating: 0, count: inChannels * 9 * padded)
        let w = weight.value.data
        for o in 0..<outChannels {
            for t in 0..<(inChannels * 9) { out[t * padded + o] = w[o * inChannels * 9 + t] }
        }
        return out
    }

    /// The leaky-ReLU slope of `layers[l + 1]` when layer `l` is a convolution that runs
    /// directly at inference and can apply that activation in the same pass
    /// (`forward(_:activationSlope:)`); nil otherwise. `Sequential` and `BandedInference` then
    /// skip the activation layer: a pass over the whole activation saved, the same values.
    public static func fusedActivationSlope(_ layers: [any Layer], at l: Int) -> Float? {
        guard l + 1 < layers.count, let conv = layers[l] as? Conv2d, conv.inferenceDirect,
              let activation = layers[l + 1] as? LeakyReLU else { return nil }
        return activation.slope
    }

    /// Inference on the direct path followed by a leaky ReLU of `slope` in the same pass: the
    /// values `LeakyReLU(slope: slope).forward(forward(x, training: false), training: false)` gives.
    public func forward(_ x: Tensor, activationSlope slope: Float) -> Tensor {
        precondition(inferenceDirect && x.shape.count == 4 && x.c == inChannels, "Conv2d.forward(_:activationSlope:) is for the direct path")
        var y = Tensor(uninitialized: [x.n, outChannels, x.h, x.w])  // every output written
        forwardDirect(x, into: &y, activationSlope: slope)
        input = nil
        columns = nil
        return y
    }

    private func forwardDirect(_ x: Tensor, into y: inout Tensor, activationSlope: Float? = nil) {
        let taps = directWeights()
        let inStride = inChannels * x.h * x.w, outStride = outChannels * x.h * x.w
        let (h, w, cin, cout) = (Int32(x.h), Int32(x.w), Int32(inChannels), Int32(outChannels))
        x.data.withUnsafeBufferPointer { xp in
            taps.withUnsafeBufferPointer { wp in
                bias.value.data.withUnsafeBufferPointer { bp in
                    y.data.withUnsafeMutableBufferPointer { yp in
                        for b in 0..<x.n {
                            Parallel.forRanges(x.h, minimumPerThread: 2) { rows in
                                // (It fails only when a buffer of three input rows cannot be had.)
                                let done = vlat_conv3x3_direct(xp.baseAddress! + b * inStride, cin, h, w, wp.baseAddress!, cout, bp.baseAddress!,
                                                    Int32(rows.lowerBound), Int32(rows.upperBound), yp.baseAddress! + b * outStride,
                                                    activationSlope == nil ? 0 : 1, activationSlope ?? 0)
                                precondition(done == 1, "out of memory for a convolution's row buffer")
                            }
                        }
                    }
                }
            }
        }
    }

    /// A 1x1, stride-1, unpadded convolution reads its input directly as the column matrix.
    var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.shape.count == 4 && x.c == inChannels, "Conv2d expects [N, \(inChannels), H, W], got \(x.shape)")
        let g = geometry(x)
        precondition(g.outHeight > 0 && g.outWidth > 0, "Conv2d input \(x.h)x\(x.w) is smaller than the kernel")
        // Every path writes every output (the column path starts each from its bias).
        var y = Tensor(uninitialized: [x.n, outChannels, g.outHeight, g.outWidth])
        if !training && inferenceDirect {
            forwardDirect(x, into: &y)
            input = nil
            columns = nil
            return y
        }
        let bfloat16 = inferencePrecision.effective == .bfloat16
        if !training && !isPointwise && (bfloat16 || inferenceByTaps && g.outWidth >= tapsMinimumWidth) {
            forwardByTaps(x, g, bfloat16: bfloat16, into: &y)
            input = nil
            columns = nil
            return y
        }
        // Training keeps one whole-image column matrix (its shapes are small and fixed);
        // inference goes in bands of output rows so a large photo needs a bounded buffer.
        let bandRows = training ? g.outHeight : g.rowsPerBand(bytes: inferenceBandBytes)
        let keep = training && !isPointwise && weight.requiresGradient
        let inStride = inChannels * x.h * x.w, outStride = outChannels * g.positions
        // Inference: one product per output row (`BLAS.sgemm`'s chunk), for `BandedInference`.
        let rowChunk = training ? nil : g.outWidth
        // Training at the latent's resolution, where an image's positions fill fewer than two of
        // `BLAS.sgemm`'s column chunks: the threads share the images, each image computed by the
        // same calls as on one thread (each has its own columns).
        let byImage = training && g.positions <= BLAS.chunkColumns && (keep || isPointwise)
        // im2col writes every element of the column matrix: no zero-fill first.
        let col = [Float](uninitializedCount: isPointwise ? 0 : g.patchSize * bandRows * g.outWidth * (keep ? x.n : 1)) { cp in
            x.data.withUnsafeBufferPointer { xp in
                weight.value.data.withUnsafeBufferPointer { wp in
                    bias.value.data.withUnsafeBufferPointer { bp in
                        y.data.withUnsafeMutableBufferPointer { yp in
                            Parallel.forRanges(byImage ? x.n : 1) { range in
                                for b in byImage ? range : 0..<x.n {
                                    let out = yp.baseAddress! + b * outStride
                                    // Start from the bias, then accumulate W x col (beta = 1).
                                    for o in 0..<outChannels { (out + o * g.positions).update(repeating: bp[o], count: g.positions) }
                                    if isPointwise {
                                        BLAS.sgemm(m: outChannels, n: g.positions, k: g.patchSize, a: wp.baseAddress!, lda: g.patchSize,
                                                   b: xp.baseAddress! + b * inStride, ldb: g.positions, beta: 1, c: out, ldc: g.positions,
                                                   chunk: rowChunk, threaded: !byImage)
                                        continue
                                    }
                                    let colBase = cp.baseAddress! + (keep ? b * g.patchSize * g.positions : 0)
                                    for first in Swift.stride(from: 0, to: g.outHeight, by: bandRows) {
                                        let rows = first..<min(g.outHeight, first + bandRows), n = rows.count * g.outWidth
                                        Im2Col.im2col(xp.baseAddress! + b * inStride, g, colBase, rows: rows)
                                        BLAS.sgemm(m: outChannels, n: n, k: g.patchSize, a: wp.baseAddress!, lda: g.patchSize,
                                                   b: colBase, ldb: n, beta: 1, c: out + first * g.outWidth, ldc: g.positions,
                                                   chunk: rowChunk, threaded: !byImage)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        input = training ? x : nil
        columns = keep ? col : nil
        return y
    }

    /// Inference tap by tap (with bfloat16 operands if `bfloat16`), in bands of output rows
    /// whose input rows stay within `inferenceBandBytes`.
    private func forwardByTaps(_ x: Tensor, _ g: ConvGeometry, bfloat16: Bool, into y: inout Tensor) {
        let rowBytes = inChannels * (x.w + 2 * padding + stride) * MemoryLayout<Float>.size
        // At least two output rows a thread: the rows of a band are what the threads share.
        let bandRows = max(2 * Parallel.threads, (inferenceBandBytes / max(1, rowBytes) - kernel) / stride)
        let inStride = inChannels * x.h * x.w, outStride = outChannels * g.positions
        let taps = bfloat16 ? [] : ConvTaps.taps(weight.value.data, outChannels: outChannels, inChannels: inChannels, kernel: kernel, transposed: false)
        let pairs = bfloat16 ? ConvTaps.bfloat16Weights(weight.value.data, outChannels: outChannels, inChannels: inChannels, kernel: kernel) : []
        x.data.withUnsafeBufferPointer { xp in
            taps.withUnsafeBufferPointer { wp in
                pairs.withUnsafeBufferPointer { pp in
                    bias.value.data.withUnsafeBufferPointer { bp in
                        y.data.withUnsafeMutableBufferPointer { yp in
                            for b in 0..<x.n {
                                for first in Swift.stride(from: 0, to: g.outHeight, by: bandRows) {
                                    let rows = first..<min(g.outHeight, first + bandRows)
                                    if bfloat16 {
                                        ConvTaps.forwardBFloat16(xp.baseAddress! + b * inStride, inChannels: inChannels, height: x.h, width: x.w,
                                                                 weights: pp.baseAddress!, bias: bp.baseAddress!, outChannels: outChannels,
                                                                 kernel: kernel, stride: stride, padding: padding, outHeight: g.outHeight,
                                                                 outWidth: g.outWidth, rows: rows, out: yp.baseAddress! + b * outStride)
                                    } else {
                                        ConvTaps.forward(xp.baseAddress! + b * inStride, inChannels: inChannels, height: x.h, width: x.w,
                                                         taps: wp.baseAddress!, bias: bp.baseAddress!, outChannels: outChannels,
                                                         kernel: kernel, stride: stride, padding: padding, outHeight: g.outHeight,
                                                         outWidth: g.outWidth, rows: rows, out: yp.baseAddress! + b * outStride)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("Conv2d.backward without a training forward") }
        input = nil
        let g = geometry(x)
        var dx = Tensor(zeros: x.shape)
        // The forward's column matrix moves into `col` (the only reference, so writing through
        // it does not copy it), or a one-image buffer for im2col.
        let haveColumns = columns != nil
        var col = columns.take() ?? [Float](repeating: 0, count: isPointwise || !weight.requiresGradient ? 0 : g.patchSize * g.positions)
        let dcolCount = isPointwise ? 0 : g.patchSize * g.positions
        let inStride = inChannels * x.h * x.w, outStride = outChannels * g.positions
        x.data.withUnsafeBufferPointer { xp in
            dy.data.withUnsafeBufferPointer { dyp in
                weight.grad.data.withUnsafeMutableBufferPointer { dwp in
                    bias.grad.data.withUnsafeMutableBufferPointer { dbp in
                        col.withUnsafeMutableBufferPointer { cp in
                            for b in 0..<x.n {
                                let d = dyp.baseAddress! + b * outStride
                                if bias.requiresGradient {
                                    Parameter.accumulateBiasGradient(d, channels: outChannels, plane: g.positions, into: dbp)
                                }
                                if weight.requiresGradient {
                                    let xin = xp.baseAddress! + b * inStride
                                    let source: UnsafePointer<Float>
                                    if isPointwise {
                                        source = xin
                                    } else if haveColumns {
                                        source = UnsafePointer(cp.baseAddress! + b * g.patchSize * g.positions)
                                    } else {
                                        Im2Col.im2col(xin, g, cp.baseAddress!)
                                        source = UnsafePointer(cp.baseAddress!)
                                    }
                                    // dW += dy x col^T
                                    BLAS.accumulateProductTransposed(m: outChannels, n: g.patchSize, k: g.positions,
                                                                     a: d, lda: g.positions, b: source, ldb: g.positions,
                                                                     c: dwp.baseAddress!, ldc: g.patchSize)
                                }
                            }
                        }
                    }
                }
            }
        }
        // dx: dcol = W^T x dy scattered back by col2im (a 1x1 convolution's product is dx itself).
        // When an image's positions fill fewer than two of `BLAS.sgemm`'s column chunks (the
        // layers at the latent's resolution), the threads share the images instead, each image
        // computed by the same calls as on one thread.
        let byImage = g.positions <= BLAS.chunkColumns
        dy.data.withUnsafeBufferPointer { dyp in
            weight.value.data.withUnsafeBufferPointer { wp in
                dx.data.withUnsafeMutableBufferPointer { dxp in
                    Parallel.forRanges(byImage ? x.n : 1) { range in
                        // The product writes all of dcol (beta 0) before col2im reads it: no zero-fill.
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: dcolCount) { dcp in
                            for b in byImage ? range : 0..<x.n {
                                let d = dyp.baseAddress! + b * outStride, dxOut = dxp.baseAddress! + b * inStride
                                BLAS.sgemm(transposeA: true, m: g.patchSize, n: g.positions, k: outChannels,
                                           a: wp.baseAddress!, lda: g.patchSize, b: d, ldb: g.positions,
                                           beta: 0, c: isPointwise ? dxOut : dcp.baseAddress!, ldc: g.positions, threaded: !byImage)
                                if !isPointwise { Im2Col.col2im(dcp.baseAddress!, g, dxOut) }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}
