import Testing
import VlatTestSupport
import VlatTensor

@Suite("Exact 16-bit integer products")
struct Int16ProductTests {
    /// A in rows (`m x k`, lda k + pad), B as plain rows (`k x n`), and B in pairs of rows.
    struct Operands {
        let m: Int, n: Int, k: Int, lda: Int
        let a: [Int16], rows: [Int16], pairs: [Int16]
        var ldb: Int { 2 * n }

        init(m: Int, n: Int, k: Int, seed: UInt64, largest: Int) {
            var g = SeededGenerator(seed: seed)
            func value() -> Int16 {
                // A quarter of the values at the extremes, the rest anywhere in range.
                let r = g.next()
                switch r % 8 {
                case 0: return Int16(largest)
                case 1: return Int16(-largest)
                default: return Int16(Int((r >> 16) % UInt64(2 * largest + 1)) - largest)
                }
            }
            let kp = (k + 1) / 2 * 2
            self.m = m; self.n = n; self.k = k; lda = kp + 3
            var a = [Int16](repeating: 0, count: m * lda)
            for r in 0..<m { for d in 0..<k { a[r * lda + d] = value() } }
            let rows = (0..<(k * n)).map { _ in value() }
            var pairs = [Int16](repeating: 0, count: kp / 2 * 2 * n)
            for d in 0..<k { for p in 0..<n { pairs[(d / 2) * 2 * n + 2 * p + d % 2] = rows[d * n + p] } }
            self.a = a; self.rows = rows; self.pairs = pairs
        }

        /// The products' definition, in Int64.
        var reference: [Int64] {
            var c = [Int64](repeating: 0, count: m * n)
            for r in 0..<m { for p in 0..<n { for d in 0..<k { c[r * n + p] += Int64(a[r * lda + d]) * Int64(rows[d * n + p]) } } }
            return c
        }

        func product(largestA: Int, largestB: Int, portable: Bool = false) -> [Int64] {
            var c = [Int64](repeating: -1, count: m * n)
            Int16Product.multiply(m: m, n: n, k: k, a: a, lda: lda, b: pairs, ldb: ldb, c: &c, ldc: n,
                                  largestA: largestA, largestB: largestB, portable: portable)
            return c
        }
    }

    /// Ragged rows (not a multiple of the kernel's 4), columns (of its 16) and an odd depth;
    /// operands at +-32767, where a pair's sum needs all 32 bits, and small ones, where many
    /// pair sums share a 32-bit partial before they are widened.
    @Test(arguments: [(1, 1, 1), (3, 17, 7), (4, 16, 2), (9, 50, 255), (13, 200, 1201), (37, 33, 96)], [32767, 2047, 3])
    func equalsTheDefinition(shape: (m: Int, n: Int, k: Int), largest: Int) {
        let x = Operands(m: shape.m, n: shape.n, k: shape.k, seed: UInt64(shape.k * 31 + largest), largest: largest)
        #expect(x.product(largestA: largest, largestB: largest) == x.reference)
        // The loop CPUs without the vector path run.
        #expect(x.product(largestA: largest, largestB: largest, portable: true) == x.reference)
    }

    /// With bounds that allow no more than one pair a partial, and with bounds that allow the
    /// most, the sums are the same exact integers.
    @Test func thePartialSumsLengthDoesNotChangeTheResult() {
        let x = Operands(m: 6, n: 70, k: 3000, seed: 3, largest: 100)
        let reference = x.reference
        #expect(x.product(largestA: 32767, largestB: 32767) == reference)
        #expect(x.product(largestA: 100, largestB: 100) == reference)
        #expect(x.product(largestA: 32767, largestB: 32767, portable: true) == reference)
        #expect(x.product(largestA: 100, largestB: 100, portable: true) == reference)
    }

    @Test func theThreadsShareColumnsWithoutChangingThem() {
        let x = Operands(m: 64, n: 333, k: 400, seed: 8, largest: 32767)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let one = x.product(largestA: 32767, largestB: 32767)
        Parallel.threads = 2
        let two = x.product(largestA: 32767, largestB: 32767)
        #expect(one == two && one == x.reference)
    }

    /// The example in `Int16Product`'s documentation.
    @Test func theDocumentedExample() {
        var c = [Int64](repeating: 0, count: 6)
        Int16Product.multiply(m: 2, n: 3, k: 2, a: [1, 2, 3, 4], lda: 2, b: [5, 8, 6, 9, 7, 10], ldb: 6, c: &c, ldc: 3,
                              largestA: 4, largestB: 10)
        #expect(c == [21, 24, 27, 47, 54, 61])
    }
}
