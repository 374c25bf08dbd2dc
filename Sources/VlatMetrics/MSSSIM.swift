import VlatImageIO

/// Multi-scale structural similarity (Wang, Simoncelli, Bovik 2003), computed exactly as
/// pytorch_msssim's `ms_ssim(x, y, data_range=255)`, the implementation behind CompressAI's
/// published MS-SSIM numbers:
///
/// - each of R, G, B separately, on 0...255 values in Float64; the result is the mean over the
///   three channels (grey images are compared as R = G = B);
/// - 11-tap Gaussian window, sigma 1.5, normalised, applied separably with no padding ("valid");
/// - K1 = 0.01, K2 = 0.03; five scales with weights 0.0448, 0.2856, 0.3001, 0.2363, 0.1333;
///   contrast-structure at scales 1-4, full SSIM at scale 5, each clamped at 0 before the
///   weighted product;
/// - between scales, 2x2 average pooling; a side of odd length is zero-padded by one on both
///   ends first, with the zeros counted in the average (PyTorch `avg_pool2d` semantics).
///
/// The definition needs the shorter side to exceed 160 pixels; smaller images give nil.
public enum MSSSIM {
    public static let weights: [Double] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
    public static let windowSize = 11
    public static let sigma = 1.5
    /// Shortest side accepted.
    public static let minimumSide = (windowSize - 1) * 16 + 1

    public static func compute(reference: Image, distorted: Image) throws -> Double? {
        guard reference.width == distorted.width, reference.height == distorted.height else {
            throw MetricsError.shapeMismatch("\(reference.width)x\(reference.height) vs \(distorted.width)x\(distorted.height)")
        }
        guard min(reference.width, reference.height) >= minimumSide else { return nil }
        return channelPlanes(reference, distorted).map { plane($0.0, $0.1) }.reduce(0, +) / 3
    }

    /// Single-scale SSIM with the same window and constants (mean over R, G, B). This equals
    /// scikit-image's `structural_similarity(gaussian_weights=True, sigma=1.5,
    /// use_sample_covariance=False, data_range=255)`. Needs both sides of at least 11 pixels.
    public static func ssim(reference: Image, distorted: Image) throws -> Double? {
        guard reference.width == distorted.width, reference.height == distorted.height else {
            throw MetricsError.shapeMismatch("\(reference.width)x\(reference.height) vs \(distorted.width)x\(distorted.height)")
        }
        guard min(reference.width, reference.height) >= windowSize else { return nil }
        return channelPlanes(reference, distorted).map { ssimComponents($0.0, $0.1).ssim }.reduce(0, +) / 3
    }

    /// The R, G and B planes of both images as doubles.
    static func channelPlanes(_ reference: Image, _ distorted: Image) -> [(Plane, Plane)] {
        let a = reference.rgbSamples(), b = distorted.rgbSamples()
        let n = reference.pixelCount
        return (0..<3).map { c in
            var x = [Double](repeating: 0, count: n), y = [Double](repeating: 0, count: n)
            for i in 0..<n { x[i] = Double(a[3 * i + c]); y[i] = Double(b[3 * i + c]) }
            return (Plane(width: reference.width, height: reference.height, values: x),
                    Plane(width: reference.width, height: reference.height, values: y))
        }
    }

    /// A single-channel image of doubles.
    struct Plane {
        var width: Int
        var height: Int
        var values: [Double]
    }

    static let window: [Double] = {
        let half = windowSize / 2
        let g = (0..<windowSize).map { i -> Double in
            let d = Double(i - half)
            return exp(-(d * d) / (2 * sigma * sigma))
        }
        let s = g.reduce(0, +)
        return g.map { $0 / s }
    }()

    /// MS-SSIM of one channel pair.
    static func plane(_ x0: Plane, _ y0: Plane) -> Double {
        var x = x0, y = y0
        var result = 1.0
        for level in 0..<weights.count {
            let (ssim, cs) = ssimComponents(x, y)
            if level < weights.count - 1 {
                result *= pow(max(cs, 0), weights[level])
                x = averagePool(x); y = averagePool(y)
            } else {
                result *= pow(max(ssim, 0), weights[level])
            }
        }
        return result
    }

    /// Mean SSIM and mean contrast-structure term at one scale.
    static func ssimComponents(_ x: Plane, _ y: Plane) -> (ssim: Double, cs: Double) {
        let c1 = (0.01 * 255.0) * (0.01 * 255.0), c2 = (0.03 * 255.0) * (0.03 * 255.0)
        let n = x.values.count
        var xx = [Double](repeating: 0, count: n), yy = xx, xy = xx
        for i in 0..<n {
            xx[i] = x.values[i] * x.values[i]
            yy[i] = y.values[i] * y.values[i]
            xy[i] = x.values[i] * y.values[i]
        }
        let mu1 = filter(x.values, x.width, x.height), mu2 = filter(y.values, x.width, x.height)
        let sxx = filter(xx, x.width, x.height), syy = filter(yy, x.width, x.height), sxy = filter(xy, x.width, x.height)
        var ssimSum = 0.0, csSum = 0.0
        for i in 0..<mu1.count {
            let m1 = mu1[i], m2 = mu2[i]
            let s1 = sxx[i] - m1 * m1, s2 = syy[i] - m2 * m2, s12 = sxy[i] - m1 * m2
            let cs = (2 * s12 + c2) / (s1 + s2 + c2)
            csSum += cs
            ssimSum += (2 * m1 * m2 + c1) / (m1 * m1 + m2 * m2 + c1) * cs
        }
        let count = Double(mu1.count)
        return (ssimSum / count, csSum / count)
    }

    /// Separable Gaussian filter, valid region only: output is (h - 10) x (w - 10).
    static func filter(_ v: [Double], _ w: Int, _ h: Int) -> [Double] {
        let k = windowSize, ow = w - k + 1, oh = h - k + 1
        var horizontal = [Double](repeating: 0, count: ow * h)
        var out = [Double](repeating: 0, count: ow * oh)
        window.withUnsafeBufferPointer { g in
            v.withUnsafeBufferPointer { src in
                horizontal.withUnsafeMutableBufferPointer { tmp in
                    for r in 0..<h {
                        let row = r * w
                        for c in 0..<ow {
                            var s = 0.0
                            for t in 0..<k { s += g[t] * src[row + c + t] }
                            tmp[r * ow + c] = s
                        }
                    }
                }
            }
            horizontal.withUnsafeBufferPointer { tmp in
                out.withUnsafeMutableBufferPointer { dst in
                    for r in 0..<oh {
                        for c in 0..<ow { dst[r * ow + c] = 0 }
                        for t in 0..<k {
                            let gt = g[t], base = (r + t) * ow
                            for c in 0..<ow { dst[r * ow + c] += gt * tmp[base + c] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// 2x2 average pooling with PyTorch's padding for odd sides (see the type's documentation).
    static func averagePool(_ p: Plane) -> Plane {
        let padX = p.width % 2, padY = p.height % 2
        let ow = (p.width + 2 * padX - 2) / 2 + 1, oh = (p.height + 2 * padY - 2) / 2 + 1
        var out = [Double](repeating: 0, count: ow * oh)
        for r in 0..<oh {
            for c in 0..<ow {
                var s = 0.0
                for dy in 0..<2 {
                    let y = 2 * r - padY + dy
                    guard y >= 0, y < p.height else { continue }
                    for dx in 0..<2 {
                        let x = 2 * c - padX + dx
                        guard x >= 0, x < p.width else { continue }
                        s += p.values[y * p.width + x]
                    }
                }
                out[r * ow + c] = s / 4
            }
        }
        return Plane(width: ow, height: oh, values: out)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
