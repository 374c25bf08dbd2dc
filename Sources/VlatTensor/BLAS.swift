import COpenBLAS

/// Matrix products on OpenBLAS: the one place the engine's FLOPs are spent.
public enum BLAS {
    /// `C = alpha * op(A) * op(B) + beta * C` for row-major float32 matrices, where op(A) is
    /// `m x k`, op(B) is `k x n` and C is `m x n`. Leading dimensions are the row strides.
    @inlinable
    public static func sgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Convenience for whole arrays: returns `A (m x k) * B (k x n)`.
    public static func matmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float] {
        precondition(a.count == m * k && b.count == k * n, "matmul shape mismatch")
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    sgemm(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n,
                          c: pc.baseAddress!, ldc: n)
                }
            }
        }
        return c
    }

    /// Threads OpenBLAS uses for one product.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }
}
