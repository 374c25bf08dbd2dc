/// One point of a rate-distortion curve: rate in bits per pixel, quality in dB (PSNR) or any
/// other "higher is better" measure.
public struct RDPoint: Sendable, Equatable, Codable {
    public var rate: Double
    public var quality: Double

    public init(rate: Double, quality: Double) {
        self.rate = rate
        self.quality = quality
    }
}

/// Bjontegaard delta rate and delta quality between two rate-distortion curves (VCEG-M33, 2001).
///
/// BD-rate is the average difference of log-rate over the overlapping quality interval, reported
/// as a percentage: negative means `test` needs fewer bits than `reference` for the same quality.
/// BD-PSNR is the average quality difference over the overlapping log-rate interval, in dB.
///
/// Two ways to draw each curve through its points:
/// - `.cubic`: the original method, a least-squares cubic polynomial (needs 4 points);
/// - `.pchip`: a monotone piecewise-cubic Hermite interpolant (Fritsch-Carlson, as SciPy's
///   `PchipInterpolator`), which passes through every point and behaves with many points
///   (needs 2 points). This is the default.
///
/// Integrals are exact for both. Logarithms are natural; the percentage does not depend on the
/// base.
public enum Bjontegaard {
    public enum Interpolation: String, Sendable, CaseIterable {
        case cubic, pchip
    }

    /// BD-rate of `test` against `reference`, in percent.
    public static func deltaRate(reference: [RDPoint], test: [RDPoint],
                                 interpolation: Interpolation = .pchip) throws -> Double {
        let r = try prepare(reference, name: "reference", interpolation: interpolation)
        let t = try prepare(test, name: "test", interpolation: interpolation)
        // log-rate as a function of quality.
        let rx = r.map(\.quality), ry = r.map { log($0.rate) }
        let tx = t.map(\.quality), ty = t.map { log($0.rate) }
        let lo = max(rx.min()!, tx.min()!), hi = min(rx.max()!, tx.max()!)
        guard hi > lo else { throw MetricsError.noOverlap }
        let ir = try integral(xs: rx, ys: ry, from: lo, to: hi, interpolation: interpolation)
        let it = try integral(xs: tx, ys: ty, from: lo, to: hi, interpolation: interpolation)
        return (exp((it - ir) / (hi - lo)) - 1) * 100
    }

    /// BD-PSNR (BD-quality) of `test` against `reference`, in the quality's unit (dB for PSNR).
    public static func deltaQuality(reference: [RDPoint], test: [RDPoint],
                                    interpolation: Interpolation = .pchip) throws -> Double {
        let r = try prepare(reference, name: "reference", interpolation: interpolation)
        let t = try prepare(test, name: "test", interpolation: interpolation)
        func byRate(_ p: [RDPoint]) -> [RDPoint] { p.sorted { $0.rate < $1.rate } }
        let rs = byRate(r), ts = byRate(t)
        let rx = rs.map { log($0.rate) }, ry = rs.map(\.quality)
        let tx = ts.map { log($0.rate) }, ty = ts.map(\.quality)
        let lo = max(rx.first!, tx.first!), hi = min(rx.last!, tx.last!)
        guard hi > lo else { throw MetricsError.noOverlap }
        let ir = try integral(xs: rx, ys: ry, from: lo, to: hi, interpolation: interpolation)
        let it = try integral(xs: tx, ys: ty, from: lo, to: hi, interpolation: interpolation)
        return (it - ir) / (hi - lo)
    }

    /// Validates points and sorts them by quality.
    static func prepare(_ points: [RDPoint], name: String, interpolation: Interpolation) throws -> [RDPoint] {
        for p in points where !(p.rate > 0 && p.rate.isFinite && p.quality.isFinite) {
            throw MetricsError.invalidPoint("\(name): rate \(p.rate), quality \(p.quality)")
        }
        let sorted = points.sorted { $0.quality < $1.quality }
        var distinct: [RDPoint] = []
        for p in sorted where distinct.last?.quality != p.quality { distinct.append(p) }
        let need = interpolation == .cubic ? 4 : 2
        guard distinct.count >= need else {
            throw MetricsError.notEnoughPoints(curve: name, have: distinct.count, need: need)
        }
        return distinct
    }

    /// Integral over [lo, hi] of the curve through (xs, ys); xs strictly increasing.
    static func integral(xs: [Double], ys: [Double], from lo: Double, to hi: Double,
                         interpolation: Interpolation) throws -> Double {
        switch interpolation {
        case .cubic:
            return CubicFit(xs: xs, ys: ys).integral(from: lo, to: hi)
        case .pchip:
            return PCHIP(xs: xs, ys: ys).integral(from: lo, to: hi)
        }
    }
}

/// Least-squares cubic through points, fitted on a centred and scaled abscissa so the normal
/// equations stay well conditioned (PSNR^3 is ~10^4 otherwise).
struct CubicFit {
    let centre: Double
    let scale: Double
    /// Coefficients of t^0...t^3, where t = (x - centre) / scale.
    let coefficients: [Double]

    init(xs: [Double], ys: [Double]) {
        let c = xs.reduce(0, +) / Double(xs.count)
        let sc = max(xs.map { abs($0 - c) }.max()!, 1e-300)
        centre = c
        scale = sc
        let ts = xs.map { ($0 - c) / sc }
        var normal = [[Double]](repeating: [Double](repeating: 0, count: 5), count: 4)
        for (t, y) in zip(ts, ys) {
            let powers = [1, t, t * t, t * t * t]
            for i in 0..<4 {
                for j in 0..<4 { normal[i][j] += powers[i] * powers[j] }
                normal[i][4] += powers[i] * y
            }
        }
        coefficients = CubicFit.solve(normal)
    }

    /// Gaussian elimination with partial pivoting on a 4x5 augmented matrix.
    static func solve(_ m0: [[Double]]) -> [Double] {
        var m = m0
        let n = 4
        for col in 0..<n {
            let pivot = (col..<n).max { abs(m[$0][col]) < abs(m[$1][col]) }!
            m.swapAt(col, pivot)
            for row in (col + 1)..<n {
                let f = m[row][col] / m[col][col]
                for k in col...n { m[row][k] -= f * m[col][k] }
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var s = m[row][n]
            for k in (row + 1)..<n { s -= m[row][k] * x[k] }
            x[row] = s / m[row][row]
        }
        return x
    }

    func integral(from lo: Double, to hi: Double) -> Double {
        func antiderivative(_ t: Double) -> Double {
            coefficients.enumerated().reduce(0) { $0 + $1.element * pow(t, Double($1.offset + 1)) / Double($1.offset + 1) }
        }
        return scale * (antiderivative((hi - centre) / scale) - antiderivative((lo - centre) / scale))
    }
}

/// Monotone piecewise cubic Hermite interpolation (Fritsch & Carlson 1980), with the same
/// derivative and end-point rules as SciPy's `PchipInterpolator`.
struct PCHIP {
    let xs: [Double]
    let ys: [Double]
    let slopes: [Double]

    init(xs: [Double], ys: [Double]) {
        self.xs = xs
        self.ys = ys
        let n = xs.count
        let h = (0..<n - 1).map { xs[$0 + 1] - xs[$0] }
        let m = (0..<n - 1).map { (ys[$0 + 1] - ys[$0]) / h[$0] }
        var d = [Double](repeating: 0, count: n)
        if n == 2 {
            d = [m[0], m[0]]
        } else {
            for k in 1..<n - 1 {
                if m[k - 1] * m[k] <= 0 {
                    d[k] = 0
                } else {
                    let w1 = 2 * h[k] + h[k - 1], w2 = h[k] + 2 * h[k - 1]
                    d[k] = (w1 + w2) / (w1 / m[k - 1] + w2 / m[k])
                }
            }
            d[0] = PCHIP.edge(h0: h[0], h1: h[1], m0: m[0], m1: m[1])
            d[n - 1] = PCHIP.edge(h0: h[n - 2], h1: h[n - 3], m0: m[n - 2], m1: m[n - 3])
        }
        slopes = d
    }

    /// One-sided three-point estimate, shape-preserving.
    static func edge(h0: Double, h1: Double, m0: Double, m1: Double) -> Double {
        func sign(_ v: Double) -> Int { v > 0 ? 1 : (v < 0 ? -1 : 0) }
        let d = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
        if sign(d) != sign(m0) { return 0 }
        if sign(m0) != sign(m1) && abs(d) > 3 * abs(m0) { return 3 * m0 }
        return d
    }

    /// Exact integral of the interpolant over [lo, hi] (inside [xs.first, xs.last]).
    func integral(from lo: Double, to hi: Double) -> Double {
        var total = 0.0
        for k in 0..<xs.count - 1 {
            let a = max(lo, xs[k]), b = min(hi, xs[k + 1])
            if b <= a { continue }
            total += segmentIntegral(k, from: a, to: b)
        }
        return total
    }

    /// Integral of segment k's cubic between a and b, via its power form in s = x - x_k.
    private func segmentIntegral(_ k: Int, from a: Double, to b: Double) -> Double {
        let h = xs[k + 1] - xs[k]
        let y0 = ys[k], y1 = ys[k + 1], d0 = slopes[k], d1 = slopes[k + 1]
        let slope = (y1 - y0) / h
        let c2 = (3 * slope - 2 * d0 - d1) / h
        let c3 = (d0 + d1 - 2 * slope) / (h * h)
        func f(_ s: Double) -> Double { y0 * s + d0 * s * s / 2 + c2 * s * s * s / 3 + c3 * s * s * s * s / 4 }
        return f(b - xs[k]) - f(a - xs[k])
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
