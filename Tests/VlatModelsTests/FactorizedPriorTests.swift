import Testing
import VlatTestSupport
import VlatTensor
import VlatEntropy
@testable import VlatModels

@Suite("Factorized prior")
struct FactorizedPriorTests {
    func prior(seed: UInt64 = 1, channels: Int = 3) -> FactorizedPrior {
        var g = SeededGenerator(seed: seed)
        let p = FactorizedPrior(name: "prior", channels: channels, generator: &g)
        // Move away from the symmetric initial state so every parameter matters.
        for t in p.parameters { for i in 0..<t.value.count { t.value.data[i] += (g.uniform() - 0.5) * 0.6 } }
        return p
    }

    func latent(_ g: inout SeededGenerator, scale: Float = 3) -> Tensor {
        Tensor(shape: [2, 3, 2, 3], data: (0..<36).map { _ in (g.uniform() - 0.5) * 2 * scale })
    }

    @Test func rateGradientMatchesFiniteDifferences() {
        let p = prior()
        var g = SeededGenerator(seed: 2)
        let y = latent(&g)
        _ = p.forward(y, training: true)
        p.parameters.forEach { $0.zeroGrad() }
        let dy = p.backward(scale: 1)
        let h: Float = 1e-3
        func bits(_ x: Tensor) -> Double { p.forward(x, training: false).bits }
        for i in 0..<y.count {
            var a = y, b = y
            a.data[i] += h; b.data[i] -= h
            let numeric = (bits(a) - bits(b)) / (2 * Double(h))
            #expect(abs(numeric - Double(dy.data[i])) < 2e-2 * max(1, abs(numeric)), "dy[\(i)]: \(numeric) vs \(dy.data[i])")
        }
        var probeGenerator = SeededGenerator(seed: 4)
        GradientCheck.checkParameters(p.parameters, h: h, tolerance: 2e-2, generator: &probeGenerator) { bits(y) }
    }

    @Test func densityIsAValidCumulative() {
        let p = prior()
        for c in 0..<3 {
            var last = 0.0
            for x in stride(from: -40.0, through: 40.0, by: 0.25) {
                let f = p.cumulative(x, channel: c)
                #expect(f >= last - 1e-12)
                last = f
            }
            #expect(p.cumulative(-1e4, channel: c) < 1e-6 && p.cumulative(1e4, channel: c) > 1 - 1e-6)
            let q = p.quantile(0.3, channel: c)
            #expect(abs(p.cumulative(q, channel: c) - 0.3) < 1e-6)
        }
    }

    @Test func tablesCodeIntegersAtTheirModelRate() throws {
        let p = prior()
        let tables = try p.quantizedTables()
        var g = SeededGenerator(seed: 3)
        // Integers drawn from each channel's own density, by inverting its cumulative.
        let values: [Int32] = (0..<6000).map { i in Int32(p.quantile(Double(g.uniform()) * 0.998 + 0.001, channel: i % 3).rounded()) }
        let bytes = try RANSCoder.encode(values, tables: tables, tableIndex: { $0 % 3 })
        #expect(try RANSCoder.decode(bytes, count: values.count, tables: tables, tableIndex: { $0 % 3 }) == values)
        // The real size is within 2 % (plus the 4-byte final state) of the model's estimate.
        let y = Tensor(shape: [1, 3, 1, 2000], data: (0..<6000).map { j in Float(values[(j % 2000) * 3 + j / 2000]) })
        let estimate = p.forward(y, training: false).bits
        #expect(abs(Double(bytes.count * 8 - 32) - estimate) < 0.02 * estimate + 64)
    }
}
