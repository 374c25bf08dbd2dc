import CKernels

/// An exact matrix product of 16-bit integers into 64-bit sums: `C = A x B`, every element the
/// exact integer sum, on any CPU and for any thread count (integer additions do not round, so
/// their order cannot matter). For the integer networks that choose the entropy coder's
/// tables, which must give the same integers on every machine.
///
/// B is stored in pairs of rows (the layout the CPU's pair-multiply reads): element `(k, p)` at
/// `b[(k / 2) * ldb + 2 * p + k % 2]`, with `k` running to `kp`, rounded up to even (a zero
/// row pads an odd depth). `ldb` counts `Int16` elements from one pair of rows to the next.
///
/// ```swift
/// // C (2 x 3) = A (2 x 2) x B (2 x 3)
/// let a: [Int16] = [1, 2, 3, 4]                // rows of A
/// let b: [Int16] = [5, 8, 6, 9, 7, 10]         // B = [[5, 6, 7], [8, 9, 10]], in pairs of rows
/// var c = [Int64](repeating: 0, count: 6)
/// Int16Product.multiply(m: 2, n: 3, k: 2, a: a, lda: 2, b: b, ldb: 6, c: &c, ldc: 3,
///                       largestA: 4, largestB: 10)   // c == [21, 24, 27, 47, 54, 61]
/// ```
public enum Int16Product {
    /// Pair sums added in 32 bits before they are widened: `n * 2 * largestA * largestB` must
    /// stay below 2^31.
    static func partialPairs(largestA: Int, largestB: Int) -> Int32 {
        let pair = 2 * max(1, largestA) * max(1, largestB)
        return Int32(clamping: max(1, Int(Int32.max) / pair))
    }

    /// `c[r * ldc + p] = sum_k A[r][k] * B[k][p]` for `r < m`, `p < n`. `largestA` and `largestB`
    /// bound the operands' magnitudes (each at most 32767: -32768 is not allowed), which set
    /// how many products may be summed in 32 bits. The threads share the columns.
    /// `portable` keeps to the loop every CPU runs (the tests compare it with the vector path).
    public static func multiply(m: Int, n: Int, k: Int, a: UnsafePointer<Int16>, lda: Int,
                                b: UnsafePointer<Int16>, ldb: Int, c: UnsafeMutablePointer<Int64>, ldc: Int,
                                largestA: Int, largestB: Int, threaded: Bool = true, portable: Bool = false) {
        precondition(largestA <= Int(Int16.max) && largestB <= Int(Int16.max), "operands must be within +-32767")
        guard m > 0, n > 0 else { return }
        let kp = (k + 1) / 2 * 2, partial = partialPairs(largestA: largestA, largestB: largestB)
        // Blocks of 16 columns, the kernel's width, shared among the threads.
        let blocks = (n + 15) / 16
        func run(_ range: Range<Int>) {
            let first = range.lowerBound * 16, last = min(n, range.upperBound * 16)
            vlat_int16_product(Int32(m), Int32(last - first), Int32(kp), a, Int32(lda), b + 2 * first, Int32(ldb),
                               c + first, Int32(ldc), partial, portable ? 0 : 1)
        }
        if threaded {
            // At least ~64k multiply-adds a thread: a thread hop costs microseconds.
            Parallel.forRanges(blocks, minimumPerThread: max(1, 4096 / max(1, m * kp))) { run($0) }
        } else {
            run(0..<blocks)
        }
    }

    /// `multiply` on arrays (B in pairs of rows, as there).
    public static func multiply(m: Int, n: Int, k: Int, a: [Int16], lda: Int, b: [Int16], ldb: Int,
                                c: inout [Int64], ldc: Int, largestA: Int, largestB: Int, portable: Bool = false) {
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    multiply(m: m, n: n, k: k, a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb, c: cp.baseAddress!,
                             ldc: ldc, largestA: largestA, largestB: largestB, portable: portable)
                }
            }
        }
    }
}
