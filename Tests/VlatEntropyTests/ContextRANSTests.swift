import Foundation
import Testing
import VlatTensor
@testable import VlatEntropy

@Suite("Adaptive tables and the context rANS coder")
struct ContextRANSTests {
    /// Checks that the table's intervals tile [0, 65536) with every frequency at least 1, and that
    /// the decoder's lookup finds the interval the encoder uses.
    func expectValid(_ a: AdaptiveFrequencies, _ g: inout SeededGenerator) {
        var next: UInt32 = 0
        for s in 0..<a.symbolCount {
            let (start, f) = a.interval(of: s)
            #expect(start == next && f >= 1)
            next = start + f
        }
        #expect(next == 1 << 16)
        for _ in 0..<20 {
            let slot = UInt32.random(in: 0..<(1 << 16), using: &g)
            let (s, start, f) = a.symbol(forSlot: slot)
            #expect(start <= slot && slot < start + f && a.interval(of: s) == (start, f))
        }
    }

    @Test func adaptiveTablesStayValidAndLearn() throws {
        var g = SeededGenerator(seed: 11)
        for _ in 0..<40 {
            let prior = try RANSTests.randomTable(&g)
            var a = AdaptiveFrequencies(prior: prior)
            expectValid(a, &g)
            // A source that always sends one symbol: its frequency must grow towards the total.
            let s = Int.random(in: 0..<prior.count, using: &g)
            for _ in 0..<300 { a.update(s) }
            expectValid(a, &g)
            #expect(a.interval(of: s).frequency > (1 << 16) * 9 / 10 - UInt32(prior.count))
        }
    }

    @Test func halvingKeepsTablesValid() {
        var g = SeededGenerator(seed: 12)
        let prior = try! QuantizedCDF(offset: -2, pmf: [0.1, 0.2, 0.4, 0.2, 0.1], tail: 0.001)
        var a = AdaptiveFrequencies(prior: prior)
        var halvings = 0
        for i in 0..<600_000 {
            let before = a.total
            a.update(Int.random(in: 0..<prior.count, using: &g))
            if a.total < before { halvings += 1 }
            if i % 100_000 == 0 { expectValid(a, &g) }
        }
        #expect(halvings >= 1 && a.total <= AdaptiveFrequencies.halvingTotal)
        expectValid(a, &g)
    }

    /// A grid whose values follow the tables, with escapes of every kind mixed in.
    func randomGrid(_ tables: [QuantizedCDF], height: Int, width: Int, _ g: inout SeededGenerator) -> [Int32] {
        (0..<(tables.count * height * width)).map { i in
            let t = tables[i / max(1, height * width)]
            switch Int.random(in: 0..<25, using: &g) {
            case 0: return Int32.random(in: Int32.min...Int32.max, using: &g)
            case 1: return t.offset - Int32.random(in: 1...40, using: &g)
            case 2: return t.offset + Int32(t.escape) + Int32.random(in: 0...40, using: &g)
            default: return t.offset + Int32.random(in: 0..<Int32(max(1, t.escape)), using: &g)
            }
        }
    }

    @Test func roundTripsRandomGridsWithEscapes() throws {
        var g = SeededGenerator(seed: 13)
        for trial in 0..<120 {
            let channels = Int.random(in: 1...5, using: &g)
            let tables = try (0..<channels).map { _ in try RANSTests.randomTable(&g) }
            let (h, w) = trial == 0 ? (0, 7) : (Int.random(in: 1...40, using: &g), Int.random(in: 1...40, using: &g))
            let values = randomGrid(tables, height: h, width: w, &g)
            let bytes = try ContextRANSCoder.encode(values, channels: channels, height: h, width: w, tables: tables)
            let back = try ContextRANSCoder.decode(bytes, channels: channels, height: h, width: w, tables: tables)
            #expect(back == values, "trial \(trial): \(channels) x \(h) x \(w)")
        }
    }

    /// Laplacian-like integers of scale `b`.
    func laplace(_ b: Double, _ g: inout SeededGenerator) -> Int32 {
        let u = Double.random(in: -0.5..<0.5, using: &g)
        return Int32((-b * (u < 0 ? -1 : 1) * log(1 - 2 * abs(u))).rounded())
    }

    @Test func learnsWhereTheStaticPriorCannot() throws {
        // The prior fits the whole plane, but the left half is nearly flat and the right half
        // busy, as in a photo: the contexts and the adaptation must find that.
        var g = SeededGenerator(seed: 14)
        let (h, w) = (64, 64)
        let values: [Int32] = (0..<(h * w)).map { i in laplace(i % w < w / 2 ? 0.15 : 4, &g) }
        let counts = Dictionary(grouping: values, by: { $0 }).mapValues(\.count)
        let lo = values.min()!, hi = values.max()!
        let pmf = (lo...hi).map { Double(counts[$0] ?? 0) / Double(values.count) }
        let table = try QuantizedCDF(offset: lo, pmf: pmf, tail: 1e-4)
        let staticBytes = try RANSCoder.encode(values, tables: [table], tableIndex: { _ in 0 }).count
        let ctxBytes = try ContextRANSCoder.encode(values, channels: 1, height: h, width: w, tables: [table]).count
        #expect(Double(ctxBytes) < 0.9 * Double(staticBytes), "ctx \(ctxBytes) vs static \(staticBytes)")

        // On an i.i.d. source that the prior describes exactly, adapting costs little.
        let iid: [Int32] = (0..<(h * w)).map { _ in laplace(1.5, &g) }
        let c2 = Dictionary(grouping: iid, by: { $0 }).mapValues(\.count)
        let lo2 = iid.min()!, hi2 = iid.max()!
        let t2 = try QuantizedCDF(offset: lo2, pmf: (lo2...hi2).map { Double(c2[$0] ?? 0) / Double(iid.count) }, tail: 1e-4)
        let s2 = try RANSCoder.encode(iid, tables: [t2], tableIndex: { _ in 0 }).count
        let x2 = try ContextRANSCoder.encode(iid, channels: 1, height: h, width: w, tables: [t2]).count
        #expect(Double(x2) < 1.05 * Double(s2), "ctx \(x2) vs static \(s2)")
    }

    @Test func damagedStreamsAreReportedNeverTrappedOn() throws {
        var g = SeededGenerator(seed: 15)
        let tables = try (0..<3).map { _ in try RANSTests.randomTable(&g) }
        let values = randomGrid(tables, height: 12, width: 9, &g)
        let bytes = try ContextRANSCoder.encode(values, channels: 3, height: 12, width: 9, tables: tables)
        // Truncated, or extended: always an error.
        #expect(throws: EntropyError.self) {
            try ContextRANSCoder.decode(Array(bytes.prefix(bytes.count - 2)), channels: 3, height: 12, width: 9, tables: tables)
        }
        #expect(throws: EntropyError.self) {
            try ContextRANSCoder.decode(bytes + [0, 0], channels: 3, height: 12, width: 9, tables: tables)
        }
        // Random bytes and single-byte flips: an error or some grid, never a trap.
        for _ in 0..<300 {
            var damaged = bytes
            damaged[Int.random(in: 0..<damaged.count, using: &g)] ^= UInt8.random(in: 1...255, using: &g)
            if let out = try? ContextRANSCoder.decode(damaged, channels: 3, height: 12, width: 9, tables: tables) {
                #expect(out.count == values.count)
            }
            let noise = (0..<(2 * Int.random(in: 2...200, using: &g))).map { _ in UInt8.random(in: 0...255, using: &g) }
            _ = try? ContextRANSCoder.decode(noise, channels: 3, height: 12, width: 9, tables: tables)
        }
        // A grid that does not match the tables or the count.
        #expect(throws: EntropyError.self) { try ContextRANSCoder.encode(values, channels: 2, height: 12, width: 9, tables: tables) }
        #expect(throws: EntropyError.self) { try ContextRANSCoder.decode(bytes, channels: 4, height: 12, width: 9, tables: tables) }
    }
}
