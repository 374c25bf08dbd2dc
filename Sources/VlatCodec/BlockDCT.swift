import Foundation

/// The orthonormal 8x8 DCT-II and its inverse, in doubles: `X = C x Cᵀ` with
/// `C[k][n] = a(k) cos(pi (2n + 1) k / 16)`, `a(0) = sqrt(1/8)`, `a(k) = sqrt(2/8)`. Orthonormal,
/// so a coefficient's error is the pixels' error (the detail layer's step is in pixel units).
/// The inverse of the forward is the identity to about 1e-13 (`DetailLayerTests`).
enum BlockDCT {
    static let size = 8

    /// `C`, row-major.
    static let basis: [Double] = (0..<64).map { i in
        let (k, n) = (i / 8, i % 8)
        return (k == 0 ? (1.0 / 8).squareRoot() : (2.0 / 8).squareRoot()) * cos(Double.pi * Double(2 * n + 1) * Double(k) / 16)
    }

    /// The coefficients of the 8x8 block `x` (row-major), into `out` (row-major).
    static func forward(_ x: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 64) { t in basis.withUnsafeBufferPointer { c in
            // Rows: t = x Cᵀ, then columns: out = C t.
            for r in 0..<8 { for k in 0..<8 {
                var s = 0.0
                for n in 0..<8 { s += x[r * 8 + n] * c[k * 8 + n] }
                t[r * 8 + k] = s
            } }
            for k in 0..<8 { for col in 0..<8 {
                var s = 0.0
                for n in 0..<8 { s += c[k * 8 + n] * t[n * 8 + col] }
                out[k * 8 + col] = s
            } }
        } }
    }

    /// The 8x8 block (row-major) whose coefficients are `X` (row-major): `Cᵀ X C`.
    static func inverse(_ X: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 64) { t in basis.withUnsafeBufferPointer { c in
            for k in 0..<8 {
                // Quantized blocks are sparse: a row of zeros stays zeros.
                if (0..<8).allSatisfy({ X[k * 8 + $0] == 0 }) {
                    for n in 0..<8 { t[k * 8 + n] = 0 }
                    continue
                }
                for n in 0..<8 {
                    var s = 0.0
                    for j in 0..<8 { s += X[k * 8 + j] * c[j * 8 + n] }
                    t[k * 8 + n] = s
                }
            }
            for m in 0..<8 { for n in 0..<8 {
                var s = 0.0
                for k in 0..<8 { s += c[k * 8 + m] * t[k * 8 + n] }
                out[m * 8 + n] = s
            } }
        } }
    }
}
