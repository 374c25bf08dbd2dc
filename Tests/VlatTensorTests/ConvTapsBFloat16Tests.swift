import Testing
import CKernels
import VlatTestSupport
@testable import VlatTensor

/// Convolutions with bfloat16 operands (`InferencePrecision.bfloat16`) against the definition:
/// every product of bfloat16-rounded operands, summed in Float64.
@Suite("bfloat16 convolutions")
struct ConvTapsBFloat16Tests {
    @Test func roundingKnownAnswers() {
        let r = InferencePrecision.roundedToBFloat16
        #expect(r(1) == 1 && r(-2.5) == -2.5 && r(0) == 0)
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even significand, 1.
        #expect(r(1 + 0x1p-8) == 1)
        // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: to 1 + 2^-6, the even one.
        #expect(r(1 + 3 * 0x1p-8) == 1 + 0x1p-6)
        // Just above the halfway point rounds up; just below, down.
        #expect(r(Float(bitPattern: 0x3F80_8001)) == 1 + 0x1p-7 && r(Float(bitPattern: 0x3F80_7FFF)) == 1)
        #expect(r(.infinity) == .infinity && r(-.infinity) == -.infinity && r(.nan).isNaN)
        // The largest float rounds past bfloat16's largest finite value, to infinity.
        #expect(r(.greatestFiniteMagnitude) == .infinity)
        // Subnormals count as zero, as the instructions' conversions take them.
        #expect(r(Float(bitPattern: 0x0000_0001)) == 0 && r(Float(bitPattern: 0x807F_FFFF)).bitPattern == 0x8000_0000)
        #expect(r(.leastNormalMagnitude) == .leastNormalMagnitude)
    }

    /// Packing in pairs (the vector conversion where the CPU has it, the scalar one for the last
    /// words) gives every value as `roundedToBFloat16` does: random values of every scale, ties,
    /// subnormals, infinities and NaN, at strides 1 and 2 and lengths around the vector width.
    @Test func packingRoundsEveryValueAsTheScalarFunction() {
        var g = SeededGenerator(seed: 25)
        let specials: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, Float(bitPattern: 1), Float(bitPattern: 0x807F_FFFF),
                                 1 + 0x1p-8, 1 + 3 * 0x1p-8, .greatestFiniteMagnitude, .leastNormalMagnitude]
        let source = (0..<200).map { i -> Float in
            i % 7 == 0 ? specials[(i / 7) % specials.count] : (g.uniform() - 0.5) * Float(1 << Int(g.next() % 30)) * 0x1p-10
        }
        for stride in [1, 2] {
            for count in [0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 64, 99] {
                var words = [UInt32](repeating: 0xDEAD_BEEF, count: count + 1)
                source.withUnsafeBufferPointer { s in
                    vlat_bf16_pack_pairs(s.baseAddress!, s.baseAddress! + 1, stride, &words, count)
                }
                #expect(words[count] == 0xDEAD_BEEF, "wrote past \(count) words")
                for i in 0..<count {
                    let even = UInt32(vlat_bf16_round(source[i * stride])), odd = UInt32(vlat_bf16_round(source[i * stride + 1]))
                    #expect(words[i] == even | odd << 16, "stride \(stride), count \(count), word \(i)")
                }
                source.withUnsafeBufferPointer { s in vlat_bf16_pack_pairs(s.baseAddress!, nil, stride, &words, count) }
                for i in 0..<count { #expect(words[i] == UInt32(vlat_bf16_round(source[i * stride])), "odd nil, word \(i)") }
            }
        }
    }

    /// The relative error of a rounded value is at most 2^-8 (8 significant bits), on random floats of every scale.
    @Test func roundingIsWithinHalfAUnit() {
        var g = SeededGenerator(seed: 21)
        for _ in 0..<10_000 {
            let v = (g.uniform() - 0.5) * Float(1 << Int(g.next() % 40)) * 0x1p-20
            let r = InferencePrecision.roundedToBFloat16(v)
            #expect(abs(Double(r) - Double(v)) <= abs(Double(v)) * 0x1p-8, "\(v) -> \(r)")
            #expect(r.bitPattern & 0xFFFF == 0)
        }
    }

    /// (Cin, Cout, kernel, stride, padding, height, width): channel counts odd and even, output
    /// counts off the 8-row block, output widths below, at and past the kernel's 48 columns.
    static let shapes = [(3, 13, 5, 2, 2, 9, 101), (5, 8, 3, 1, 1, 6, 50), (16, 17, 5, 2, 2, 7, 97), (1, 1, 3, 2, 0, 3, 3),
                         (4, 6, 4, 3, 1, 11, 8), (2, 24, 5, 2, 2, 5, 192)]

    static let noInstructions: Comment = "this CPU has no AVX512_BF16: its bfloat16 inference runs as float32 (withoutTheInstructionsItRunsAsFloat32)"

    @Test(.enabled(if: InferencePrecision.bfloat16Available, noInstructions), arguments: shapes)
    func convolutionIsTheSumOfRoundedProducts(c: (Int, Int, Int, Int, Int, Int, Int)) throws {
        var g = SeededGenerator(seed: 22)
        let layer = Conv2d(name: "c", inChannels: c.0, outChannels: c.1, kernel: c.2, stride: c.3, padding: c.4, generator: &g)
        let x = GradientCheck.random([2, c.0, c.5, c.6], &g)
        let rounded = { (t: Tensor) in Tensor(shape: t.shape, data: t.data.map(InferencePrecision.roundedToBFloat16)) }
        let reference = ReferenceConvolutionTests.directConv(rounded(x), rounded(layer.weight.value), layer.bias.value, stride: c.3, padding: c.4)
        // What the float32 sum may be off by: each term's size, summed, over 2^22.
        let magnitudes = ReferenceConvolutionTests.directConv(Tensor(shape: x.shape, data: x.data.map(abs)),
                                                              Tensor(shape: layer.weight.value.shape, data: layer.weight.value.data.map(abs)),
                                                              Tensor(shape: layer.bias.value.shape, data: layer.bias.value.data.map(abs)),
                                                              stride: c.3, padding: c.4)
        layer.inferenceDirect = false  // (a small 3x3 convolution's own path is float32)
        layer.inferencePrecision = .bfloat16
        for bandBytes in [1, 1 << 30] {
            layer.inferenceBandBytes = bandBytes
            let y = layer.forward(x, training: false)
            #expect(y.count == reference.count)
            for i in 0..<reference.count {
                #expect(abs(Double(y.data[i]) - reference[i]) <= magnitudes[i] * 0x1p-22, "band bytes \(bandBytes), element \(i)")
            }
        }
        // Against float32 operands: within the operands' rounding, about 2 * 2^-8 of each term.
        layer.inferencePrecision = .float32
        let exact = layer.forward(x, training: false)
        layer.inferencePrecision = .bfloat16
        let fast = layer.forward(x, training: false)
        for i in 0..<exact.count { #expect(abs(Double(fast.data[i]) - Double(exact.data[i])) <= magnitudes[i] * 0x1p-7 * 1.01) }
    }

    /// GDN and IGDN whose normaliser is a bfloat16 product: against `beta + Gamma x^2` from the
    /// rounded squares and Gamma in Float64, and the same floats whatever the chunk of rows.
    @Test(.enabled(if: InferencePrecision.bfloat16Available, noInstructions), arguments: [(13, 3, 57), (5, 4, 7), (96, 2, 50), (8, 1, 1)])
    func gdnNormaliserIsTheSumOfRoundedProducts(c: (Int, Int, Int)) throws {
        var g = SeededGenerator(seed: 23)
        for inverse in [false, true] {
            let layer = GDN(name: "g", channels: c.0, inverse: inverse)
            for i in 0..<layer.gamma.value.count { layer.gamma.value.data[i] = g.uniform() * 0.3 }
            for i in 0..<layer.beta.value.count { layer.beta.value.data[i] = 0.5 + g.uniform() }
            let x = GradientCheck.random([2, c.0, c.1, c.2], &g)
            let r = InferencePrecision.roundedToBFloat16
            let gamma = layer.gamma.value.data.map { r(GDN.effective($0, bound: GDN.gammaBound)) }
            let beta = layer.beta.value.data.map { Double(GDN.effective($0, bound: GDN.betaBound)) }
            layer.inferencePrecision = .bfloat16
            var outputs: [[Float]] = []
            for chunk in [1, 8192] {
                layer.inferenceChunk = chunk
                outputs.append(layer.forward(x, training: false).data)
            }
            #expect(outputs[0] == outputs[1], "chunks of one row and of many give the same floats")
            let plane = c.1 * c.2
            for b in 0..<2 { for o in 0..<c.0 { for p in 0..<plane {
                var norm = beta[o]
                for j in 0..<c.0 {
                    let v = x.data[(b * c.0 + j) * plane + p]
                    norm += Double(gamma[o * c.0 + j]) * Double(r(v * v))
                }
                let v = Double(x.data[(b * c.0 + o) * plane + p])
                let expected = inverse ? v * norm.squareRoot() : v / norm.squareRoot()
                let got = Double(outputs[0][(b * c.0 + o) * plane + p])
                #expect(abs(got - expected) <= abs(expected) * 0x1p-21, "inverse \(inverse), channel \(o), position \(p)")
            } } }
        }
    }

    @Test func withoutTheInstructionsItRunsAsFloat32() {
        #expect(InferencePrecision.float32.effective == .float32)
        // A layer asked for bfloat16 on such a CPU computes what float32 does.
        if !InferencePrecision.bfloat16Available {
            var g = SeededGenerator(seed: 24)
            let layer = Conv2d(name: "c", inChannels: 16, outChannels: 8, kernel: 5, stride: 2, padding: 2, generator: &g)
            let x = GradientCheck.random([1, 16, 9, 70], &g)
            let exact = layer.forward(x, training: false)
            layer.inferencePrecision = .bfloat16
            #expect(layer.forward(x, training: false).data == exact.data)
        }
        #expect(InferencePrecision.bfloat16.effective == (InferencePrecision.bfloat16Available ? .bfloat16 : .float32))
        #expect(InferencePrecision.fastest == InferencePrecision.bfloat16.effective)
    }
}
