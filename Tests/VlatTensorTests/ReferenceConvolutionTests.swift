import Testing
import VlatTestSupport
@testable import VlatTensor

/// Forward passes against direct, loop-by-loop definitions in Float64.
@Suite("Convolutions against a naive direct implementation")
struct ReferenceConvolutionTests {
    static func directConv(_ x: Tensor, _ w: Tensor, _ b: Tensor, stride s: Int, padding p: Int) -> [Double] {
        let (n, cin, h, wd) = (x.n, x.c, x.h, x.w), cout = w.shape[0], k = w.shape[2]
        let oh = (h + 2 * p - k) / s + 1, ow = (wd + 2 * p - k) / s + 1
        var out = [Double](repeating: 0, count: n * cout * oh * ow)
        for i in 0..<n { for o in 0..<cout { for y in 0..<oh { for xx in 0..<ow {
            var acc = Double(b.data[o])
            for c in 0..<cin { for ky in 0..<k { for kx in 0..<k {
                let iy = y * s - p + ky, ix = xx * s - p + kx
                if iy >= 0 && iy < h && ix >= 0 && ix < wd {
                    acc += Double(x.data[((i * cin + c) * h + iy) * wd + ix]) * Double(w.data[((o * cin + c) * k + ky) * k + kx])
                }
            } } }
            out[((i * cout + o) * oh + y) * ow + xx] = acc
        } } } }
        return out
    }

    /// Transposed convolution by its definition: every input pixel scatters a weighted kernel.
    static func directTransposed(_ x: Tensor, _ w: Tensor, _ b: Tensor, stride s: Int, padding p: Int, outputPadding op: Int) -> [Double] {
        let (n, cin, h, wd) = (x.n, x.c, x.h, x.w), cout = w.shape[1], k = w.shape[2]
        let oh = (h - 1) * s - 2 * p + k + op, ow = (wd - 1) * s - 2 * p + k + op
        var out = [Double](repeating: 0, count: n * cout * oh * ow)
        for i in 0..<n { for o in 0..<cout { for y in 0..<oh { for xx in 0..<ow { out[((i * cout + o) * oh + y) * ow + xx] = Double(b.data[o]) } } } }
        for i in 0..<n { for c in 0..<cin { for y in 0..<h { for xx in 0..<wd {
            let v = Double(x.data[((i * cin + c) * h + y) * wd + xx])
            for o in 0..<cout { for ky in 0..<k { for kx in 0..<k {
                let oy = y * s - p + ky, ox = xx * s - p + kx
                if oy >= 0 && oy < oh && ox >= 0 && ox < ow {
                    out[((i * cout + o) * oh + oy) * ow + ox] += v * Double(w.data[((c * cout + o) * k + ky) * k + kx])
                }
            } } }
        } } } }
        return out
    }

    @Test(arguments: [(3, 8, 5, 2, 2, 17, 13), (5, 4, 3, 1, 1, 9, 10), (2, 3, 1, 1, 0, 4, 4), (4, 6, 4, 3, 1, 11, 8), (1, 1, 3, 2, 0, 3, 3),
                      (17, 3, 5, 2, 2, 1, 1), (3, 2, 2, 2, 0, 7, 9), (2, 2, 3, 2, 1, 6, 5)])
    func conv2dForward(c: (Int, Int, Int, Int, Int, Int, Int)) {
        var g = SeededGenerator(seed: 10)
        let layer = Conv2d(name: "c", inChannels: c.0, outChannels: c.1, kernel: c.2, stride: c.3, padding: c.4, generator: &g)
        let x = GradientCheck.random([2, c.0, c.5, c.6], &g)
        let ref = Self.directConv(x, layer.weight.value, layer.bias.value, stride: c.3, padding: c.4)
        // Training (one whole-image column matrix), and inference both ways (column matrix, tap
        // by tap) in bands of 1 row, a few rows, and all rows: the same result.
        for (training, bandBytes, taps) in [(true, 0, false), (false, 1, false), (false, 4 * c.0 * c.2 * c.2 * c.6, false), (false, 1 << 30, false),
                                            (false, 1, true), (false, 4 * c.0 * (c.6 + 2 * c.4 + c.3) * (c.2 + 3), true), (false, 1 << 30, true)] {
            layer.inferenceBandBytes = bandBytes
            layer.inferenceByTaps = taps
            layer.tapsMinimumWidth = 0
            let y = layer.forward(x, training: training)
            #expect(y.count == ref.count)
            for i in 0..<ref.count { #expect(abs(Double(y.data[i]) - ref[i]) < 1e-5, "band bytes \(bandBytes), taps \(taps)") }
        }
    }

    /// Small 3x3 convolutions, computed directly at inference (`vlat_conv3x3_direct`), at widths
    /// with no vector block, one, and several, and channel counts below, at and above a block.
    @Test(arguments: [(3, 16, 5, 1), (16, 16, 4, 2), (16, 3, 7, 9), (5, 11, 3, 10), (32, 32, 3, 17), (3, 8, 6, 40), (1, 1, 1, 1)])
    func smallConv3x3Direct(c: (Int, Int, Int, Int)) {
        var g = SeededGenerator(seed: 11)
        let layer = Conv2d(name: "c", inChannels: c.0, outChannels: c.1, kernel: 3, stride: 1, padding: 1, generator: &g)
        #expect(layer.inferenceDirect)
        let x = GradientCheck.random([2, c.0, c.2, c.3], &g)
        let ref = Self.directConv(x, layer.weight.value, layer.bias.value, stride: 1, padding: 1)
        let y = layer.forward(x, training: false)
        #expect(y.count == ref.count)
        for i in 0..<ref.count { #expect(abs(Double(y.data[i]) - ref[i]) < 1e-5) }
        // Any rows on their own give the whole pass's values, bit for bit.
        let bands = BandedInference(Sequential([layer]))
        for r in 0..<c.2 {
            let band = bands.forward(rows: r..<(r + 1), inputHeight: c.2) { BandedInference.rows(x, $0) }
            #expect(band == BandedInference.rows(y, r..<(r + 1)))
        }
        // With the activation after it applied in the same pass: the two layers' values bit for
        // bit, one after the other, in a stack and band by band.
        for slope: Float in [0, 0.01] {
            let activation = LeakyReLU(slope: slope)
            let expected = activation.forward(y, training: false)
            #expect(layer.forward(x, activationSlope: slope).data.map(\.bitPattern) == expected.data.map(\.bitPattern))
            let stack = Sequential([layer, activation])
            #expect(stack.forward(x, training: false).data.map(\.bitPattern) == expected.data.map(\.bitPattern))
            var bands = 0
            BandedInference(stack).forEachBand(inputHeight: c.2, bandRows: 2, input: { BandedInference.rows(x, $0) }) { rows, out in
                bands += 1
                #expect(out.data.map(\.bitPattern) == BandedInference.rows(expected, rows).data.map(\.bitPattern))
            }
            #expect(bands == (c.2 + 1) / 2)
        }
    }

    @Test(arguments: [(3, 8, 5, 2, 2, 1, 7, 5), (4, 2, 3, 1, 1, 0, 6, 6), (2, 3, 4, 2, 1, 0, 5, 3), (3, 2, 3, 3, 0, 2, 2, 4),
                      (2, 3, 2, 3, 0, 1, 4, 5), (2, 17, 5, 2, 2, 1, 1, 1)])
    func convTransposeForward(c: (Int, Int, Int, Int, Int, Int, Int, Int)) {
        var g = SeededGenerator(seed: 11)
        let layer = ConvTranspose2d(name: "t", inChannels: c.0, outChannels: c.1, kernel: c.2, stride: c.3, padding: c.4,
                                    outputPadding: c.5, generator: &g)
        let x = GradientCheck.random([2, c.0, c.6, c.7], &g)
        let ref = Self.directTransposed(x, layer.weight.value, layer.bias.value, stride: c.3, padding: c.4, outputPadding: c.5)
        // Inference both ways (output phases and col2im), each in bands of one row, a few rows
        // and all rows.
        for (training, bandBytes, phases) in [(true, 0, false), (false, 1, false), (false, 4 * c.1 * c.2 * c.2 * c.7 * 2, false), (false, 1 << 30, false),
                                              (false, 1, true), (false, 4 * c.0 * (c.7 + c.2) * 3, true), (false, 1 << 30, true)] {
            layer.inferenceBandBytes = bandBytes
            layer.inferenceByPhases = phases
            let y = layer.forward(x, training: training)
            #expect(y.count == ref.count)
            for i in 0..<ref.count { #expect(abs(Double(y.data[i]) - ref[i]) < 1e-5, "band bytes \(bandBytes), phases \(phases)") }
        }
    }

    @Test func gdnForwardKnownValues() {
        // Two channels, one pixel: beta = 1, Gamma = 0.1 I initially, so y = x / sqrt(1 + 0.1 x^2).
        let gdn = GDN(name: "g", channels: 2, inverse: false)
        let x = Tensor(shape: [1, 2, 1, 1], data: [2, -3])
        let y = gdn.forward(x, training: false)
        #expect(abs(y.data[0] - 2 / (1 + 0.4).squareRoot()) < 1e-5)
        #expect(abs(y.data[1] + 3 / (1 + 0.9).squareRoot()) < 1e-5)
        let igdn = GDN(name: "i", channels: 2, inverse: true)
        let back = igdn.forward(y, training: false)
        // IGDN is not the exact inverse of GDN, but with these values it is close.
        #expect(abs(back.data[0] - 2) < 0.3)
    }

    /// Inference computes the normaliser in chunks of positions; training in one product. Both
    /// must give the same values, for any chunk size, with random (non-initial) parameters.
    @Test(arguments: [false, true])
    func gdnInferenceChunksMatchTheWholeForward(inverse: Bool) {
        var g = SeededGenerator(seed: 12)
        let gdn = GDN(name: "g", channels: 5, inverse: inverse)
        gdn.beta.value = Tensor(shape: [5], data: GradientCheck.random([5], &g).data.map { abs($0) + 0.5 })
        gdn.gamma.value = Tensor(shape: [5, 5], data: GradientCheck.random([5, 5], &g, scale: 0.5).data.map { abs($0) })
        let x = GradientCheck.random([2, 5, 7, 9], &g, scale: 2)
        let whole = gdn.forward(x, training: true)
        for chunk in [1, 10, 63, 1000] {
            gdn.inferenceChunk = chunk
            let y = gdn.forward(x, training: false)
            for i in 0..<y.count { #expect(abs(y.data[i] - whole.data[i]) <= 1e-6 * max(1, abs(whole.data[i])), "chunk \(chunk)") }
        }
    }

    /// The vector backward step (`vlat_gdn_backward`) is the scalar formula, bit for bit, at
    /// every length.
    @Test(arguments: [false, true])
    func gdnBackwardLanesAreTheScalarFormulaBitForBit(inverse: Bool) {
        var g = SeededGenerator(seed: 32)
        for count in 0...27 {
            let n = max(1, count)
            let dy = GradientCheck.random([n], &g, scale: 2).data, x = GradientCheck.random([n], &g, scale: 3).data
            let norm = GradientCheck.random([n], &g).data.map { abs($0) + 0.01 }
            var dx = [Float](repeating: .nan, count: n), t = [Float](repeating: .nan, count: n)
            GDN.backwardElementwise(dy: dy, x: x, norm: norm, dx: &dx, t: &t, count: count, inverse: inverse)
            for i in 0..<count {
                let r = norm[i].squareRoot()
                let wantDx = inverse ? dy[i] * r : dy[i] / r
                let wantT = inverse ? 0.5 * dy[i] * x[i] / r : -0.5 * dy[i] * x[i] / (norm[i] * r)
                #expect(wantDx.bitPattern == dx[i].bitPattern && wantT.bitPattern == t[i].bitPattern, "count \(count), lane \(i)")
            }
        }
    }

    /// The vector normalisation (`vlat_gdn_normalize`) is the scalar formula, bit for bit, at
    /// every length (whole vectors and tails), and inference gives the same bits on 1 and 2 threads.
    @Test(arguments: [false, true])
    func gdnLanesAreTheScalarFormulaBitForBit(inverse: Bool) {
        var g = SeededGenerator(seed: 31)
        for count in 0...27 {
            let x = GradientCheck.random([max(1, count)], &g, scale: 3).data
            let norm = GradientCheck.random([max(1, count)], &g).data.map { abs($0) + 0.01 }
            var y = [Float](repeating: .nan, count: max(1, count))
            GDN.normalize(x, by: norm, into: &y, count: count, inverse: inverse)
            for i in 0..<count {
                let r = norm[i].squareRoot()
                #expect((inverse ? x[i] * r : x[i] / r).bitPattern == y[i].bitPattern, "count \(count), lane \(i)")
            }
        }
        let gdn = GDN(name: "g", channels: 6, inverse: inverse)
        let x = GradientCheck.random([1, 6, 13, 21], &g, scale: 2)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let one = gdn.forward(x, training: false)
        Parallel.threads = 2
        #expect(gdn.forward(x, training: false).data.map(\.bitPattern) == one.data.map(\.bitPattern))
    }
}

@Suite("Adam")
struct AdamTests {
    @Test func matchesAHandComputedStep() {
        let p = Parameter(name: "w", value: Tensor(shape: [2], data: [1, -2]))
        p.grad = Tensor(shape: [2], data: [0.5, -0.1])
        let adam = Adam(parameters: [p], learningRate: 0.1)
        adam.step()
        // Step 1: m = 0.1 g, v = 0.001 g^2; m_hat = g, v_hat = g^2; update = lr * g / (|g| + eps).
        #expect(abs(p.value.data[0] - (1 - 0.1 * 0.5 / (0.5 + 1e-8))) < 1e-6)
        #expect(abs(p.value.data[1] - (-2 + 0.1 * 0.1 / (0.1 + 1e-8))) < 1e-6)
        #expect(p.grad.data == [0, 0])
        // Step 2 with gradient 0.3 on w[0]: m = 0.9*0.05 + 0.1*0.3 = 0.075, v = 0.999*0.00025 + 0.001*0.09.
        p.grad = Tensor(shape: [2], data: [0.3, 0])
        let before = p.value.data[0]
        adam.step()
        let m = 0.9 * 0.05 + 0.1 * 0.3, v = 0.999 * 0.00025 + 0.001 * 0.09
        let mHat = m / (1 - 0.81), vHat = v / (1 - 0.999 * 0.999)
        #expect(abs(Double(p.value.data[0]) - (Double(before) - 0.1 * mHat / (vHat.squareRoot() + 1e-8))) < 1e-6)
    }

    @Test func clippingAndSchedules() {
        let p = Parameter(name: "w", value: Tensor(shape: [2], data: [0, 0]))
        p.grad = Tensor(shape: [2], data: [3, 4])
        let adam = Adam(parameters: [p], learningRate: 1, clipNorm: 1)
        #expect(abs(adam.step() - 5) < 1e-9)
        #expect(LearningRateSchedule.cosine(totalSteps: 100, floor: 0.1).factor(step: 0) == 1)
        #expect(abs(LearningRateSchedule.cosine(totalSteps: 100, floor: 0.1).factor(step: 100) - 0.1) < 1e-6)
        #expect(LearningRateSchedule.step(milestones: [10, 20], factor: 0.5).factor(step: 15) == 0.5)
        #expect(LearningRateSchedule.warmup(steps: 4).factor(step: 2) == 0.5)
    }

    @Test func descendsAQuadratic() {
        let p = Parameter(name: "w", value: Tensor(shape: [3], data: [3, -1, 2]))
        let adam = Adam(parameters: [p], learningRate: 0.05)
        for _ in 0..<500 {
            for i in 0..<3 { p.grad.data[i] = 2 * p.value.data[i] }
            adam.step()
        }
        #expect(p.value.data.allSatisfy { abs($0) < 0.05 })
    }
}
