import Foundation
import Testing
import VlatTestSupport
import VlatFormat
import VlatImageIO
import VlatMetrics
import VlatTensor
@testable import VlatCodec

@Suite("The detail layer")
struct DetailLayerTests {
    @Test func theBlockDCTIsOrthonormalAndInvertible() {
        var g = SeededGenerator(seed: 3)
        let x = (0..<64).map { _ in Double(g.uniform()) * 200 - 100 }
        var X = [Double](repeating: 0, count: 64), back = X
        x.withUnsafeBufferPointer { BlockDCT.forward($0.baseAddress!, &X) }
        X.withUnsafeBufferPointer { BlockDCT.inverse($0.baseAddress!, &back) }
        #expect(zip(x, back).allSatisfy { abs($0 - $1) < 1e-12 })
        // Parseval: the energy is the pixels'.
        let energy = x.reduce(0) { $0 + $1 * $1 }, coefficientEnergy = X.reduce(0) { $0 + $1 * $1 }
        #expect(abs(energy - coefficientEnergy) < 1e-9 * energy)
        // Known answers: a flat block is its DC, 8 times the value; a horizontal cosine of
        // frequency 1 is coefficient (0, 1) alone.
        var flat = [Double](repeating: 0, count: 64)
        [Double](repeating: 5, count: 64).withUnsafeBufferPointer { BlockDCT.forward($0.baseAddress!, &flat) }
        #expect(abs(flat[0] - 40) < 1e-12 && flat.dropFirst().allSatisfy { abs($0) < 1e-12 })
        let wave = (0..<64).map { cos(Double.pi * Double(2 * ($0 % 8) + 1) / 16) }
        var W = [Double](repeating: 0, count: 64)
        wave.withUnsafeBufferPointer { BlockDCT.forward($0.baseAddress!, &W) }
        #expect(abs(W[1] - 2 * 8.0.squareRoot()) < 1e-9 && W.enumerated().allSatisfy { $0.offset == 1 || abs($0.element) < 1e-12 })
    }

    /// The vectorized transforms give the textbook loops' doubles bit for bit (each output summed
    /// over its terms in index order from zero), sparse blocks included.
    @Test func theBlockDCTIsTheTextbookLoopsExactly() {
        let c = BlockDCT.basis
        func product(_ a: (Int, Int) -> Double, _ b: (Int, Int) -> Double) -> [Double] {
            (0..<64).map { i in var s = 0.0; for n in 0..<8 { s += a(i / 8, n) * b(n, i % 8) }; return s }
        }
        var g = SeededGenerator(seed: 8)
        for trial in 0..<20 {
            // Dense blocks, then blocks with most rows zero (as quantized ones are).
            let x = (0..<64).map { i in trial >= 10 && (i / 8) % 3 != 1 ? 0 : Double(g.uniform()) * 300 - 150 }
            let t = product({ x[$0 * 8 + $1] }, { c[$1 * 8 + $0] })               // x Cᵀ
            let forward = product({ c[$0 * 8 + $1] }, { t[$0 * 8 + $1] })         // C t
            let u = product({ x[$0 * 8 + $1] }, { c[$0 * 8 + $1] })               // X C
            let inverse = product({ c[$1 * 8 + $0] }, { u[$0 * 8 + $1] })         // Cᵀ u
            var X = [Double](repeating: 0, count: 64), back = X
            x.withUnsafeBufferPointer { BlockDCT.forward($0.baseAddress!, &X) }
            x.withUnsafeBufferPointer { BlockDCT.inverse($0.baseAddress!, &back) }
            #expect(X == forward && back == inverse, "trial \(trial)")
        }
    }

    /// Blocks are transformed on every thread, each on its own: one and two threads give the
    /// same bytes and the same pixels.
    @Test func oneAndTwoThreadsCodeAndAddTheSameLayer() throws {
        let (width, height) = (61, 150)
        let original = Array(CodecFixtures.image("Corpus/photos/chelsea.png").toRGB().rgbSamples().prefix(3 * width * height))
        let base = Self.noisy(original, amount: 10, seed: 9)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        var results: [([UInt8], [UInt8])] = []
        for threads in [1, 2] {
            Parallel.threads = threads
            let data = try DetailLayer.encode(original: original, base: base, width: width, height: height, grey: false, step: 6)
            var out = base
            try DetailLayer.apply(data, to: &out, width: width, height: height, grey: false)
            results.append((data, out))
        }
        #expect(results[0].0 == results[1].0 && results[0].1 == results[1].1)
    }

    static func noisy(_ image: [UInt8], amount: Int, seed: UInt64) -> [UInt8] {
        var g = SeededGenerator(seed: seed)
        return image.map { UInt8(clamping: Int($0) + Int.random(in: -amount...amount, using: &g)) }
    }

    static func mse(_ a: [UInt8], _ b: [UInt8]) -> Double {
        zip(a, b).reduce(0.0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) } / Double(a.count)
    }

    /// The smallest step gives back the original exactly; larger steps give back less, for fewer
    /// bytes; sizes that are not multiples of 8 and a stripe boundary (height over 128) included.
    @Test(arguments: [(17, 9, false), (40, 140, false), (23, 131, true)])
    func theLayerRestoresWhatTheBaseMissed(width: Int, height: Int, grey: Bool) throws {
        var original = CodecFixtures.image("Corpus/photos/chelsea.png").toRGB().rgbSamples()
        original = Array(original.prefix(3 * width * height))
        if grey { for i in 0..<(width * height) { original[3 * i + 1] = original[3 * i]; original[3 * i + 2] = original[3 * i] } }
        var base = Self.noisy(original, amount: 12, seed: 4)
        if grey { for i in 0..<(width * height) { base[3 * i + 1] = base[3 * i]; base[3 * i + 2] = base[3 * i] } }
        var sizes: [Int] = [], errors: [Double] = []
        for step in [1.0 / 16, 2, 8, 32] {
            let data = try DetailLayer.encode(original: original, base: base, width: width, height: height, grey: grey, step: step,
                                              rounding: 0.5, trim: 0)
            var out = base
            try DetailLayer.apply(data, to: &out, width: width, height: height, grey: grey)
            if step < 1 { #expect(out == original) }
            if grey {
                let replicated = (0..<(width * height)).allSatisfy { (i: Int) -> Bool in out[3 * i] == out[3 * i + 1] && out[3 * i] == out[3 * i + 2] }
                #expect(replicated)
            }
            // Uniform quantization errs by at most step^2 / 4 per coefficient, so per sample on
            // average (orthonormal transforms), plus the final rounding.
            #expect(Self.mse(out, original) <= step * step / 4 + 0.5)
            sizes.append(data.count); errors.append(Self.mse(out, original))
        }
        #expect(sizes == sizes.sorted(by: >) && errors == errors.sorted())
        // A step under the base's error removes most of it.
        #expect(errors[2] < Self.mse(base, original) / 2)
        // The plane count must fit the image.
        let data = try DetailLayer.encode(original: original, base: base, width: width, height: height, grey: grey, step: 4)
        var out = base
        #expect(throws: CodecError.self) { try DetailLayer.apply(data, to: &out, width: width, height: height, grey: !grey) }
    }

    /// Rows handed over in bands of any height code exactly as the whole base at once.
    @Test func theStreamingEncoderCodesAsTheWholeImageDoes() throws {
        let (width, height) = (37, 300)
        let photo = CodecFixtures.image("Corpus/photos/chelsea.png").toRGB()
        let original = Array(photo.rgbSamples().prefix(3 * width * height))
        let base = Self.noisy(original, amount: 9, seed: 6)
        let whole = try DetailLayer.encode(original: original, base: base, width: width, height: height, grey: false, step: 5)
        for bands in [[7, 50, 243], [300], [128, 128, 44], [1, 299]] {
            var encoder = DetailLayer.StreamEncoder(original: original, width: width, height: height, grey: false, step: 5)
            var row = 0
            for n in bands {
                try encoder.append(base[(3 * width * row)..<(3 * width * (row + n))])
                row += n
            }
            #expect(try encoder.finish() == whole)
        }
    }

    /// Layers written with method 0 (flat starting tables, files from before method 1) decode to
    /// the same pixels as method 1's, which takes fewer bytes on a photo's residual; an unknown
    /// method is refused.
    @Test func olderMethodsStillDecode() throws {
        let (width, height) = (48, 40)
        let original = Array(CodecFixtures.image("Corpus/photos/chelsea.png").toRGB().rgbSamples().prefix(3 * width * height))
        let base = Self.noisy(original, amount: 8, seed: 12)
        var decoded: [[UInt8]] = [], sizes: [Int] = []
        for method: UInt8 in [0, 1] {
            let data = try DetailLayer.encode(original: original, base: base, width: width, height: height, grey: false, step: 6,
                                              method: method)
            #expect(data[0] == method)
            var out = base
            try DetailLayer.apply(data, to: &out, width: width, height: height, grey: false)
            decoded.append(out); sizes.append(data.count)
        }
        #expect(decoded[0] == decoded[1] && decoded[0] != base)
        #expect(sizes[1] < sizes[0], "\(sizes)")
        var data = try DetailLayer.encode(original: original, base: base, width: width, height: height, grey: false, step: 6)
        data[0] = 2
        var out = base
        #expect(throws: CodecError.self) { try DetailLayer.apply(data, to: &out, width: width, height: height, grey: false) }
    }

    @Test func damagedLayersAreReportedNeverTrappedOn() throws {
        let (width, height) = (30, 20)
        let original = Array(CodecFixtures.image("Corpus/photos/chelsea.png").toRGB().rgbSamples().prefix(3 * width * height))
        let base = Self.noisy(original, amount: 20, seed: 9)
        let data = try DetailLayer.encode(original: original, base: base, width: width, height: height, grey: false, step: 3)
        var g = SeededGenerator(seed: 1)
        for cut in [0, 2, 4, 7, data.count - 1] {
            var out = base
            #expect(throws: CodecError.self) { try DetailLayer.apply(Array(data.prefix(cut)), to: &out, width: width, height: height, grey: false) }
        }
        var out = base
        #expect(throws: CodecError.self) { try DetailLayer.apply(data + [0], to: &out, width: width, height: height, grey: false) }
        for header in [[2, 3, 48, 0], [1, 2, 48, 0], [1, 3, 0, 0]] as [[UInt8]] {
            #expect(throws: CodecError.self) { try DetailLayer.apply(header + data.dropFirst(4), to: &out, width: width, height: height, grey: false) }
        }
        for _ in 0..<100 {
            var bad = data
            bad[Int.random(in: 4..<bad.count, using: &g)] ^= UInt8.random(in: 1...255, using: &g)
            var out = base
            _ = try? DetailLayer.apply(bad, to: &out, width: width, height: height, grey: false)
        }
    }

    @Test func theScheduleKeepsTheModelsLevelsAndThenShrinksTheStep() {
        let s = QualitySchedule(levels: 8)
        for q in [1.0, 2.5, s.detailFrom] { #expect(s.point(q).level == q && s.point(q).detailStep == nil) }
        let steps = stride(from: s.detailFrom + 0.01, through: QualitySchedule.top, by: 0.25).map { s.point($0) }
        #expect(steps.map(\.level) == steps.map(\.level).sorted() && steps.allSatisfy { $0.level > s.detailFrom && $0.level <= s.baseLevel })
        #expect(s.point(QualitySchedule.top).level == s.baseLevel)
        #expect(steps.map { $0.detailStep! } == steps.map { $0.detailStep! }.sorted(by: >))
        #expect(abs(s.point(QualitySchedule.top).detailStep! - s.topStep) < 1e-9)
        // A model with fewer levels builds on its top one.
        #expect(QualitySchedule(levels: 3).point(3.5).level == 3)
    }

    /// The hyperprior's top qualities carry a layer; each quality's file decodes better than the
    /// one below, the layer's too, and a file without it is the base.
    @Test(arguments: ["Corpus/photos/chelsea.png", "Corpus/generated/size_17x9.png"])
    func theTopQualitiesAddTheLayer(path: String) throws {
        let base = HyperpriorFixtures.model()
        let image = CodecFixtures.image(path)
        var last = (bytes: 0, psnr: 0.0)
        for q in [3.0, 4, 6, 8] {
            let model = try base.atQuality(q)
            let container = try ImageCodec.encode(image, model: model)
            #expect((container.detail != nil) == (q > 3))
            let bytes = container.serialized()
            let parsed = try Container.parse(bytes)
            #expect(parsed == container)
            let decoded = try ImageCodec.decode(parsed, model: base)
            let psnr = try PSNR.compute(reference: image, distorted: decoded).rgb
            #expect(bytes.count > last.bytes && psnr > last.psnr, "quality \(q): \(bytes.count) bytes, \(psnr) dB")
            last = (bytes.count, psnr)
            if q == 8 {
                // The base alone decodes to the encoder's reconstruction, and the streaming
                // encode is the kept-reconstruction one's.
                let layers = try DetailEncoder(image, model: base, level: 3)
                #expect(try layers.container(step: model.detailStep!, quality: 8) == container)
                var plain = parsed
                plain.detail = nil
                #expect(try ImageCodec.decode(plain, model: base).rgbSamples() == layers.reconstruction)
            }
        }
    }
}
