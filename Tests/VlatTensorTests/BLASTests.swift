import Testing
import VlatTensor

@Suite("OpenBLAS sgemm")
struct BLASTests {
    func naive(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for p in 0..<k { c[i * n + j] += Double(a[i * k + p]) * Double(b[p * n + j]) } } }
        return c
    }

    @Test(arguments: [(1, 1, 1), (3, 5, 7), (64, 33, 129), (17, 100, 25)])
    func matchesNaiveProduct(m: Int, n: Int, k: Int) {
        var state: UInt32 = 12345
        func next() -> Float { state = state &* 1_664_525 &+ 1_013_904_223; return Float(state >> 8) / Float(1 << 24) - 0.5 }
        let a = (0..<(m * k)).map { _ in next() }, b = (0..<(k * n)).map { _ in next() }
        let c = BLAS.matmul(a, b, m: m, n: n, k: k)
        let ref = naive(a, b, m: m, n: n, k: k)
        // float32 accumulation: error grows like sqrt(k) * eps * |terms|.
        for i in 0..<(m * n) { #expect(abs(Double(c[i]) - ref[i]) < 1e-5 * Double(k)) }
    }

    @Test func transposedOperands() {
        let a: [Float] = [1, 2, 3, 4, 5, 6]      // 2x3, used as A^T (3x2)
        let b: [Float] = [1, 0, 0, 1, 1, 1]      // 3x2, used as B^T (2x3)
        var c = [Float](repeating: 0, count: 9)
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            BLAS.sgemm(transposeA: true, transposeB: true, m: 3, n: 3, k: 2, a: pa.baseAddress!, lda: 3,
                       b: pb.baseAddress!, ldb: 2, c: pc.baseAddress!, ldc: 3)
        } } }
        // A^T = [[1,4],[2,5],[3,6]], B^T = [[1,0,1],[0,1,1]]
        #expect(c == [1, 4, 5, 2, 5, 7, 3, 6, 9])
    }
}
