import Testing
import VlatTensor
@testable import VlatEntropy


@Suite("Quantized CDFs and the rANS coder")
struct RANSTests {
    /// A random table: a few to a few hundred symbols, random probabilities (some tiny), random offset.
    static func randomTable(_ g: inout SeededGenerator) throws -> QuantizedCDF {
        let n = Int.random(in: 1...300, using: &g)
        let pmf = (0..<n).map { _ in pow(Double.random(in: 0...1, using: &g), 4) }
        return try QuantizedCDF(offset: Int32.random(in: -200...50, using: &g), pmf: pmf, tail: Double.random(in: 0...0.01, using: &g))
    }

    @Test func quantizationKeepsEverySymbolCodable() throws {
        var g = SeededGenerator(seed: 1)
        for _ in 0..<200 {
            let t = try Self.randomTable(&g)
            #expect(t.cdf.first == 0 && t.cdf.last == 1 << 16)
            #expect((0..<t.count).allSatisfy { t.frequency($0) >= 1 })
        }
        // Zero probability everywhere still gives a valid (uniform) table.
        let flat = try QuantizedCDF(offset: 0, pmf: [0, 0, 0], tail: 0)
        #expect(flat.count == 4)
        #expect(throws: EntropyError.self) { try QuantizedCDF(offset: 0, cdf: [0, 5, 5, 65536]) }
        #expect(throws: EntropyError.self) { try QuantizedCDF(offset: 0, pmf: [.nan], tail: 0) }
    }

    @Test func roundTripsRandomStreamsWithEscapes() throws {
        var g = SeededGenerator(seed: 2)
        for trial in 0..<150 {
            let tables = try (0..<Int.random(in: 1...6, using: &g)).map { _ in try Self.randomTable(&g) }
            let count = trial == 0 ? 0 : Int.random(in: 1...3000, using: &g)
            let values: [Int32] = (0..<count).map { i in
                let t = tables[i % tables.count]
                switch Int.random(in: 0..<20, using: &g) {
                case 0: return Int32.random(in: Int32.min...Int32.max, using: &g)        // far escape
                case 1: return t.offset - Int32.random(in: 1...40, using: &g)             // just below
                case 2: return t.offset + Int32(t.escape) + Int32.random(in: 0...40, using: &g) // just above
                default: return t.offset + Int32.random(in: 0..<Int32(max(1, t.escape)), using: &g)
                }
            }
            let bytes = try RANSCoder.encode(values, tables: tables, tableIndex: { $0 % tables.count })
            let back = try RANSCoder.decode(bytes, count: count, tables: tables, tableIndex: { $0 % tables.count })
            #expect(back == values, "trial \(trial)")
        }
    }

    @Test func codeLengthIsCloseToTheEntropy() throws {
        // A skewed 8-symbol source: rANS with 16-bit tables should cost within 1 % of the entropy.
        let p: [Double] = [0.5, 0.2, 0.1, 0.08, 0.06, 0.03, 0.02, 0.01]
        let table = try QuantizedCDF(offset: 0, pmf: p, tail: 0)
        var g = SeededGenerator(seed: 3)
        let values: [Int32] = (0..<200_000).map { _ in
            var u = Double.random(in: 0..<1, using: &g), s = 0
            while s < p.count - 1 && u >= p[s] { u -= p[s]; s += 1 }
            return Int32(s)
        }
        let bytes = try RANSCoder.encode(values, tables: [table], tableIndex: { _ in 0 })
        let entropy = -p.reduce(0) { $0 + $1 * log2($1) } * Double(values.count)
        #expect(Double(bytes.count * 8) < entropy * 1.01)
        #expect(Double(bytes.count * 8) > entropy * 0.99)
    }

    @Test func damagedStreamsAreErrorsNotCrashes() throws {
        var g = SeededGenerator(seed: 4)
        let tables = [try Self.randomTable(&g), try Self.randomTable(&g)]
        let values: [Int32] = (0..<500).map { i in tables[i % 2].offset + Int32(i % 7) }
        let bytes = try RANSCoder.encode(values, tables: tables, tableIndex: { $0 % 2 })
        var detected = 0
        for _ in 0..<500 {
            var copy = bytes
            copy[Int.random(in: 0..<copy.count, using: &g)] ^= UInt8.random(in: 1...255, using: &g)
            // Either an error, or (rarely) other values: rANS has no checksum, the container does.
            if (try? RANSCoder.decode(copy, count: values.count, tables: tables, tableIndex: { $0 % 2 })) == nil { detected += 1 }
        }
        #expect(detected > 400)
        #expect(throws: EntropyError.self) { try RANSCoder.decode(Array(bytes.dropLast(2)), count: 500, tables: tables, tableIndex: { $0 % 2 }) }
        #expect(throws: EntropyError.self) { try RANSCoder.decode([1, 2, 3], count: 1, tables: tables, tableIndex: { _ in 0 }) }
        #expect(throws: EntropyError.self) { try RANSCoder.decode(bytes, count: 500, tables: tables, tableIndex: { _ in 7 }) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
