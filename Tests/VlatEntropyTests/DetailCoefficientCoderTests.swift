import Testing
import VlatTensor
@testable import VlatEntropy

@Suite("The detail layer's coefficient coder")
struct DetailCoefficientCoderTests {
    /// Blocks like a quantized residual's: most coefficients zero, small ones near the start of
    /// the zigzag, an occasional large one (escapes), some empty blocks.
    static func blocks(rows: Int, columns: Int, planes: Int, _ g: inout SeededGenerator) -> [Int32] {
        var v = [Int32](repeating: 0, count: rows * columns * planes * 64)
        for b in 0..<(rows * columns * planes) where Int.random(in: 0..<5, using: &g) > 0 {
            let reach = Int.random(in: 1...64, using: &g)
            for k in 0..<reach where Int.random(in: 0..<(k + 2), using: &g) == 0 {
                let big = Int.random(in: 0..<40, using: &g) == 0
                let m = big ? Int32.random(in: 15...70000, using: &g) : Int32.random(in: 1...4, using: &g)
                v[b * 64 + k] = min(m, Int32(DetailCoefficientCoder.maxMagnitude)) * (Bool.random(using: &g) ? -1 : 1)
            }
        }
        return v
    }

    @Test func zigzagVisitsEveryPositionAlongAntiDiagonals() {
        let z = DetailCoefficientCoder.zigzag
        #expect(Set(z) == Set(0..<64) && z.count == 64)
        #expect(Array(z.prefix(10)) == [0, 1, 8, 16, 9, 2, 3, 10, 17, 24])   // JPEG's order
        #expect(z.last == 63)
    }

    @Test(arguments: [(1, DetailCoefficientCoder.Start.shaped), (3, .shaped), (1, .flat), (3, .flat)])
    func stripesRoundTripWithTheirTablesCarriedOver(planes: Int, start: DetailCoefficientCoder.Start) throws {
        var g = SeededGenerator(seed: UInt64(planes))
        let columns = 7
        let stripes = [3, 1, 4].map { Self.blocks(rows: $0, columns: columns, planes: planes, &g) }
        var encoder = DetailCoefficientCoder(planes: planes, blockColumns: columns, start: start)
        let streams = try stripes.map { try encoder.encodeStripe($0, blockRows: $0.count / (columns * planes * 64)) }
        // The other start reads other values or fails: the tables' start is part of the stream.
        var other = DetailCoefficientCoder(planes: planes, blockColumns: columns, start: start == .flat ? .shaped : .flat)
        #expect((try? other.decodeStripe(streams[0], blockRows: 3)) != stripes[0])
        var decoder = DetailCoefficientCoder(planes: planes, blockColumns: columns, start: start)
        for (stripe, stream) in zip(stripes, streams) {
            #expect(try decoder.decodeStripe(stream, blockRows: stripe.count / (columns * planes * 64)) == stripe)
        }
        // A decoder that starts at the second stripe has the wrong tables: it fails or decodes
        // other values, never traps.
        var late = DetailCoefficientCoder(planes: planes, blockColumns: columns)
        #expect((try? late.decodeStripe(streams[1], blockRows: 1)) != stripes[1])
    }

    /// The starting counts are docs/FORMAT.md's (section 6.1), written out: flat 32s, or shaped
    /// g(m) = max(1, 128 / 4^m) for magnitudes, the same one place on for last magnitudes (which
    /// are never 0), 16 and then 2s for ends. Every table's last count is at least 1.
    @Test func startingCountsAreTheFormatsTables() {
        let g: [UInt64] = [128, 32, 8, 2] + [UInt64](repeating: 1, count: 12)
        #expect(DetailCoefficientCoder.Start.shaped.counts(.magnitude) == g)
        #expect(DetailCoefficientCoder.Start.shaped.counts(.last) == [0] + g.prefix(15))
        #expect(DetailCoefficientCoder.Start.shaped.counts(.end) == [16] + [UInt64](repeating: 2, count: 64))
        #expect(DetailCoefficientCoder.Start.flat.counts(.end) == [UInt64](repeating: 32, count: 65))
        #expect(DetailCoefficientCoder.Start.flat.counts(.last) == [UInt64](repeating: 32, count: 16))
    }

    /// Blocks whose statistics the shaped tables expect (small magnitudes, early ends) cost fewer
    /// bytes from the start than with flat tables.
    @Test func shapedTablesCodeTypicalBlocksInFewerBytes() throws {
        var g = SeededGenerator(seed: 11)
        let stripe = Self.blocks(rows: 2, columns: 6, planes: 3, &g).map { $0.magnitude > 4 ? $0.signum() : $0 }
        var flat = DetailCoefficientCoder(planes: 3, blockColumns: 6, start: .flat)
        var shaped = DetailCoefficientCoder(planes: 3, blockColumns: 6, start: .shaped)
        let a = try flat.encodeStripe(stripe, blockRows: 2), b = try shaped.encodeStripe(stripe, blockRows: 2)
        #expect(b.count < a.count, "shaped \(b.count), flat \(a.count)")
    }

    @Test func learnedStatisticsMakeSparseBlocksCheap() throws {
        // 64 rows of empty blocks cost a few bits each once the end's table has learned them.
        var encoder = DetailCoefficientCoder(planes: 3, blockColumns: 64)
        let empty = try encoder.encodeStripe([Int32](repeating: 0, count: 64 * 64 * 3 * 64), blockRows: 64)
        #expect(empty.count < 64 * 64 * 3 / 50)
    }

    @Test func damagedStreamsAreReportedNeverTrappedOn() throws {
        var g = SeededGenerator(seed: 5)
        let stripe = Self.blocks(rows: 2, columns: 5, planes: 3, &g)
        var encoder = DetailCoefficientCoder(planes: 3, blockColumns: 5)
        let stream = try encoder.encodeStripe(stripe, blockRows: 2)
        var failures = 0
        for cut in [0, 3, stream.count / 2, stream.count - 2] {
            var d = DetailCoefficientCoder(planes: 3, blockColumns: 5)
            #expect(throws: EntropyError.self) { try d.decodeStripe(Array(stream.prefix(cut)), blockRows: 2) }
        }
        for _ in 0..<200 {
            var bad = stream
            bad[Int.random(in: 0..<bad.count, using: &g)] ^= UInt8.random(in: 1...255, using: &g)
            var d = DetailCoefficientCoder(planes: 3, blockColumns: 5)
            do { if try d.decodeStripe(bad, blockRows: 2) != stripe { failures += 1 } } catch { failures += 1 }
        }
        #expect(failures > 150)
        var e = DetailCoefficientCoder(planes: 1, blockColumns: 1)
        #expect(throws: EntropyError.self) { try e.encodeStripe([Int32](repeating: 70000, count: 64), blockRows: 1) }
        #expect(throws: EntropyError.self) { try e.encodeStripe([Int32](repeating: 0, count: 63), blockRows: 1) }
    }
}
