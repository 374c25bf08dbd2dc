import Foundation

/// The orthonormal 8x8 DCT-II and its inverse, in doubles: `X = C x Cᵀ` with
/// `C[k][n] = a(k) cos(pi (2n + 1) k / 16)`, `a(0) = sqrt(1/8)`, `a(k) = sqrt(2/8)`. Orthonormal,
/// so a coefficient's error is the pixels' error (the detail layer's step is in pixel units).
/// The inverse of the forward is the identity to about 1e-13 (`DetailLayerTests`).
///
/// A block is eight rows of eight lanes. Every output is a sum over its eight terms in index
/// order, starting from zero, as the plain triple loop computes it (products and sums apart, never
/// fused), so results do not depend on how the lanes are vectorized.
enum BlockDCT {
    static let size = 8
    typealias Row = SIMD8<Double>

    /// `C`, row-major.
    static let basis: [Double] = (0..<64).map { i in
        let (k, n) = (i / 8, i % 8)
        return (k == 0 ? (1.0 / 8).squareRoot() : (2.0 / 8).squareRoot()) * cos(Double.pi * Double(2 * n + 1) * Double(k) / 16)
    }
    /// `C`'s rows, and its columns (the rows of `Cᵀ`).
    static let rows: [Row] = (0..<8).map { k in Row((0..<8).map { basis[k * 8 + $0] }) }
    static let columns: [Row] = (0..<8).map { n in Row((0..<8).map { basis[$0 * 8 + n] }) }

    /// The coefficients of the 8x8 block `x` (row-major), into `out` (row-major).
    static func forward(_ x: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>) {
        columns.withUnsafeBufferPointer { ct in rows.withUnsafeBufferPointer { c in
            // Rows: t = x Cᵀ (t[r][k] = sum over n of x[r][n] C[k][n]), then columns: out = C t.
            var t = (Row(), Row(), Row(), Row(), Row(), Row(), Row(), Row())
            withUnsafeMutableBytes(of: &t) { tb in
                let t = tb.baseAddress!.assumingMemoryBound(to: Row.self)
                for r in 0..<8 {
                    var s = Row()
                    for n in 0..<8 { s += Row(repeating: x[r * 8 + n]) * ct[n] }
                    t[r] = s
                }
                let o = UnsafeMutableRawPointer(out)
                for k in 0..<8 {
                    var s = Row()
                    for n in 0..<8 { s += Row(repeating: c[k][n]) * t[n] }
                    o.storeBytes(of: s, toByteOffset: 64 * k, as: Row.self)
                }
            }
        } }
    }

    /// The 8x8 block (row-major) whose coefficients are `X` (row-major): `Cᵀ X C`.
    static func inverse(_ X: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>) {
        columns.withUnsafeBufferPointer { ct in rows.withUnsafeBufferPointer { c in
            var t = (Row(), Row(), Row(), Row(), Row(), Row(), Row(), Row())
            withUnsafeMutableBytes(of: &t) { tb in
                let t = tb.baseAddress!.assumingMemoryBound(to: Row.self)
                var nonzero = 0
                for k in 0..<8 {
                    // Quantized blocks are sparse: a row of zeros stays zeros.
                    var s = Row()
                    if (0..<8).contains(where: { X[k * 8 + $0] != 0 }) {
                        for j in 0..<8 { s += Row(repeating: X[k * 8 + j]) * c[j] }
                        nonzero = k + 1
                    }
                    t[k] = s
                }
                let o = UnsafeMutableRawPointer(out)
                for m in 0..<8 {
                    var s = Row()
                    for k in 0..<nonzero { s += Row(repeating: ct[m][k]) * t[k] }
                    // Rows of t past the last nonzero one add +0.
                    o.storeBytes(of: s, toByteOffset: 64 * m, as: Row.self)
                }
            }
        } }
    }
}
