import Foundation
import Testing
import VlatTestSupport
import VlatTensor

@Suite("Finite-difference gradient checks")
struct LayerGradientTests {
    // (inChannels, outChannels, kernel, stride, padding, height, width): odd sizes and strides.
    static let convCases = [(3, 4, 5, 2, 2, 11, 9), (2, 3, 3, 1, 1, 7, 8), (4, 2, 1, 1, 0, 5, 6), (1, 2, 4, 3, 0, 10, 13),
                            (3, 3, 3, 2, 0, 6, 5)]

    @Test(arguments: convCases)
    func conv2d(c: (Int, Int, Int, Int, Int, Int, Int)) {
        var g = SeededGenerator(seed: 1)
        let layer = Conv2d(name: "c", inChannels: c.0, outChannels: c.1, kernel: c.2, stride: c.3, padding: c.4, generator: &g)
        GradientCheck.check(layer, input: GradientCheck.random([2, c.0, c.5, c.6], &g))
    }

    @Test(arguments: [(3, 4, 5, 2, 2, 1, 5, 4), (2, 3, 3, 1, 1, 0, 6, 7), (4, 2, 4, 2, 1, 0, 3, 5), (2, 2, 3, 3, 0, 2, 4, 3)])
    func convTranspose2d(c: (Int, Int, Int, Int, Int, Int, Int, Int)) {
        var g = SeededGenerator(seed: 2)
        let layer = ConvTranspose2d(name: "t", inChannels: c.0, outChannels: c.1, kernel: c.2, stride: c.3, padding: c.4,
                                    outputPadding: c.5, generator: &g)
        GradientCheck.check(layer, input: GradientCheck.random([2, c.0, c.6, c.7], &g))
    }

    /// Whole and fractional levels, and one beyond the trained range (clamped).
    @Test func levelModulation() {
        var g = SeededGenerator(seed: 6)
        let layer = LevelModulation(name: "m", channels: 3, levels: 4)
        for p in layer.parameters { p.value = GradientCheck.random(p.value.shape, &g, scale: 0.5) }
        layer.levels = [0, 2.25, 3, 5]
        GradientCheck.check(layer, input: GradientCheck.random([4, 3, 3, 2], &g))
        // Level 2.25 is three quarters level 2 and a quarter level 3.
        layer.levels = [2.25]
        let x = GradientCheck.random([1, 3, 1, 1], &g)
        let y = layer.forward(x, training: false)
        for c in 0..<3 {
            let s = 0.75 * layer.logScale.value.data[2 * 3 + c] + 0.25 * layer.logScale.value.data[3 * 3 + c]
            let b = 0.75 * layer.bias.value.data[2 * 3 + c] + 0.25 * layer.bias.value.data[3 * 3 + c]
            #expect(abs(y.data[c] - (x.data[c] * exp(s) + b)) < 1e-5)
        }
    }

    @Test(arguments: [false, true])
    func gdn(inverse: Bool) {
        var g = SeededGenerator(seed: 3)
        let layer = GDN(name: "g", channels: 5, inverse: inverse)
        // Move beta and gamma away from their initial values so every term matters.
        for i in 0..<layer.beta.value.count { layer.beta.value.data[i] = 0.6 + g.uniform() }
        for i in 0..<layer.gamma.value.count { layer.gamma.value.data[i] = 0.05 + 0.5 * g.uniform() }
        GradientCheck.check(layer, input: GradientCheck.random([2, 5, 4, 3], &g, scale: 2), h: 5e-3)
    }

    @Test(arguments: [Float(0), 0.2])
    func leakyReLU(slope: Float) {
        var g = SeededGenerator(seed: 4)
        // Keep inputs away from the kink at 0, where the derivative is undefined.
        var x = GradientCheck.random([2, 3, 4, 5], &g)
        for i in 0..<x.count where abs(x.data[i]) < 0.05 { x.data[i] = 0.3 }
        GradientCheck.check(LeakyReLU(slope: slope), input: x)
    }

    /// A frozen parameter (`requiresGradient == false`) gets no gradient, and the input
    /// gradient is bit for bit the one an unfrozen backward returns.
    @Test(arguments: ["conv", "pointwise", "convTranspose", "gdn", "igdn"])
    func frozenParametersChangeOnlyTheirOwnGradients(kind: String) {
        var g = SeededGenerator(seed: 7)
        let layer: any Layer
        switch kind {
        case "conv": layer = Conv2d(name: "c", inChannels: 3, outChannels: 4, kernel: 5, stride: 2, padding: 2, generator: &g)
        case "pointwise": layer = Conv2d(name: "p", inChannels: 3, outChannels: 4, kernel: 1, stride: 1, padding: 0, generator: &g)
        case "convTranspose":
            layer = ConvTranspose2d(name: "t", inChannels: 3, outChannels: 4, kernel: 5, stride: 2, padding: 2, outputPadding: 1,
                                    generator: &g)
        default: layer = GDN(name: "g", channels: 3, inverse: kind == "igdn")
        }
        let x = GradientCheck.random([2, 3, 6, 7], &g)
        let dy = GradientCheck.random(layer.forward(x, training: false).shape, &g)
        _ = layer.forward(x, training: true)
        let free = layer.backward(dy)
        #expect(layer.parameters.allSatisfy { $0.grad.data.contains { $0 != 0 } })
        for p in layer.parameters { p.zeroGrad(); p.requiresGradient = false }
        _ = layer.forward(x, training: true)
        let frozen = layer.backward(dy)
        #expect(frozen == free)
        #expect(layer.parameters.allSatisfy { $0.grad.data.allSatisfy { $0 == 0 } })
    }

    @Test func wholeSmallAutoencoder() {
        // Analysis and synthesis as in the codec, tiny: conv/GDN down twice, deconv/IGDN up twice.
        var g = SeededGenerator(seed: 5)
        let specs: [LayerSpec] = [
            .init(kind: .conv, inChannels: 3, outChannels: 4, kernel: 5, stride: 2, padding: 2),
            .init(kind: .gdn, inChannels: 4),
            .init(kind: .conv, inChannels: 4, outChannels: 2, kernel: 5, stride: 2, padding: 2),
            .init(kind: .convTranspose, inChannels: 2, outChannels: 4, kernel: 5, stride: 2, padding: 2, outputPadding: 1),
            .init(kind: .igdn, inChannels: 4),
            .init(kind: .convTranspose, inChannels: 4, outChannels: 3, kernel: 5, stride: 2, padding: 2, outputPadding: 1),
        ]
        let model = Sequential(name: "ae", specs: specs, generator: &g)
        let x = GradientCheck.random([2, 3, 8, 12], &g)
        #expect(model.forward(x, training: false).shape == [2, 3, 8, 12])
        GradientCheck.check(model, input: x, h: 5e-3)
    }
}

@Suite("Tensor operations and their adjoints")
struct TensorOpsTests {
    /// <op(x), y> == <x, adjoint(y)> for random x and y: the defining property of a backward.
    func adjointHolds(_ forward: (Tensor) -> Tensor, _ backward: (Tensor) -> Tensor, input: [Int], output: [Int]) {
        var g = SeededGenerator(seed: 6)
        let x = GradientCheck.random(input, &g), y = GradientCheck.random(output, &g)
        let lhs = GradientCheck.dot(forward(x), y), rhs = GradientCheck.dot(x, backward(y))
        #expect(abs(lhs - rhs) < 1e-4 * max(1, abs(lhs)))
    }

    @Test func padAndCrop() {
        adjointHolds({ TensorOps.padReplicate($0, toHeight: 8, width: 9) }, { TensorOps.padReplicateBackward($0, height: 5, width: 7) },
                     input: [2, 3, 5, 7], output: [2, 3, 8, 9])
        adjointHolds({ TensorOps.crop($0, height: 5, width: 7) }, { TensorOps.cropBackward($0, height: 8, width: 9) },
                     input: [2, 3, 8, 9], output: [2, 3, 5, 7])
        let x = Tensor(shape: [1, 1, 2, 2], data: [1, 2, 3, 4])
        #expect(TensorOps.padReplicate(x, toHeight: 3, width: 3).data == [1, 2, 2, 3, 4, 4, 3, 4, 4])
        #expect(TensorOps.crop(TensorOps.padReplicate(x, toHeight: 3, width: 3), height: 2, width: 2) == x)
    }

    @Test func dihedralKnownAnswersAndInverses() {
        // [[1, 2, 3], [4, 5, 6]]
        let m = Tensor(shape: [1, 1, 2, 3], data: [1, 2, 3, 4, 5, 6])
        let t = Dihedral(transpose: true, flipY: false, flipX: false).apply(m)
        #expect(t.shape == [1, 1, 3, 2] && t.data == [1, 4, 2, 5, 3, 6])
        #expect(Dihedral(transpose: false, flipY: false, flipX: true).apply(m).data == [3, 2, 1, 6, 5, 4])
        #expect(Dihedral(transpose: false, flipY: true, flipX: false).apply(m).data == [4, 5, 6, 1, 2, 3])
        // Transpose then flip rows: a quarter turn anticlockwise.
        #expect(Dihedral(transpose: true, flipY: true, flipX: false).apply(m).data == [3, 6, 2, 5, 1, 4])
        // All eight are different on an asymmetric tensor, and each inverse undoes its own.
        var g = SeededGenerator(seed: 8)
        let x = GradientCheck.random([2, 3, 5, 7], &g)
        let images = Dihedral.allCases.map { $0.apply(x) }
        #expect(Set(images.map(\.data)).count == 8)
        for (d, y) in zip(Dihedral.allCases, images) {
            #expect(y.shape == (d.transpose ? [2, 3, 7, 5] : [2, 3, 5, 7]), "\(d)")
            #expect(d.invert(y) == x, "\(d)")
        }
        // A group: applying any two in a row gives one of the eight.
        for a in Dihedral.allCases {
            for b in Dihedral.allCases {
                let twice = b.apply(a.apply(x)).data
                #expect(images.contains { $0.data == twice }, "\(a) then \(b)")
            }
        }
    }

    @Test func concatAndSplit() {
        var g = SeededGenerator(seed: 7)
        let a = GradientCheck.random([2, 3, 4, 5], &g), b = GradientCheck.random([2, 2, 4, 5], &g)
        let joined = TensorOps.concatChannels(a, b)
        #expect(joined.shape == [2, 5, 4, 5])
        let (a2, b2) = TensorOps.splitChannels(joined, at: 3)
        #expect(a2 == a && b2 == b)
        #expect(TensorOps.add(a, a).data == a.data.map { $0 * 2 })
    }
}
