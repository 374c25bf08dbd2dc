import VlatImageIO

/// Peak signal-to-noise ratio of 8-bit images, peak 255.
///
/// All values are computed on the RGB samples (grey images are compared as R = G = B; alpha is
/// ignored) with Float64 accumulation. `rgb` is over all three channels jointly:
/// `10 log10(255^2 / mean((a - b)^2))`. `luma` is over Y = 0.299 R + 0.587 G + 0.114 B (full-range
/// BT.601, not rounded). Identical images give `+infinity`.
public struct PSNR: Sendable, Equatable {
    public var rgb: Double
    /// R, G, B separately.
    public var channels: [Double]
    public var luma: Double

    public static func compute(reference: Image, distorted: Image) throws -> PSNR {
        guard reference.width == distorted.width, reference.height == distorted.height else {
            throw MetricsError.shapeMismatch("\(reference.width)x\(reference.height) vs \(distorted.width)x\(distorted.height)")
        }
        let a = reference.rgbSamples(), b = distorted.rgbSamples()
        let n = reference.pixelCount
        var sums = [0.0, 0.0, 0.0]
        var lumaSum = 0.0
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for i in 0..<n {
                    let dr = Double(pa[3 * i]) - Double(pb[3 * i])
                    let dg = Double(pa[3 * i + 1]) - Double(pb[3 * i + 1])
                    let db = Double(pa[3 * i + 2]) - Double(pb[3 * i + 2])
                    sums[0] += dr * dr; sums[1] += dg * dg; sums[2] += db * db
                    let dy = 0.299 * dr + 0.587 * dg + 0.114 * db
                    lumaSum += dy * dy
                }
            }
        }
        let count = Double(n)
        return PSNR(rgb: fromMSE((sums[0] + sums[1] + sums[2]) / (3 * count)),
                    channels: sums.map { fromMSE($0 / count) },
                    luma: fromMSE(lumaSum / count))
    }

    /// `10 log10(255^2 / mse)`; infinity for zero error.
    public static func fromMSE(_ mse: Double, peak: Double = 255) -> Double {
        mse <= 0 ? .infinity : 10 * log10(peak * peak / mse)
    }
}

/// Bits per pixel of a coded image: `8 * bytes / (width * height)`.
public func bitsPerPixel(bytes: Int, width: Int, height: Int) -> Double {
    Double(bytes) * 8 / Double(width * height)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
