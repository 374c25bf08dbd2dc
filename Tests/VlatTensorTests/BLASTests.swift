import Testing
import VlatTestSupport
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

    /// `C += A * B^T` (A m x k, B n x k): sliced along k when C is narrow and k long (16 x 27 over
    /// a ragged last slice), a plain product otherwise (a wide C; a short k).
    @Test(arguments: [(16, 27, 5000), (3, 144, 2 * BLAS.sliceDepth), (5, 300, 4100), (7, 9, 1000)])
    func accumulatesProductsTransposed(m: Int, n: Int, k: Int) {
        var g = SeededGenerator(seed: 14)
        let a = (0..<(m * k)).map { _ in g.uniform() - 0.5 }, b = (0..<(n * k)).map { _ in g.uniform() - 0.5 }
        let start = (0..<(m * n)).map { _ in g.uniform() }
        var c = start
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            BLAS.accumulateProductTransposed(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: k,
                                             c: pc.baseAddress!, ldc: n)
        } } }
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var ref = Double(start[i * n + j])
                for p in 0..<k { ref += Double(a[i * k + p]) * Double(b[j * k + p]) }
                worst = max(worst, abs(Double(c[i * n + j]) - ref))
            }
        }
        // float32 sums of k terms of magnitude <= 1/4: error within sqrt(k) * eps * a few.
        #expect(worst < 1e-5 * Double(k).squareRoot())
    }

    @Test func namesItsKernelSet() {
        // openblas_get_corename: a name such as "Haswell" or "SkylakeX", never empty.
        #expect(!BLAS.kernelName.isEmpty)
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

@Suite("Determinism across thread counts")
struct DeterminismTests {
    @Test func productsAreBitIdenticalFor1And2Threads() {
        var g = SeededGenerator(seed: 9)
        let (m, n, k) = (37, 1000, 300) // several column chunks, a ragged last one
        let a = (0..<(m * k)).map { _ in g.uniform() - 0.5 }, b = (0..<(k * n)).map { _ in g.uniform() - 0.5 }
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let one = BLAS.matmul(a, b, m: m, n: n, k: k)
        Parallel.threads = 2
        let two = BLAS.matmul(a, b, m: m, n: n, k: k)
        #expect(one == two)
    }

    @Test func slicedProductsAreBitIdenticalFor1And2Threads() {
        var g = SeededGenerator(seed: 15)
        let (m, n, k) = (16, 144, 5 * BLAS.sliceDepth + 77)
        let a = (0..<(m * k)).map { _ in g.uniform() - 0.5 }, b = (0..<(n * k)).map { _ in g.uniform() - 0.5 }
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        func run(threads: Int) -> [Float] {
            Parallel.threads = threads
            var c = [Float](repeating: 0.25, count: m * n)
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                BLAS.accumulateProductTransposed(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: k,
                                                 c: pc.baseAddress!, ldc: n)
            } } }
            return c
        }
        #expect(run(threads: 1) == run(threads: 2))
    }

    /// Training, forward and backward: the images shared among the threads at small sizes
    /// (10x12, under one column chunk an image), the column chunks at larger ones (24x24).
    @Test(arguments: [(10, 12), (24, 24)])
    func trainingStepIsBitIdenticalFor1And2Threads(height: Int, width: Int) {
        var g = SeededGenerator(seed: 11)
        let model = Sequential([
            Conv2d(name: "a", inChannels: 4, outChannels: 8, kernel: 3, stride: 1, padding: 1, generator: &g),
            GDN(name: "g", channels: 8, inverse: false),
            ConvTranspose2d(name: "t", inChannels: 8, outChannels: 6, kernel: 5, stride: 2, padding: 2, outputPadding: 1, generator: &g),
            Conv2d(name: "p", inChannels: 6, outChannels: 3, kernel: 1, generator: &g),
            Conv2d(name: "d", inChannels: 3, outChannels: 5, kernel: 5, stride: 2, padding: 2, generator: &g)])
        let x = GradientCheck.random([3, 4, height, width], &g)
        let dy = GradientCheck.random([3, 5, height, width], &g)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        func step(threads: Int) -> [Tensor] {
            Parallel.threads = threads
            for p in model.parameters { p.zeroGrad() }
            let y = model.forward(x, training: true)
            let dx = model.backward(dy)
            return [y, dx] + model.parameters.map(\.grad)
        }
        #expect(step(threads: 1) == step(threads: 2))
    }

    @Test func convolutionStackIsBitIdenticalFor1And2Threads() {
        var g = SeededGenerator(seed: 10)
        let conv = Conv2d(name: "c", inChannels: 8, outChannels: 16, kernel: 5, stride: 2, padding: 2, generator: &g)
        let gdn = GDN(name: "g", channels: 16, inverse: false)
        let up = ConvTranspose2d(name: "t", inChannels: 16, outChannels: 3, kernel: 5, stride: 2, padding: 2, outputPadding: 1, generator: &g)
        let model = Sequential([conv, gdn, up])
        let x = GradientCheck.random([1, 8, 48, 80], &g)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let one = model.forward(x, training: false)
        Parallel.threads = 2
        let two = model.forward(x, training: false)
        #expect(one == two)
    }
}
