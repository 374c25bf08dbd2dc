/// Radix-2 complex FFT (iterative Cooley-Tukey), in place, on separate real and imaginary
/// arrays of a power-of-two length; and the 2-D transform of a row-major array.
public enum FFT {
    public static func transform(_ re: inout [Double], _ im: inout [Double], inverse: Bool) {
        let n = re.count
        precondition(n > 0 && n & (n - 1) == 0 && im.count == n, "FFT length must be a power of two")
        var j = 0
        for i in 1..<n {
            var bit = n >> 1
            while j & bit != 0 { j ^= bit; bit >>= 1 }
            j |= bit
            if i < j { re.swapAt(i, j); im.swapAt(i, j) }
        }
        var length = 2
        while length <= n {
            let angle = (inverse ? 2 : -2) * Double.pi / Double(length)
            let (wr, wi) = (cos(angle), sin(angle))
            var start = 0
            while start < n {
                var (cr, ci) = (1.0, 0.0)
                for k in 0..<(length / 2) {
                    let a = start + k, b = a + length / 2
                    let tr = re[b] * cr - im[b] * ci, ti = re[b] * ci + im[b] * cr
                    re[b] = re[a] - tr; im[b] = im[a] - ti
                    re[a] += tr; im[a] += ti
                    (cr, ci) = (cr * wr - ci * wi, cr * wi + ci * wr)
                }
                start += length
            }
            length <<= 1
        }
        if inverse { for i in 0..<n { re[i] /= Double(n); im[i] /= Double(n) } }
    }

    /// 2-D FFT of a `rows x cols` array (both powers of two).
    public static func transform2D(_ re: inout [Double], _ im: inout [Double], rows: Int, cols: Int, inverse: Bool) {
        var rr = [Double](repeating: 0, count: cols), ri = rr
        for r in 0..<rows {
            for c in 0..<cols { rr[c] = re[r * cols + c]; ri[c] = im[r * cols + c] }
            transform(&rr, &ri, inverse: inverse)
            for c in 0..<cols { re[r * cols + c] = rr[c]; im[r * cols + c] = ri[c] }
        }
        var cr = [Double](repeating: 0, count: rows), ci = cr
        for c in 0..<cols {
            for r in 0..<rows { cr[r] = re[r * cols + c]; ci[r] = im[r * cols + c] }
            transform(&cr, &ci, inverse: inverse)
            for r in 0..<rows { re[r * cols + c] = cr[r]; im[r * cols + c] = ci[r] }
        }
    }

    public static func nextPowerOfTwo(_ n: Int) -> Int { var p = 1; while p < n { p <<= 1 }; return p }
}

#if canImport(Glibc)
import Glibc
#endif
