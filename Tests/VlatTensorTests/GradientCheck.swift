import Testing
import VlatTensor

/// Finite-difference gradient checking for float32 layers.
///
/// The scalar checked is `f = sum(r * layer(x))` for a fixed random `r`, evaluated in Float64
/// from the float32 outputs. Central differences with step `h` have truncation error O(h^2) and
/// rounding error about eps32 * |f| / h, so the tolerance is relative with an absolute floor.
enum GradientCheck {
    static func random(_ shape: [Int], _ g: inout SeededGenerator, scale: Float = 1) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in (g.uniform() * 2 - 1) * scale })
    }

    static func dot(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.data, b.data).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Indices to probe: all of them when few, else a fixed random sample.
    static func probes(_ count: Int, _ g: inout SeededGenerator, limit: Int = 40) -> [Int] {
        count <= limit ? Array(0..<count) : (0..<limit).map { _ in Int(g.next() % UInt64(count)) }
    }

    /// Checks dL/dx and dL/dparameters of `layer` at `x`. Returns the worst relative error seen.
    @discardableResult
    static func check(_ layer: any Layer, input x: Tensor, h: Float = 1e-2, tolerance: Double = 2e-2,
                      seed: UInt64 = 99, sourceLocation: SourceLocation = #_sourceLocation) -> Double {
        var g = SeededGenerator(seed: seed)
        let y = layer.forward(x, training: true)
        let r = random(y.shape, &g)
        layer.parameters.forEach { $0.zeroGrad() }
        let dx = layer.backward(r)
        func f(_ input: Tensor) -> Double { dot(r, layer.forward(input, training: false)) }
        var worst = 0.0
        func compare(_ numeric: Double, _ analytic: Double, _ what: String) {
            let err = abs(numeric - analytic) / max(1e-2, abs(numeric), abs(analytic))
            worst = max(worst, err)
            #expect(err < tolerance, "\(what): numeric \(numeric), analytic \(analytic)", sourceLocation: sourceLocation)
        }
        for i in probes(x.count, &g) {
            var plus = x, minus = x
            plus.data[i] += h; minus.data[i] -= h
            compare((f(plus) - f(minus)) / (2 * Double(h)), Double(dx.data[i]), "dx[\(i)]")
        }
        for p in layer.parameters {
            let analytic = p.grad
            for i in probes(p.value.count, &g) {
                let saved = p.value.data[i]
                p.value.data[i] = saved + h
                let fp = f(x)
                p.value.data[i] = saved - h
                let fm = f(x)
                p.value.data[i] = saved
                compare((fp - fm) / (2 * Double(h)), Double(analytic.data[i]), "\(p.name)[\(i)]")
            }
        }
        return worst
    }
}
