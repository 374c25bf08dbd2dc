import Testing
@testable import VlatTensor

/// Banded inference must give the whole-image pass's floats exactly, for any band height.
@Suite("Banded inference")
struct BandedInferenceTests {
    static func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in g.uniform() })
    }

    /// The codec's analysis and synthesis shapes, small, with GDN, a level modulation and a
    /// ReLU among them, and odd strides and kernels besides.
    static func stacks() -> [(name: String, stack: Sequential, input: [Int])] {
        var g = SeededGenerator(seed: 3)
        func analysisStack() -> Sequential {
            Sequential([
                Conv2d(name: "a0", inChannels: 3, outChannels: 6, kernel: 5, stride: 2, padding: 2, generator: &g),
                GDN(name: "a1", channels: 6, inverse: false),
                Conv2d(name: "a2", inChannels: 6, outChannels: 6, kernel: 5, stride: 2, padding: 2, generator: &g),
                LevelModulation(name: "a3", channels: 6, levels: 2),
                Conv2d(name: "a4", inChannels: 6, outChannels: 5, kernel: 3, stride: 1, padding: 1, generator: &g),
                LeakyReLU(slope: 0),
                Conv2d(name: "a5", inChannels: 5, outChannels: 4, kernel: 5, stride: 2, padding: 2, generator: &g),
            ])
        }
        let analysis = analysisStack()
        // The encoder's analysis with bfloat16 products (as float32 on a CPU without them).
        let fastAnalysis = analysisStack()
        for c in fastAnalysis.layers.compactMap({ $0 as? Conv2d }) { c.inferencePrecision = .bfloat16 }
        for n in fastAnalysis.layers.compactMap({ $0 as? GDN }) { n.inferencePrecision = .bfloat16 }
        let synthesis = Sequential([
            ConvTranspose2d(name: "s0", inChannels: 4, outChannels: 6, kernel: 5, stride: 2, padding: 2, outputPadding: 1, generator: &g),
            GDN(name: "s1", channels: 6, inverse: true),
            ConvTranspose2d(name: "s2", inChannels: 6, outChannels: 6, kernel: 5, stride: 2, padding: 2, outputPadding: 1, generator: &g),
            LevelModulation(name: "s3", channels: 6, levels: 2),
            Conv2d(name: "s4", inChannels: 6, outChannels: 6, kernel: 3, stride: 1, padding: 1, generator: &g),
            ConvTranspose2d(name: "s5", inChannels: 6, outChannels: 3, kernel: 5, stride: 2, padding: 2, outputPadding: 1, generator: &g),
        ])
        let odd = Sequential([
            Conv2d(name: "o0", inChannels: 2, outChannels: 3, kernel: 4, stride: 3, padding: 1, generator: &g),
            ConvTranspose2d(name: "o1", inChannels: 3, outChannels: 2, kernel: 3, stride: 2, padding: 1, outputPadding: 0, generator: &g),
        ])
        // Both ways a convolution infers: tap by tap (a2, a5, s4, o0) and through a column
        // matrix (a0, a4); both ways a transposed one does: by output phases (s0, s2, o1) and by
        // col2im (s5).
        for c in (analysis.layers + synthesis.layers + odd.layers).compactMap({ $0 as? Conv2d }) {
            c.inferenceByTaps = !["a0.weight", "a4.weight"].contains(c.weight.name)
            c.tapsMinimumWidth = 0
        }
        for t in (synthesis.layers + odd.layers).compactMap({ $0 as? ConvTranspose2d }) { t.inferenceByPhases = t.weight.name != "s5.weight" }
        // The codec's order, a level modulation right after each GDN (one pass at inference).
        let modulated = Sequential([
            Conv2d(name: "m0", inChannels: 3, outChannels: 6, kernel: 5, stride: 2, padding: 2, generator: &g),
            GDN(name: "m1", channels: 6, inverse: false),
            LevelModulation(name: "m2", channels: 6, levels: 2),
            ConvTranspose2d(name: "m3", inChannels: 6, outChannels: 5, kernel: 5, stride: 2, padding: 2, outputPadding: 1, generator: &g),
            GDN(name: "m4", channels: 5, inverse: true),
            LevelModulation(name: "m5", channels: 5, levels: 2),
        ])
        for m in (analysis.layers + fastAnalysis.layers + synthesis.layers + modulated.layers).compactMap({ $0 as? LevelModulation }) {
            for p in m.parameters { for i in 0..<p.value.count { p.value.data[i] = g.uniform() - 0.5 } }
            m.levels = [0.6]
        }
        // Narrow inputs (OpenBLAS's small-matrix kernels) and wide ones.
        return [("analysis", analysis, [1, 3, 88, 40]), ("synthesis", synthesis, [1, 4, 11, 5]), ("odd", odd, [1, 2, 31, 9]),
                ("analysis, wide", analysis, [1, 3, 40, 600]), ("synthesis, wide", synthesis, [1, 4, 6, 70]),
                ("analysis, bfloat16", fastAnalysis, [1, 3, 88, 40]), ("analysis, bfloat16, wide", fastAnalysis, [1, 3, 40, 600]),
                ("modulated", modulated, [1, 3, 30, 70])]
    }

    /// A GDN and the level modulation after it run as one pass at inference
    /// (`GDN.fusedModulation`): the floats of the two layers one after the other.
    @Test func aModulationAfterGDNGivesTheLayersFloats() {
        let (_, stack, shape) = Self.stacks().first { $0.name == "modulated" }!
        let x = Self.random([2] + shape.dropFirst(), seed: 15)
        for m in stack.layers.compactMap({ $0 as? LevelModulation }) { m.levels = [0.6, 1.3] }
        #expect(GDN.fusedModulation(stack.layers, at: 1) != nil && GDN.fusedModulation(stack.layers, at: 0) == nil)
        let layerByLayer = stack.layers.reduce(x) { $1.forward($0, training: false) }
        #expect(stack.forward(x, training: false).data == layerByLayer.data)
    }

    @Test func bandsGiveTheWholePassExactly() {
        for (name, stack, shape) in Self.stacks() {
            let x = Self.random(shape, seed: 11)
            let whole = stack.forward(x, training: false)
            let bands = BandedInference(stack)
            #expect(bands.heights(input: x.h).last == whole.h, "\(name)")
            for bandRows in [1, 2, 3, 7, 16, whole.h] {
                var rows: [Range<Int>] = [], values: [Float] = []
                var planes = [[Float]](repeating: [], count: whole.c)
                bands.forEachBand(inputHeight: x.h, bandRows: bandRows, input: { BandedInference.rows(x, $0) }) { r, out in
                    rows.append(r)
                    #expect(out.shape == [1, whole.c, r.count, whole.w])
                    for c in 0..<whole.c { planes[c] += out.data[(c * r.count * whole.w)..<((c + 1) * r.count * whole.w)] }
                }
                values = planes.flatMap { $0 }
                #expect(rows.first?.lowerBound == 0 && rows.last?.upperBound == whole.h && zip(rows, rows.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
                #expect(values == whole.data, "\(name), bands of \(bandRows) rows: largest difference \(zip(values, whole.data).map { abs($0 - $1) }.max() ?? -1)")
            }
        }
    }

    @Test func oneAndTwoThreadsGiveTheSameFloats() {
        defer { Parallel.threads = 2 }
        for (name, stack, shape) in Self.stacks() {
            let x = Self.random(shape, seed: 13)
            Parallel.threads = 1
            let one = stack.forward(x, training: false)
            Parallel.threads = 2
            let two = stack.forward(x, training: false)
            #expect(one.data == two.data, "\(name)")
        }
    }

    /// The halo rows a band shares with the next are kept, not recomputed: the input is read
    /// once, in order, whatever the band height.
    @Test func bandsReadEachInputRowOnce() {
        for (name, stack, shape) in Self.stacks() {
            let x = Self.random(shape, seed: 14)
            let height = BandedInference(stack).heights(input: x.h).last!
            for bandRows in [1, 2, 3, 7, height] {
                var asked: [Range<Int>] = []
                BandedInference(stack).forEachBand(inputHeight: x.h, bandRows: bandRows, input: { asked.append($0); return BandedInference.rows(x, $0) }) { _, _ in }
                #expect(zip(asked, asked.dropFirst()).allSatisfy { $0.upperBound <= $1.lowerBound } && asked.allSatisfy { !$0.isEmpty },
                        "\(name), bands of \(bandRows) rows: \(asked)")
                #expect(asked.reduce(0) { $0 + $1.count } <= x.h)
            }
        }
    }

    @Test func aBandReadsOnlyTheRowsItNeeds() {
        let (_, stack, shape) = Self.stacks()[1]
        let x = Self.random(shape, seed: 12)
        var asked: [Range<Int>] = []
        // Eight output rows of the synthesis (8x upsampling) need at most three latent rows.
        _ = BandedInference(stack).forward(rows: 80..<88, inputHeight: x.h, input: { asked.append($0); return BandedInference.rows(x, $0) })
        #expect(asked.count == 1 && asked[0].count <= 3 && asked[0].contains(10), "\(asked)")
    }
}
