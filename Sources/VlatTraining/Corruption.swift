import VlatTensor

/// Degradations applied to clean crops to make (corrupted, clean) training pairs, reproducible
/// from a generator: additive white Gaussian noise and Gaussian blur, each with a sigma drawn
/// uniformly per image from a range. Sigmas are in 0...255 units for noise and in pixels for blur.
public struct Corruption: Sendable, Equatable, Codable {
    public var noiseSigma: ClosedRange<Float>?
    public var blurSigma: ClosedRange<Float>?
    /// Clip the corrupted values to [0, 1], as an 8-bit image would be.
    public var clip: Bool

    public init(noiseSigma: ClosedRange<Float>? = nil, blurSigma: ClosedRange<Float>? = nil, clip: Bool = true) {
        self.noiseSigma = noiseSigma
        self.blurSigma = blurSigma
        self.clip = clip
    }

    /// Corrupts each image of a `[N, C, H, W]` batch: blur first (the camera), then noise (the sensor).
    public func apply(_ x: Tensor, generator g: inout SeededGenerator) -> Tensor {
        var out = x
        let plane = x.h * x.w
        for b in 0..<x.n {
            if let range = blurSigma {
                let sigma = range.lowerBound + (range.upperBound - range.lowerBound) * g.uniform()
                for c in 0..<x.c {
                    let offset = (b * x.c + c) * plane
                    Corruption.blur(&out.data, offset: offset, width: x.w, height: x.h, sigma: sigma)
                }
            }
            if let range = noiseSigma {
                let sigma = (range.lowerBound + (range.upperBound - range.lowerBound) * g.uniform()) / 255
                for i in (b * x.c * plane)..<((b + 1) * x.c * plane) { out.data[i] += sigma * g.normal() }
            }
        }
        if clip { for i in 0..<out.count { out.data[i] = min(1, max(0, out.data[i])) } }
        return out
    }

    /// Normalised Gaussian kernel of radius ceil(3 sigma).
    public static func gaussianKernel(sigma: Float) -> [Float] {
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        let k = (-radius...radius).map { exp(-Float($0 * $0) / (2 * sigma * sigma)) }
        let s = k.reduce(0, +)
        return k.map { $0 / s }
    }

    /// Separable Gaussian blur of one plane in place, edges replicated. Sigma under 0.05 is a no-op.
    public static func blur(_ data: inout [Float], offset: Int, width: Int, height: Int, sigma: Float) {
        guard sigma >= 0.05 else { return }
        let k = gaussianKernel(sigma: sigma), r = k.count / 2
        var tmp = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                var s: Float = 0
                for t in -r...r { s += k[t + r] * data[offset + y * width + min(width - 1, max(0, x + t))] }
                tmp[y * width + x] = s
            }
        }
        for y in 0..<height {
            for x in 0..<width {
                var s: Float = 0
                for t in -r...r { s += k[t + r] * tmp[min(height - 1, max(0, y + t)) * width + x] }
                data[offset + y * width + x] = s
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
