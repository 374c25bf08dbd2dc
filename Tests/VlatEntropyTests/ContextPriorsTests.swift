import Foundation
import Testing
import VlatTensor
@testable import VlatEntropy

@Suite("Fitted context priors")
struct ContextPriorsTests {
    let grids = ContextRANSTests()

    /// Random priors that fit `tables`: counts up to 3000, the escape's at least 1, some zeros.
    func randomPriors(_ tables: [QuantizedCDF], _ g: inout SeededGenerator) throws -> ContextPriors {
        let rows = tables.flatMap { table in
            (0..<ContextRANSCoder.contexts).map { _ -> [UInt64] in
                var row = (0..<table.count).map { _ in Bool.random(using: &g) ? 0 : UInt64.random(in: 0...3000, using: &g) }
                row[table.escape] = max(row[table.escape], 1)
                return row
            }
        }
        return try ContextPriors(counts: rows, tables: tables)
    }

    @Test func tablesStartedFromCountsStayValid() throws {
        var g = SeededGenerator(seed: 21)
        for _ in 0..<40 {
            let table = try RANSTests.randomTable(&g)
            let priors = try randomPriors([table], &g)
            for row in priors.counts {
                var a = AdaptiveFrequencies(counts: row)
                grids.expectValid(a, &g)
                for _ in 0..<50 { a.update(Int.random(in: 0..<table.count, using: &g)) }
                grids.expectValid(a, &g)
            }
        }
        // The extreme a model file may hold: every count at the maximum.
        let table = try RANSTests.randomTable(&g)
        grids.expectValid(AdaptiveFrequencies(counts: [UInt64](repeating: ContextPriors.maxCount, count: table.count)), &g)
    }

    @Test func roundTripsRandomGridsWithPriors() throws {
        var g = SeededGenerator(seed: 22)
        for trial in 0..<80 {
            let channels = Int.random(in: 1...4, using: &g)
            let tables = try (0..<channels).map { _ in try RANSTests.randomTable(&g) }
            let priors = try randomPriors(tables, &g)
            let (h, w) = (Int.random(in: 1...30, using: &g), Int.random(in: 1...30, using: &g))
            let values = grids.randomGrid(tables, height: h, width: w, &g)
            let bytes = try ContextRANSCoder.encode(values, channels: channels, height: h, width: w, tables: tables, priors: priors)
            let back = try ContextRANSCoder.decode(bytes, channels: channels, height: h, width: w, tables: tables, priors: priors)
            #expect(back == values, "trial \(trial): \(channels) x \(h) x \(w)")
        }
    }

    @Test func fittedPriorsCountWhatTheySaw() throws {
        // One channel whose symbols are always value 0 (symbol 2 of a table starting at -2):
        // every context that occurs must put nearly all its weight there.
        let table = try QuantizedCDF(offset: -2, pmf: [0.1, 0.2, 0.4, 0.2, 0.1], tail: 0.001)
        let grid = ContextPriors.Grid(values: [Int32](repeating: 0, count: 64), channels: 1, height: 8, width: 8)
        let priors = try ContextPriors.fit([grid], tables: [table], total: 2048, pseudoCount: 4)
        #expect(priors.counts.count == ContextRANSCoder.contexts)
        for row in priors.counts {
            #expect(row.count == table.count && row[table.escape] >= 1)
            #expect(row.reduce(0, +) <= 2048 + 1 && row.reduce(0, +) >= 2048 - UInt64(table.count))
        }
        // All-zero neighbourhoods in channel 0: context 0 saw all 64 symbols, so symbol 2 holds
        // (64 + 4 x 0.4) / 68 of the weight; an unseen context keeps the prior's shape.
        let p2 = Double(table.frequency(2)) / 65536
        let seen = Double(priors.counts[0][2]) / 2048, unseen = Double(priors.counts[5][2]) / 2048
        #expect(abs(seen - (64 + 4 * p2) / 68) < 0.002, "\(seen)")
        #expect(abs(unseen - p2) < 0.002, "\(unseen)")
    }

    @Test func fittedPriorsBeatThePriorStartOnTheirKindOfData() throws {
        // Flat left halves and busy right halves, as in photos: priors fitted on some such
        // planes code another in fewer bytes than tables started from the channel's prior.
        var g = SeededGenerator(seed: 23)
        let (h, w) = (32, 32)
        func plane() -> [Int32] { (0..<(h * w)).map { i in grids.laplace(i % w < w / 2 ? 0.15 : 4, &g) } }
        let table = try QuantizedCDF(offset: -20, pmf: (-20...20).map { exp(-abs(Double($0)) / 2) }, tail: 1e-3)
        let training = (0..<8).map { _ in ContextPriors.Grid(values: plane(), channels: 1, height: h, width: w) }
        let priors = try ContextPriors.fit(training, tables: [table])
        let test = plane()
        let fitted = try ContextRANSCoder.encode(test, channels: 1, height: h, width: w, tables: [table], priors: priors).count
        let plain = try ContextRANSCoder.encode(test, channels: 1, height: h, width: w, tables: [table]).count
        #expect(Double(fitted) < 0.95 * Double(plain), "fitted \(fitted) vs prior start \(plain)")
    }

    @Test func priorsThatDoNotFitAreRefused() throws {
        var g = SeededGenerator(seed: 24)
        let tables = try (0..<2).map { _ in try RANSTests.randomTable(&g) }
        let good = try randomPriors(tables, &g)
        var rows = good.counts
        #expect(throws: EntropyError.self) { try ContextPriors(counts: Array(rows.dropLast()), tables: tables) }
        rows[3][tables[0].escape] = 0
        #expect(throws: EntropyError.self) { try ContextPriors(counts: rows, tables: tables) }
        rows = good.counts
        rows[20][0] = ContextPriors.maxCount + 1
        #expect(throws: EntropyError.self) { try ContextPriors(counts: rows, tables: tables) }
        rows = good.counts
        rows[1].append(1)
        #expect(throws: EntropyError.self) { try ContextPriors(counts: rows, tables: tables) }
        // Priors made for other tables: the coder refuses rather than indexing past a table.
        let other = try (0..<2).map { _ in try RANSTests.randomTable(&g) }
        if other.map(\.count) != tables.map(\.count) {
            #expect(throws: EntropyError.self) {
                try ContextRANSCoder.encode([Int32](repeating: 0, count: 2 * 9), channels: 2, height: 3, width: 3, tables: other, priors: good)
            }
        }
        #expect(throws: EntropyError.self) {
            try ContextRANSCoder.encode([Int32](repeating: 0, count: 9), channels: 1, height: 3, width: 3, tables: [tables[0]], priors: good)
        }
    }
}
