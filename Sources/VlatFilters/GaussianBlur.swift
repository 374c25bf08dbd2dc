/// Gaussian blur: separable, normalised kernel of radius ceil(3 sigma), edges replicated.
public enum GaussianBlur {
    /// The 1-D kernel, summing to 1.
    public static func kernel(sigma: Double) -> [Double] {
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        let k = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let s = k.reduce(0, +)
        return k.map { $0 / s }
    }

    /// The 2-D point-spread function (outer product of the 1-D kernel), for deconvolution.
    public static func psf(sigma: Double) -> (size: Int, values: [Double]) {
        let k = kernel(sigma: sigma)
        return (k.count, k.flatMap { a in k.map { a * $0 } })
    }

    /// Blurs one plane; sigma under 0.05 returns it unchanged.
    public static func apply(_ plane: [Double], width: Int, height: Int, sigma: Double) -> [Double] {
        guard sigma >= 0.05 else { return plane }
        let k = kernel(sigma: sigma), r = k.count / 2
        var tmp = [Double](repeating: 0, count: plane.count), out = tmp
        for y in 0..<height {
            for x in 0..<width {
                var s = 0.0
                for t in -r...r { s += k[t + r] * plane[y * width + min(width - 1, max(0, x + t))] }
                tmp[y * width + x] = s
            }
        }
        for y in 0..<height {
            for x in 0..<width {
                var s = 0.0
                for t in -r...r { s += k[t + r] * tmp[min(height - 1, max(0, y + t)) * width + x] }
                out[y * width + x] = s
            }
        }
        return out
    }

    public static func apply(_ p: Planes, sigma: Double) -> Planes {
        p.map { apply($0, width: p.width, height: p.height, sigma: sigma) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
