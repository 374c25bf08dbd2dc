import CKernels

/// Generalized divisive normalization (Balle, Laparra, Simoncelli 2016) and its inverse:
///
///     GDN:   y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2)
///     IGDN:  y_i = x_i * sqrt(beta_i + sum_j gamma_ij x_j^2)
///
/// The normaliser `n = beta + Gamma x^2` is a 1x1 convolution across channels: one
/// `cblas_sgemm` per image. beta and gamma stay non-negative through CompressAI's
/// reparameterisation: the stored parameter p maps to `max(p, bound)^2 - pedestal`, with
/// pedestal 2^-36, so beta >= 1e-6 and gamma >= 0. Initial beta = 1, Gamma = 0.1 I.
public final class GDN: Layer {
    public let channels: Int
    public let inverse: Bool
    public let beta: Parameter
    public let gamma: Parameter
    private var cache: (x: Tensor, norm: Tensor)?

    static let pedestal: Float = 1.0 / Float(1 << 18) / Float(1 << 18)
    static let betaBound: Float = (1e-6 + pedestal).squareRoot()
    public static let gammaBound: Float = 1.0 / Float(1 << 18)

    public init(name: String, channels: Int, inverse: Bool) {
        self.channels = channels
        self.inverse = inverse
        beta = Parameter(name: "\(name).beta", value: Tensor(shape: [channels],
                                                             data: [Float](repeating: (1 + GDN.pedestal).squareRoot(), count: channels)))
        var g = [Float](repeating: GDN.pedestal.squareRoot(), count: channels * channels)
        for i in 0..<channels { g[i * channels + i] = (0.1 + GDN.pedestal).squareRoot() }
        gamma = Parameter(name: "\(name).gamma", value: Tensor(shape: [channels, channels], data: g))
    }

    public var parameters: [Parameter] { [beta, gamma] }
    public var spec: LayerSpec { LayerSpec(kind: inverse ? .igdn : .gdn, inChannels: channels, outChannels: channels) }

    /// The beta or gamma that stored parameter `p` stands for.
    public static func effective(_ p: Float, bound: Float) -> Float { max(p, bound) * max(p, bound) - pedestal }

    /// The stored parameter of a gamma of `effective` (>= 0) value: the inverse of `effective`.
    public static func gammaParameter(effective: Float) -> Float { max(effective + pedestal, 0).squareRoot() }

    /// d(effective)/dp, with the lower bound's gradient passed through when it pushes p upward
    /// (CompressAI's LowerBound), so a parameter stuck at the bound can leave it.
    static func effectiveGrad(_ p: Float, bound: Float, upstream: Float) -> Float {
        if p >= bound || upstream < 0 { return 2 * max(p, bound) * upstream }
        return 0
    }

    /// Scratch positions in inference, shared among the threads (each chunk whole rows, at
    /// least one): the normaliser is computed chunk by chunk, so only the input and the output
    /// are whole-image tensors.
    public var inferenceChunk = 8192
    /// The arithmetic of the normaliser's product at inference (`InferencePrecision`): with
    /// `bfloat16`, on a CPU that has it, the squares and Gamma are bfloat16 pairs summed in float32.
    public var inferencePrecision = InferencePrecision.float32

    /// The level modulation `layers[l + 1]` when layer `l` is a GDN it can follow in the same
    /// inference pass (`forward(_:modulatedBy:)`); nil otherwise. `Sequential` and
    /// `BandedInference` then run the two as one, the modulation passing its input on.
    public static func fusedModulation(_ layers: [any Layer], at l: Int) -> LevelModulation? {
        guard l + 1 < layers.count, let gdn = layers[l] as? GDN, let modulation = layers[l + 1] as? LevelModulation,
              modulation.channels == gdn.channels else { return nil }
        return modulation
    }

    /// Inference followed by `modulation` on each chunk while it is in cache: the values
    /// `modulation.forward(forward(x, training: false), training: false)` gives.
    public func forward(_ x: Tensor, modulatedBy modulation: LevelModulation) -> Tensor {
        precondition(x.shape.count == 4 && x.c == channels && modulation.channels == channels, "GDN expects [N, \(channels), H, W], got \(x.shape)")
        cache = nil
        return inferenceForward(x, modulation: modulation.affine(items: x.n))
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.shape.count == 4 && x.c == channels, "GDN expects [N, \(channels), H, W], got \(x.shape)")
        if !training {
            cache = nil
            return inferenceForward(x)
        }
        let plane = x.h * x.w
        let betaEff = beta.value.data.map { GDN.effective($0, bound: GDN.betaBound) }
        let gammaEff = gamma.value.data.map { GDN.effective($0, bound: GDN.gammaBound) }
        var norm = Tensor(zeros: x.shape)
        var y = Tensor(zeros: x.shape)
        var squares = [Float](repeating: 0, count: channels * plane)
        x.data.withUnsafeBufferPointer { xp in
            norm.data.withUnsafeMutableBufferPointer { np in
                y.data.withUnsafeMutableBufferPointer { yp in
                    squares.withUnsafeMutableBufferPointer { sp in
                        gammaEff.withUnsafeBufferPointer { gp in
                            for b in 0..<x.n {
                                let base = b * channels * plane
                                Parallel.forRanges(channels) { cs in
                                    for c in cs {
                                        let at = base + c * plane
                                        for i in 0..<plane { sp[c * plane + i] = xp[at + i] * xp[at + i] }
                                        (np.baseAddress! + at).update(repeating: betaEff[c], count: plane)
                                    }
                                }
                                BLAS.sgemm(m: channels, n: plane, k: channels, a: gp.baseAddress!, lda: channels,
                                           b: sp.baseAddress!, ldb: plane, beta: 1, c: np.baseAddress! + base, ldc: plane)
                            }
                            let inverse = self.inverse
                            Parallel.forRanges(x.count, minimumPerThread: 1 << 15) { range in
                                GDN.normalize(xp.baseAddress! + range.lowerBound, by: np.baseAddress! + range.lowerBound,
                                              into: yp.baseAddress! + range.lowerBound, count: range.count, inverse: inverse)
                            }
                        }
                    }
                }
            }
        }
        cache = training ? (x, norm) : nil
        return y
    }

    /// The forward pass without keeping the normaliser: the same values, computed over chunks
    /// of whole rows with bounded scratch memory, the chunks shared among the threads.
    func inferenceForward(_ x: Tensor, modulation: (scales: [Float], biases: [Float])? = nil) -> Tensor {
        // One product per row, so that a row's values depend neither on its neighbours
        // (`BandedInference`) nor on how rows are grouped into chunks or threads.
        let plane = x.h * x.w, width = x.w
        // `inferenceChunk` positions of scratch in all: each thread's chunks are a share of it.
        let threads = max(1, Parallel.threads)
        let rowsPerChunk = max(1, min(inferenceChunk / max(1, width * threads), (x.h + threads - 1) / threads))
        let chunksPerImage = (x.h + rowsPerChunk - 1) / rowsPerChunk
        let betaEff = beta.value.data.map { GDN.effective($0, bound: GDN.betaBound) }
        let gammaEff = gamma.value.data.map { GDN.effective($0, bound: GDN.gammaBound) }
        var y = Tensor(uninitialized: x.shape)  // every chunk's every channel is written
        let inverse = self.inverse, channels = self.channels
        let bfloat16 = inferencePrecision.effective == .bfloat16
        // bfloat16: Gamma as `vlat_bf16_taps_row` reads a 1x1 convolution's weights, and the
        // normaliser's rows padded to its 8-row blocks.
        let pairs = (channels + 1) / 2, blocks = (channels + ConvTaps.bfloat16Block - 1) / ConvTaps.bfloat16Block
        let packedGamma = bfloat16 ? ConvTaps.bfloat16Weights(gammaEff, outChannels: channels, inChannels: channels, kernel: 1) : []
        let normRows = bfloat16 ? blocks * ConvTaps.bfloat16Block : channels
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                gammaEff.withUnsafeBufferPointer { gp in
                    packedGamma.withUnsafeBufferPointer { pg in
                        // Each thread its own scratch: the squares and the normaliser of one chunk.
                        Parallel.forRanges(x.n * chunksPerImage) { range in
                            let capacity = rowsPerChunk * width
                            // (bfloat16: two channels' squares at a time, then their pairs)
                            let sp = UnsafeMutablePointer<Float>.allocate(capacity: (bfloat16 ? 2 : channels) * capacity)
                            let pp = UnsafeMutablePointer<UInt32>.allocate(capacity: bfloat16 ? pairs * capacity : 1)
                            let np = UnsafeMutablePointer<Float>.allocate(capacity: normRows * capacity)
                            defer { sp.deallocate(); pp.deallocate(); np.deallocate() }
                            for job in range {
                                let b = job / chunksPerImage, row = (job % chunksPerImage) * rowsPerChunk
                                let base = b * channels * plane, start = row * width
                                let n = min(rowsPerChunk, x.h - row) * width
                                for c in 0..<normRows { (np + c * n).update(repeating: c < channels ? betaEff[c] : 0, count: n) }
                                if bfloat16 {
                                    // The squares, two channels to a word (each column's sum is the
                                    // same whatever the chunk: a row's values depend only on it).
                                    for j in 0..<pairs {
                                        for k in 0..<2 where 2 * j + k < channels {
                                            let x = xp.baseAddress! + base + (2 * j + k) * plane + start
                                            for i in 0..<n { sp[k * n + i] = x[i] * x[i] }
                                        }
                                        vlat_bf16_pack_pairs(sp, 2 * j + 1 < channels ? sp + n : nil, 1, pp + j * n, n)
                                    }
                                    var operand: UnsafePointer<UInt32>? = UnsafePointer(pp)
                                    let done = vlat_bf16_taps_row(Int32(blocks), Int32(pairs), Int32(n), 1, &operand, n, pg.baseAddress!, np, n)
                                    precondition(done != 0, "bfloat16 products need AVX512_BF16")
                                } else {
                                    for c in 0..<channels {
                                        let x = xp.baseAddress! + base + c * plane + start, squares = sp + c * n
                                        for i in 0..<n { squares[i] = x[i] * x[i] }
                                    }
                                    // Inside a thread's share: one row a call, inline.
                                    BLAS.sgemm(m: channels, n: n, k: channels, a: gp.baseAddress!, lda: channels,
                                               b: sp, ldb: n, beta: 1, c: np, ldc: n, chunk: width, threaded: false)
                                }
                                for c in 0..<channels {
                                    let at = base + c * plane + start, y = yp.baseAddress! + at
                                    GDN.normalize(xp.baseAddress! + at, by: np + c * n, into: y, count: n, inverse: inverse)
                                    if let (scales, biases) = modulation {
                                        LevelModulation.apply(y, y, count: n, scale: scales[b * channels + c], bias: biases[b * channels + c])
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// `y = x * sqrt(norm)` (IGDN) or `x / sqrt(norm)` (GDN), in C (`vlat_gdn_normalize`): Swift's
    /// square root keeps a branch to libm for negative inputs, so its loops do not vectorize.
    /// Each element is the correctly rounded square root and product, as in the scalar formula.
    static func normalize(_ x: UnsafePointer<Float>, by norm: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                          count: Int, inverse: Bool) {
        guard count > 0 else { return }
        vlat_gdn_normalize(x, norm, y, count, inverse ? 1 : 0)
    }

    /// The backward pass's element-wise part, in C (`vlat_gdn_backward`, vectorized as `normalize`):
    /// `dx = dy * sqrt(n)` and `t = dy x / (2 sqrt(n))` (IGDN), or `dx = dy / sqrt(n)` and
    /// `t = -dy x / (2 n sqrt(n))` (GDN), each operation in the scalar formula's order.
    static func backwardElementwise(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, norm: UnsafePointer<Float>,
                                    dx: UnsafeMutablePointer<Float>, t: UnsafeMutablePointer<Float>, count: Int, inverse: Bool) {
        guard count > 0 else { return }
        vlat_gdn_backward(dy, x, norm, dx, t, count, inverse ? 1 : 0)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let (x, norm) = cache else { preconditionFailure("GDN.backward without a training forward") }
        cache = nil
        let plane = x.h * x.w
        let gammaEff = gamma.value.data.map { GDN.effective($0, bound: GDN.gammaBound) }
        // t = dL/dn (per element). GDN: dL/dn = -1/2 dy x n^-3/2; IGDN: +1/2 dy x n^-1/2.
        let inverse = self.inverse
        // The element-wise pass writes every element of t and dx: no zero-fill first.
        var tData: [Float] = []
        let dxData = [Float](uninitializedCount: x.count) { dxp in
            tData = [Float](uninitializedCount: x.count) { tp in
                x.data.withUnsafeBufferPointer { xp in
                    dy.data.withUnsafeBufferPointer { dyp in
                        norm.data.withUnsafeBufferPointer { np in
                            Parallel.forRanges(x.count, minimumPerThread: 1 << 15) { range in
                                let o = range.lowerBound
                                GDN.backwardElementwise(dy: dyp.baseAddress! + o, x: xp.baseAddress! + o, norm: np.baseAddress! + o,
                                                        dx: dxp.baseAddress! + o, t: tp.baseAddress! + o, count: range.count, inverse: inverse)
                            }
                        }
                    }
                }
            }
        }
        let t = Tensor(shape: x.shape, data: tData)
        var dx = Tensor(shape: x.shape, data: dxData)
        let needGamma = gamma.requiresGradient, needBeta = beta.requiresGradient
        var dGammaEff = [Float](repeating: 0, count: channels * channels)
        var dBetaEff = [Float](repeating: 0, count: channels)
        x.data.withUnsafeBufferPointer { xp in
            t.data.withUnsafeBufferPointer { tp in
                dx.data.withUnsafeMutableBufferPointer { dxp in
                    // One image's squares and product, each written whole before it is read.
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: needGamma ? channels * plane : 0) { sp in
                        gammaEff.withUnsafeBufferPointer { gp in
                            dGammaEff.withUnsafeMutableBufferPointer { dgp in
                                withUnsafeTemporaryAllocation(of: Float.self, capacity: channels * plane) { bk in
                                    for b in 0..<x.n {
                                        let base = b * channels * plane
                                        if needBeta {
                                            // Each channel's sum of t, as a bias gradient is.
                                            dBetaEff.withUnsafeMutableBufferPointer { db in
                                                Parameter.accumulateBiasGradient(tp.baseAddress! + base, channels: channels, plane: plane, into: db)
                                            }
                                        }
                                        if needGamma {
                                            Parallel.forRanges(channels * plane, minimumPerThread: 1 << 15) { range in
                                                for i in range { sp[i] = xp[base + i] * xp[base + i] }
                                            }
                                            // dGamma_kj += sum_p t_k(p) x_j(p)^2
                                            BLAS.accumulateProductTransposed(m: channels, n: channels, k: plane,
                                                                             a: tp.baseAddress! + base, lda: plane,
                                                                             b: sp.baseAddress!, ldb: plane,
                                                                             c: dgp.baseAddress!, ldc: channels)
                                        }
                                        // dx_j += 2 x_j sum_k gamma_kj t_k
                                        BLAS.sgemm(transposeA: true, m: channels, n: plane, k: channels,
                                                   a: gp.baseAddress!, lda: channels, b: tp.baseAddress! + base, ldb: plane,
                                                   beta: 0, c: bk.baseAddress!, ldc: plane)
                                        Parallel.forRanges(channels * plane, minimumPerThread: 1 << 15) { range in
                                            for i in range { dxp[base + i] += 2 * xp[base + i] * bk[i] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if needBeta {
            for c in 0..<channels {
                beta.grad.data[c] += GDN.effectiveGrad(beta.value.data[c], bound: GDN.betaBound, upstream: dBetaEff[c])
            }
        }
        if needGamma {
            for i in 0..<(channels * channels) {
                gamma.grad.data[i] += GDN.effectiveGrad(gamma.value.data[i], bound: GDN.gammaBound, upstream: dGammaEff[i])
            }
        }
        return dx
    }
}
