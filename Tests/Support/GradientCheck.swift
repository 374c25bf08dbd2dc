import Testing
import VlatTensor

/// Finite-difference gradient checking for float32 layers.
///
/// The scalar checked is `f = sum(r * layer(x))` for a fixed random `r`, evaluated in Float64
/// from the float32 outputs. Central differences with step `h` have truncation error O(h^2) and
/// rounding error about eps32 * |f| / h, so the tolerance is relative with an absolute floor.
public enum GradientCheck {
    public static func random(_ shape: [Int], _ g: inout SeededGenerator, scale: Float = 1) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in (g.uniform() * 2 - 1) * scale })
    }

    public static func dot(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.data, b.data).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Indices to probe: all of them when few, else a fixed random sample.
    public static func probes(_ count: Int, _ g: inout SeededGenerator, limit: Int = 40) -> [Int] {
        count <= limit ? Array(0..<count) : (0..<limit).map { _ in Int(g.next() % UInt64(count)) }
    }

    /// Compares an analytic derivative with a central difference of `f`, recording an issue when
    /// the relative error (with an absolute floor of 1e-2) exceeds `tolerance`.
    public static func compare(numeric: Double, analytic: Double, tolerance: Double, _ what: String,
                               sourceLocation: SourceLocation = #_sourceLocation) -> Double {
        let err = abs(numeric - analytic) / max(1e-2, abs(numeric), abs(analytic))
        #expect(err < tolerance, "\(what): numeric \(numeric), analytic \(analytic)", sourceLocation: sourceLocation)
        return err
    }

    /// Central differences of `f` in sampled entries of a tensor (read by `get`, written by
    /// `set`, so that `f` may read the tensor itself) against `analytic`, the gradient of `f`
    /// with respect to it. Returns the worst relative error seen.
    @discardableResult
    public static func checkEntries(_ name: String, _ analytic: Tensor, h: Float = 1e-2, tolerance: Double = 1e-2,
                                    generator g: inout SeededGenerator, sourceLocation: SourceLocation = #_sourceLocation,
                                    get: (Int) -> Float, set: (Int, Float) -> Void, _ f: () -> Double) -> Double {
        var worst = 0.0
        for i in probes(analytic.count, &g) {
            let saved = get(i)
            set(i, saved + h); let fp = f()
            set(i, saved - h); let fm = f()
            set(i, saved)
            worst = max(worst, compare(numeric: (fp - fm) / (2 * Double(h)), analytic: Double(analytic.data[i]), tolerance: tolerance,
                                       "\(name)[\(i)]", sourceLocation: sourceLocation))
        }
        return worst
    }

    /// Central differences of `f` with respect to sampled elements of each parameter, against
    /// the gradients already accumulated in `parameters`.
    @discardableResult
    public static func checkParameters(_ parameters: [Parameter], h: Float, tolerance: Double, generator g: inout SeededGenerator,
                                       sourceLocation: SourceLocation = #_sourceLocation, _ f: () -> Double) -> Double {
        var worst = 0.0
        for p in parameters {
            let analytic = p.grad
            for i in probes(p.value.count, &g) {
                let saved = p.value.data[i]
                p.value.data[i] = saved + h
                let fp = f()
                p.value.data[i] = saved - h
                let fm = f()
                p.value.data[i] = saved
                worst = max(worst, compare(numeric: (fp - fm) / (2 * Double(h)), analytic: Double(analytic.data[i]),
                                           tolerance: tolerance, "\(p.name)[\(i)]", sourceLocation: sourceLocation))
            }
        }
        return worst
    }

    /// Checks dL/dx and dL/dparameters of `layer` at `x`. Returns the worst relative error seen.
    @discardableResult
    public static func check(_ layer: any Layer, input x: Tensor, h: Float = 1e-2, tolerance: Double = 2e-2,
                      seed: UInt64 = 99, sourceLocation: SourceLocation = #_sourceLocation) -> Double {
        var g = SeededGenerator(seed: seed)
        let y = layer.forward(x, training: true)
        let r = random(y.shape, &g)
        layer.parameters.forEach { $0.zeroGrad() }
        let dx = layer.backward(r)
        func f(_ input: Tensor) -> Double { dot(r, layer.forward(input, training: false)) }
        var worst = 0.0
        for i in probes(x.count, &g) {
            var plus = x, minus = x
            plus.data[i] += h; minus.data[i] -= h
            worst = max(worst, compare(numeric: (f(plus) - f(minus)) / (2 * Double(h)), analytic: Double(dx.data[i]),
                                       tolerance: tolerance, "dx[\(i)]", sourceLocation: sourceLocation))
        }
        worst = max(worst, checkParameters(layer.parameters, h: h, tolerance: tolerance, generator: &g,
                                           sourceLocation: sourceLocation) { f(x) })
        return worst
    }
}
