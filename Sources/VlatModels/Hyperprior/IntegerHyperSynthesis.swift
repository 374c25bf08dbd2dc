import Foundation
import VlatFormat
import VlatTensor

/// The hyper-synthesis `h_s` in integer arithmetic (Balle et al. 2019, "Integer networks for
/// data compression"), so that the means and scales that choose the entropy coder's tables
/// are the same integers on every machine, whatever BLAS kernels it loads.
///
/// Each layer holds integer weights `W` and biases `b`. With integer input activations `a`,
/// the accumulator `acc = W * a + b` is an exact integer sum: weights and activations are at
/// most `limit` (2^15 - 1) in magnitude, so they fit 16 bits, and a layer sums at most
/// `maxTerms` products, so every sum is below 2^53 (`Int16Product` sums them exactly in 64
/// bits); the order of the additions cannot change the result. The next
/// activation is `clamp(round(acc / 2^shift))` (ties up; ReLU layers clamp at 0), in Int64.
///
/// Float weights map to integers at export (`quantize`): each layer's weights get the largest
/// power-of-two scale that keeps them within `limit`, each activation the largest that keeps
/// the calibration images' activations within `limit / headroom`. The output is in units of
/// `2^-outputFraction`.
public struct IntegerHyperSynthesis: Sendable, Equatable {
    public struct Layer: Sendable, Equatable {
        /// A convolution or transposed convolution (its kernel, stride, padding, channels).
        public var spec: LayerSpec
        /// Laid out as the float layer's weight (`[out, in, k, k]`, or `[in, out, k, k]` for a
        /// transposed convolution).
        public var weights: [Int32]
        /// In accumulator units.
        public var bias: [Int64]
        /// The accumulator is divided by `2^shift` (rounded) to give the output activation.
        public var shift: Int
        /// Negative outputs become 0.
        public var relu: Bool
        /// The float weights these integers stand for are `weights * 2^-weightFraction`.
        public var weightFraction: Int

        public init(spec: LayerSpec, weights: [Int32], bias: [Int64], shift: Int, relu: Bool, weightFraction: Int) {
            self.spec = spec
            self.weights = weights
            self.bias = bias
            self.shift = shift
            self.relu = relu
            self.weightFraction = weightFraction
        }

        /// Products summed into one accumulator, at most.
        var terms: Int { spec.inChannels * spec.kernel * spec.kernel }
    }

    public var layers: [Layer]
    /// The output is in units of `2^-outputFraction`.
    public var outputFraction: Int

    public static let limit: Int64 = (1 << 15) - 1
    /// Elements of the largest column buffer by default: layers run in bands of rows of this
    /// size, so a large photo needs a bounded buffer (results do not depend on it: every sum is
    /// exact).
    public static let bandElements = 1 << 21
    /// Largest accumulator terms a layer may have: `maxTerms * limit^2 + max |bias|` < 2^53.
    public static let maxTerms = 1 << 20
    public static let maxBias: Int64 = 1 << 51

    public init(layers: [Layer], outputFraction: Int) throws {
        for (k, l) in layers.enumerated() {
            let s = l.spec
            guard s.kind == .conv || s.kind == .convTranspose, s.kernel >= 1, s.kernel <= 15, s.stride >= 1, s.stride <= 4,
                  s.padding >= 0, s.padding < s.kernel, s.outputPadding >= 0, s.outputPadding < s.stride,
                  s.inChannels >= 1, s.outChannels >= 1, l.terms <= Self.maxTerms else {
                throw IntegerNetworkError.invalid("layer \(k) has an unsupported shape")
            }
            guard l.weights.count == s.inChannels * s.outChannels * s.kernel * s.kernel, l.bias.count == s.outChannels,
                  l.weights.allSatisfy({ Int64(abs($0)) <= Self.limit }), l.bias.allSatisfy({ abs($0) <= Self.maxBias }),
                  (0...62).contains(l.shift) else {
                throw IntegerNetworkError.invalid("layer \(k) has out-of-range integers")
            }
            if k > 0 && layers[k - 1].spec.outChannels != s.inChannels { throw IntegerNetworkError.invalid("layer \(k) does not follow layer \(k - 1)") }
            guard (-30...30).contains(l.weightFraction) else { throw IntegerNetworkError.invalid("layer \(k) has a bad weight fraction") }
        }
        guard !layers.isEmpty, (0...30).contains(outputFraction) else { throw IntegerNetworkError.invalid("no layers or a bad output fraction") }
        self.layers = layers
        self.outputFraction = outputFraction
    }

    public var inputChannels: Int { layers[0].spec.inChannels }

    /// The float weights and biases the integers stand for, layer by layer (what the float
    /// network computes with, up to the activations' rounding).
    public var floatParameters: [(weight: [Float], bias: [Float])] {
        var inputFraction = 0
        return layers.map { l in
            let accFraction = l.weightFraction + inputFraction
            defer { inputFraction = accFraction - l.shift }
            let (weightUnit, biasUnit) = (exp2(Double(-l.weightFraction)), exp2(Double(-accFraction)))
            return (l.weights.map { Float(Double($0) * weightUnit) }, l.bias.map { Float(Double($0) * biasUnit) })
        }
    }
    public var outputChannels: Int { layers[layers.count - 1].spec.outChannels }

    /// Output size of one layer for an input of `h x w`.
    static func outputSize(_ s: LayerSpec, _ h: Int, _ w: Int) -> (Int, Int) {
        switch s.kind {
        case .convTranspose:
            return ((h - 1) * s.stride - 2 * s.padding + s.kernel + s.outputPadding, (w - 1) * s.stride - 2 * s.padding + s.kernel + s.outputPadding)
        default:
            return ((h + 2 * s.padding - s.kernel) / s.stride + 1, (w + 2 * s.padding - s.kernel) / s.stride + 1)
        }
    }

    /// Runs the network on integer activations `[channels, height, width]` (one image), first
    /// clamped to `limit` like every later activation (a damaged file may hold any z).
    /// Returns the output activations and their height and width.
    public func run(_ input: [Int32], height: Int, width: Int, bandElements: Int = Self.bandElements) -> (values: [Int32], height: Int, width: Int) {
        precondition(input.count == inputChannels * height * width)
        // Activations between layers are integers within `limit`, kept as Int32; the products
        // are exact integer products of 16-bit operands into 64-bit sums (`Int16Product`), over
        // bands of rows, so a large image's accumulators are a band's. The loops share
        // channels among the threads: each writes its own channels' elements, and every sum is
        // exact, so the result is the same for any thread count.
        var a = input.map { Int32(min(max(Int64($0), -Self.limit), Self.limit)) }, h = height, w = width
        for layer in layers {
            let s = layer.spec
            let (oh, ow) = Self.outputSize(s, h, w)
            let plane = oh * ow, k2 = s.kernel * s.kernel
            let largestWeight = Int(layer.weights.lazy.map { abs($0) }.max() ?? 0), largestActivation = Int(Self.limit)
            var next = [Int32](repeating: 0, count: s.outChannels * plane)
            let half: Int64 = layer.shift > 0 ? 1 << (layer.shift - 1) : 0
            let low: Int64 = layer.relu ? 0 : -Self.limit
            let shift = Int64(layer.shift), bias = layer.bias
            let (ih, iw) = (h, w)
            a.withUnsafeBufferPointer { ap in
            next.withUnsafeMutableBufferPointer { np in
                /// Requantizes accumulators `acc[o * stride + offset + p]`, p < count, into output
                /// positions `first + p` of every channel.
                func requantize(_ acc: UnsafePointer<Int64>, stride: Int, offset: Int, first: Int, count: Int) {
                    Parallel.forRanges(s.outChannels, minimumPerThread: 4) { outs in
                        for o in outs {
                            let b = bias[o]
                            for p in 0..<count {
                                let v = (acc[o * stride + offset + p] + b + half) >> shift
                                np[o * plane + first + p] = Int32(min(max(v, low), Self.limit))
                            }
                        }
                    }
                }
                if s.kind == .conv {
                    // im2col, then W [out, in*k*k] x col [in*k*k, rows*ow], in bands of output rows;
                    // col in pairs of rows (`Int16Product`), a zero row padding an odd depth.
                    let depth = s.inChannels * k2, kp = (depth + 1) / 2 * 2
                    let weights = Self.packedWeights(layer.weights, rows: s.outChannels, depth: depth) { o, d in o * depth + d }
                    let rowElements = depth * ow
                    let bandRows = max(1, min(oh, bandElements / max(1, rowElements)))
                    let col = UnsafeMutablePointer<Int16>.allocate(capacity: kp * ow * bandRows)
                    let acc = UnsafeMutablePointer<Int64>.allocate(capacity: s.outChannels * bandRows * ow)
                    defer { col.deallocate(); acc.deallocate() }
                    for r0 in stride(from: 0, to: oh, by: bandRows) {
                        let rows = min(bandRows, oh - r0), n = rows * ow, ldb = 2 * n
                        if kp > depth { for p in 0..<n { col[(depth / 2) * ldb + 2 * p + 1] = 0 } }
                        Parallel.forRanges(s.inChannels, minimumPerThread: 4) { channels in
                            for c in channels {
                                for ky in 0..<s.kernel {
                                    for kx in 0..<s.kernel {
                                        let d = c * k2 + ky * s.kernel + kx
                                        let row = col + (d / 2) * ldb + d % 2
                                        // Output columns whose input column ox * stride - padding + kx is inside.
                                        let (lo, hi) = Self.inside(kx, stride: s.stride, padding: s.padding, input: iw, output: ow)
                                        for oy in r0..<(r0 + rows) {
                                            let iy = oy * s.stride - s.padding + ky
                                            let dst = row + 2 * (oy - r0) * ow
                                            guard iy >= 0 && iy < ih else {
                                                for ox in 0..<ow { dst[2 * ox] = 0 }
                                                continue
                                            }
                                            let src = ap.baseAddress! + (c * ih + iy) * iw - s.padding + kx
                                            for ox in 0..<lo { dst[2 * ox] = 0 }
                                            for ox in lo..<hi { dst[2 * ox] = Int16(truncatingIfNeeded: src[ox * s.stride]) }
                                            for ox in hi..<ow { dst[2 * ox] = 0 }
                                        }
                                    }
                                }
                            }
                        }
                        weights.withUnsafeBufferPointer { wp in
                            Int16Product.multiply(m: s.outChannels, n: n, k: depth, a: wp.baseAddress!, lda: kp, b: col, ldb: ldb,
                                                  c: acc, ldc: n, largestA: largestWeight, largestB: largestActivation)
                        }
                        requantize(acc, stride: n, offset: 0, first: r0 * ow, count: n)
                    }
                } else {
                    // col = W^T [out*k*k, in] x a [in, rows*w] in bands of input rows, each scattered
                    // (col2im) into a window of output rows: a band of input rows reaches output rows
                    // [r0 * stride - padding, (r0 + rows - 1) * stride - padding + kernel), and the rows
                    // before the next band's first are final, so they are requantized and the window
                    // moves on. Every output is an exact sum, the same as a whole-image pass's.
                    let inPlane = ih * iw, taps = s.outChannels * k2, kp = (s.inChannels + 1) / 2 * 2
                    let weights = Self.packedWeights(layer.weights, rows: taps, depth: s.inChannels) { r, c in c * taps + r }
                    let rowElements = taps * iw
                    let bandRows = max(1, min(ih, bandElements / max(1, rowElements)))
                    let windowRows = bandRows * s.stride + s.kernel, window = windowRows * ow
                    let acc = UnsafeMutablePointer<Int64>.allocate(capacity: s.outChannels * window)
                    acc.initialize(repeating: 0, count: s.outChannels * window)
                    let col = UnsafeMutablePointer<Int64>.allocate(capacity: rowElements * bandRows)
                    let x = UnsafeMutablePointer<Int16>.allocate(capacity: kp * bandRows * iw)
                    defer { acc.deallocate(); col.deallocate(); x.deallocate() }
                    var base = 0  // the output row at the window's first row
                    for r0 in stride(from: 0, to: ih, by: bandRows) {
                        let rows = min(bandRows, ih - r0), n = rows * iw, ldb = 2 * n
                        if kp > s.inChannels { for p in 0..<n { x[(s.inChannels / 2) * ldb + 2 * p + 1] = 0 } }
                        Parallel.forRanges(s.inChannels, minimumPerThread: 4) { channels in
                            for c in channels {
                                let dst = x + (c / 2) * ldb + c % 2, src = ap.baseAddress! + c * inPlane + r0 * iw
                                for p in 0..<n { dst[2 * p] = Int16(truncatingIfNeeded: src[p]) }
                            }
                        }
                        weights.withUnsafeBufferPointer { wp in
                            Int16Product.multiply(m: taps, n: n, k: s.inChannels, a: wp.baseAddress!, lda: kp, b: x, ldb: ldb,
                                                  c: col, ldc: n, largestA: largestWeight, largestB: largestActivation)
                        }
                        let windowBase = base
                        Parallel.forRanges(s.outChannels, minimumPerThread: 4) { outs in
                            for o in outs {
                                for ky in 0..<s.kernel {
                                    for kx in 0..<s.kernel {
                                        let row = (o * k2 + ky * s.kernel + kx) * n
                                        // Input columns whose output column ix * stride - padding + kx is inside.
                                        let (lo, hi) = Self.inside(kx, stride: s.stride, padding: s.padding, input: ow, output: iw)
                                        for iy in r0..<(r0 + rows) {
                                            let oy = iy * s.stride - s.padding + ky
                                            guard oy >= 0 && oy < oh else { continue }
                                            let dst = acc + o * window + (oy - windowBase) * ow - s.padding + kx
                                            let src = col + row + (iy - r0) * iw
                                            for ix in lo..<hi { dst[ix * s.stride] += src[ix] }
                                        }
                                    }
                                }
                            }
                        }
                        // Rows before the next band's reach are final (all of them after the last band).
                        let final = r0 + rows >= ih ? oh : min(oh, max(base, (r0 + rows) * s.stride - s.padding))
                        requantize(acc, stride: window, offset: 0, first: base * ow, count: (final - base) * ow)
                        let done = (final - base) * ow
                        Parallel.forRanges(s.outChannels, minimumPerThread: 4) { outs in
                            for o in outs {
                                let start = o * window
                                for i in 0..<(window - done) { acc[start + i] = acc[start + done + i] }
                                for i in (window - done)..<window { acc[start + i] = 0 }
                            }
                        }
                        base = final
                    }
                }
            }
            }
            a = next
            h = oh
            w = ow
        }
        return (a, h, w)
    }

    /// A layer's weights as `rows` rows of `depth` 16-bit integers, each padded with a zero to
    /// an even length (`Int16Product`'s A); `index(r, d)` is the weight's place in `weights`.
    static func packedWeights(_ weights: [Int32], rows: Int, depth: Int, index: (Int, Int) -> Int) -> [Int16] {
        let kp = (depth + 1) / 2 * 2
        var out = [Int16](repeating: 0, count: rows * kp)
        for r in 0..<rows {
            for d in 0..<depth { out[r * kp + d] = Int16(truncatingIfNeeded: weights[index(r, d)]) }
        }
        return out
    }

    /// The indices `j` in `lo..<hi` (within `0..<output`) for which `j * stride - padding + k`
    /// falls inside `0..<input`.
    static func inside(_ k: Int, stride: Int, padding: Int, input: Int, output: Int) -> (lo: Int, hi: Int) {
        // j * stride >= padding - k, and j * stride <= input - 1 + padding - k.
        let low = padding - k, high = input - 1 + padding - k
        let lo = low <= 0 ? 0 : (low + stride - 1) / stride
        let hi = high < 0 ? 0 : high / stride + 1
        return (min(lo, output), max(min(lo, output), min(hi, output)))
    }

    /// Integer weights for the float `layers` (convolutions, each optionally followed by a
    /// ReLU), with activation scales calibrated on `calibration` inputs (integer z, `[1, C, h, w]`
    /// each): each activation keeps a factor `headroom` below `limit` at the largest value seen.
    ///
    /// Weights are kept within `weightLimit` (2047 by default: integers that float16 holds
    /// exactly, so a model file stores them in two bytes).
    public static func quantize(_ network: Sequential, calibration: [Tensor], headroom: Double = 2,
                                maxOutputFraction: Int = 16, weightLimit: Double = 2047) throws -> IntegerHyperSynthesis {
        var convs: [(layer: any VlatTensor.Layer, relu: Bool)] = []
        for layer in network.layers {
            switch layer.spec.kind {
            case .conv, .convTranspose: convs.append((layer, false))
            case .relu:
                guard !convs.isEmpty else { throw IntegerNetworkError.invalid("a ReLU before any convolution") }
                convs[convs.count - 1].relu = true
            default: throw IntegerNetworkError.invalid("layer kind \(layer.spec.kind) has no integer version")
            }
        }
        // Largest pre-activation magnitude of each convolution over the calibration inputs.
        var peaks = [Double](repeating: 1e-6, count: convs.count)
        for z in calibration {
            var x = z
            var k = 0
            for layer in network.layers {
                x = layer.forward(x, training: false)
                if layer.spec.kind == .conv || layer.spec.kind == .convTranspose {
                    peaks[k] = max(peaks[k], x.data.reduce(0) { max($0, Double(abs($1))) })
                    k += 1
                }
            }
        }
        var layers: [Layer] = []
        var inputFraction = 0
        for (k, item) in convs.enumerated() {
            let params = item.layer.parameters
            let w = params[0].value.data, b = params[1].value.data
            let wMax = max(1e-12, w.reduce(0) { max($0, Double(abs($1))) })
            let weightFraction = min(24, Int(floor(log2(weightLimit / wMax))))
            var outFraction = Int(floor(log2(Double(limit) / (peaks[k] * headroom))))
            if k == convs.count - 1 { outFraction = min(outFraction, maxOutputFraction) }
            outFraction = min(outFraction, weightFraction + inputFraction)
            let weights = w.map { Int32((Double($0) * exp2(Double(weightFraction))).rounded()) }
            let accFraction = weightFraction + inputFraction
            let bias = b.map { Int64((Double($0) * exp2(Double(accFraction))).rounded()) }
            layers.append(Layer(spec: item.layer.spec, weights: weights, bias: bias, shift: accFraction - outFraction, relu: item.relu,
                                weightFraction: weightFraction))
            inputFraction = outFraction
        }
        return try IntegerHyperSynthesis(layers: layers, outputFraction: inputFraction)
    }
}

// MARK: - Model files

extension IntegerHyperSynthesis {
    /// The model-file name prefix of the hyper-synthesis.
    public static let prefix = "integer_hyper_synthesis"

    /// The tensors that store this network under `prefix`: per convolution k `<prefix>.<k>.weight`
    /// (float16: the weights are within 2047, which it holds exactly), `.bias_high` and
    /// `.bias_low` (bias = high * 2^24 + low, each exact in float32), then `<prefix>.shifts`
    /// (each layer's shift, then the output fraction) and `<prefix>.weight_fractions`.
    public func entries(prefix: String = Self.prefix) -> [ModelFile.Entry] {
        var out: [ModelFile.Entry] = []
        for (k, layer) in layers.enumerated() {
            let s = layer.spec
            let shape = s.kind == .conv ? [s.outChannels, s.inChannels, s.kernel, s.kernel] : [s.inChannels, s.outChannels, s.kernel, s.kernel]
            out.append(.init(name: "\(prefix).\(k).weight", shape: shape, values: layer.weights.map { Float($0) },
                             storage: layer.weights.allSatisfy { abs($0) <= 2048 } ? .float16 : .float32))
            out.append(.init(name: "\(prefix).\(k).bias_high", shape: [s.outChannels], values: layer.bias.map { Float($0 >> 24) }))
            out.append(.init(name: "\(prefix).\(k).bias_low", shape: [s.outChannels], values: layer.bias.map { Float($0 & 0xFF_FFFF) }))
        }
        out.append(.init(name: "\(prefix).shifts", shape: [layers.count + 1],
                         values: layers.map { Float($0.shift) } + [Float(outputFraction)]))
        out.append(.init(name: "\(prefix).weight_fractions", shape: [layers.count], values: layers.map { Float($0.weightFraction) }))
        return out
    }

    /// The network stored in `file` under `prefix` for the float layers `specs` (convolutions
    /// and ReLUs), or nil when the file has none. Every value is checked: a damaged file is an
    /// error.
    public init?(file: ModelFile, specs: [LayerSpec], prefix: String = Self.prefix) throws {
        let convs = specs.enumerated().filter { $0.element.kind == .conv || $0.element.kind == .convTranspose }
        guard let shifts = file["\(prefix).shifts"] else { return nil }
        guard shifts.values.count == convs.count + 1, let fractions = file["\(prefix).weight_fractions"],
              fractions.values.count == convs.count else {
            throw IntegerNetworkError.invalid("the stored layers do not match the architecture")
        }
        func ints(_ v: [Float]) throws -> [Int64] {
            // One pass over contiguous values: the float of the truncated integer is the value
            // exactly when it is an integer (`Int64(exactly:)` and `rounded` are slow over a
            // model's values). NaN and the infinities fail the range check.
            var exact = true
            let out = [Int64](unsafeUninitializedCapacity: v.count) { buffer, count in
                v.withUnsafeBufferPointer { src in
                    for i in 0..<src.count {
                        let x = src[i]
                        guard abs(x) < 0x1p62 else { exact = false; buffer[i] = 0; continue }
                        let n = Int64(x)
                        if Float(n) != x { exact = false }
                        buffer[i] = n
                    }
                }
                count = v.count
            }
            guard exact else { throw IntegerNetworkError.invalid("a stored value is not an integer") }
            return out
        }
        let shiftValues = try ints(shifts.values), fractionValues = try ints(fractions.values)
        var layers: [Layer] = []
        for (k, item) in convs.enumerated() {
            let s = item.element
            guard let w = file["\(prefix).\(k).weight"], let hi = file["\(prefix).\(k).bias_high"],
                  let lo = file["\(prefix).\(k).bias_low"], hi.values.count == lo.values.count else {
                throw IntegerNetworkError.invalid("layer \(k) is missing")
            }
            let weights = try ints(w.values), high = try ints(hi.values), low = try ints(lo.values)
            guard weights.allSatisfy({ abs($0) <= Self.limit }), high.allSatisfy({ abs($0) < 1 << 24 }),
                  low.allSatisfy({ (0..<(1 << 24)).contains($0) }), (0...62).contains(shiftValues[k]), (-30...30).contains(fractionValues[k]) else {
                throw IntegerNetworkError.invalid("layer \(k) holds out-of-range values")
            }
            let relu = item.offset + 1 < specs.count && specs[item.offset + 1].kind == .relu
            layers.append(Layer(spec: s, weights: weights.map { Int32($0) }, bias: zip(high, low).map { $0 << 24 + $1 },
                                shift: Int(shiftValues[k]), relu: relu, weightFraction: Int(fractionValues[k])))
        }
        guard let outputFraction = shiftValues.last, (0...30).contains(outputFraction) else { throw IntegerNetworkError.invalid("bad output fraction") }
        try self.init(layers: layers, outputFraction: Int(outputFraction))
    }
}

public enum IntegerNetworkError: Error, Equatable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self { case .invalid(let s): return "invalid integer network: \(s)" }
    }
}
