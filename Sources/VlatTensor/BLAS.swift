import COpenBLAS

/// Matrix products on OpenBLAS: the one place the engine's FLOPs are spent.
///
/// **Determinism.** OpenBLAS's result for an element depends on the shape of the call and on
/// its own thread count (it picks kernels and partitions by both). So OpenBLAS always runs
/// single-threaded here, and `sgemm` splits C into column chunks of a fixed width
/// (`chunkColumns`) that `Parallel.threads` workers share. Each chunk is the same call whatever
/// the thread count, so products, and everything built on them, are bit-identical for 1 and 2
/// threads. On these machines that is also faster than OpenBLAS's own threading (measured:
/// 201 vs 189 GFLOP/s on 128x3200x16384).
public enum BLAS {
    /// The kernel set OpenBLAS loaded (e.g. "Haswell" for AVX2, "SkylakeX" or "Cooperlake" for
    /// AVX-512), chosen from the CPU or the `OPENBLAS_CORETYPE` environment variable. Benchmarks
    /// report it because timings depend on it: training ran 1.3x faster on the AVX-512 set than
    /// on the AVX2 one here (`Benchmarks/codec-run/session6`).
    public static var kernelName: String { String(cString: openblas_get_corename()) }

    /// Column-chunk width; part of the numerical definition of a product (see above).
    public static let chunkColumns = 256

    private static let singleThreaded: Void = { openblas_set_num_threads(1) }()

    /// `C = alpha * op(A) * op(B) + beta * C` for row-major float32 matrices, where op(A) is
    /// `m x k`, op(B) is `k x n` and C is `m x n`. Leading dimensions are the row strides.
    ///
    /// `chunk` overrides `chunkColumns`. Inference passes an image row's width, so that every
    /// call is one row of positions and an element's value depends only on its own row, not on
    /// which other rows share the product: that is what lets `BandedInference` compute any band
    /// of rows with the whole image's floats. (OpenBLAS's result for an element depends on the
    /// width of the call it is in.) `threaded: false` runs the chunks on the calling thread, for
    /// callers that share out the work themselves.
    public static func sgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, chunk: Int? = nil,
                             threaded: Bool = true) {
        _ = singleThreaded
        guard m > 0, n > 0 else { return }
        let chunkColumns = max(1, chunk ?? Self.chunkColumns)
        let chunks = (n + chunkColumns - 1) / chunkColumns
        let ta = transposeA ? CblasTrans : CblasNoTrans, tb = transposeB ? CblasTrans : CblasNoTrans
        func run(_ range: Range<Int>) {
            for j in range {
                let start = j * chunkColumns, width = min(chunkColumns, n - start)
                // Columns start..<start+width of op(B): offset by columns of B, or rows of B^T.
                let bChunk = transposeB ? b + start * ldb : b + start
                cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(width), Int32(k), alpha, a, Int32(lda),
                            bChunk, Int32(ldb), beta, c + start, Int32(ldc))
            }
        }
        if threaded { Parallel.forRanges(chunks, run) } else { run(0..<chunks) }
    }

    /// Width of the slices of `k` that `accumulateProductTransposed` shares out; part of the
    /// numerical definition of its result, as `chunkColumns` is of `sgemm`'s.
    public static let sliceDepth = 2048

    /// `C += A * B^T`, where A is `m x k` and B is `n x k` (row-major, both contiguous along k):
    /// a weight gradient, summed over an image's positions (k). When C is too narrow for
    /// `sgemm`'s column chunks to share out (the tail's 16 x 144, a GDN's 96 x 96) but k is
    /// long, k is cut into slices of `sliceDepth`, each slice's product is computed on its own
    /// (the threads share the slices), and the slices are added into C in order. The cut
    /// depends only on the shapes, so the result does not depend on the thread count.
    public static func accumulateProductTransposed(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                                   b: UnsafePointer<Float>, ldb: Int,
                                                   c: UnsafeMutablePointer<Float>, ldc: Int) {
        _ = singleThreaded
        guard m > 0, n > 0, k > 0 else { return }
        let slices = (k + sliceDepth - 1) / sliceDepth
        guard n <= chunkColumns, slices >= 2 else {
            sgemm(transposeB: true, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: 1, c: c, ldc: ldc)
            return
        }
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: slices * m * n)
        defer { partials.deallocate() }
        Parallel.forRanges(slices) { range in
            for s in range {
                let start = s * sliceDepth, depth = min(sliceDepth, k - start)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(depth), 1, a + start, Int32(lda),
                            b + start, Int32(ldb), 0, partials + s * m * n, Int32(n))
            }
        }
        for i in 0..<m {
            let row = c + i * ldc
            for s in 0..<slices {
                let p = partials + (s * m + i) * n
                for j in 0..<n { row[j] += p[j] }
            }
        }
    }

    /// `C = A * B` (`m x k` times `k x n`, row-major float64), its columns shared among the
    /// threads. Used where the result must be exact on every machine: when every element of A
    /// and B is an integer and every partial sum stays below 2^53 in magnitude, each addition is
    /// exact, so neither the order a kernel adds in nor the split into calls can change the
    /// result (`IntegerHyperSynthesis`).
    public static func dgemm(transposeA: Bool = false, m: Int, n: Int, k: Int, a: UnsafePointer<Double>, lda: Int,
                             b: UnsafePointer<Double>, ldb: Int, c: UnsafeMutablePointer<Double>, ldc: Int) {
        _ = singleThreaded
        guard m > 0, n > 0 else { return }
        Parallel.forRanges(n, minimumPerThread: 64) { range in
            cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, CblasNoTrans, Int32(m), Int32(range.count), Int32(k), 1,
                        a, Int32(lda), b + range.lowerBound, Int32(ldb), 0, c + range.lowerBound, Int32(ldc))
        }
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

    /// The raw single call, for measuring the machine's ceiling (`EngineBench`).
    public static func rawSgemm(threads: Int, m: Int, n: Int, k: Int, a: UnsafePointer<Float>,
                                b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
        openblas_set_num_threads(Int32(threads))
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n), 0, c, Int32(n))
        openblas_set_num_threads(1)
    }
}
