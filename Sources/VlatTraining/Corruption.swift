import VlatFilters
import VlatTensor

/// Degradations applied to clean crops to make (corrupted, clean) training pairs, reproducible
/// from a generator: additive white Gaussian noise and Gaussian blur, each with a sigma drawn
/// uniformly per image from a range. Sigmas are in 0...255 units for noise and in pixels for blur.
public struct Corruption: Sendable, Equatable, Codable {
    public var noiseSigma: ClosedRange<Float>?
    public var blurSigma: ClosedRange<Float>?
    /// Clip the corrupted values to [0, 1], as an 8-bit image would be.
    public var clip: Bool
    /// With both ranges: each image gets noise only, blur only, or both, with probability 1/3
    /// each (rather than always both), so one network learns all three cases.
    public var mixed: Bool

    public init(noiseSigma: ClosedRange<Float>? = nil, blurSigma: ClosedRange<Float>? = nil, clip: Bool = true, mixed: Bool = false) {
        self.noiseSigma = noiseSigma
        self.blurSigma = blurSigma
        self.clip = clip
        self.mixed = mixed
    }

    /// Corrupts each image of a `[N, C, H, W]` batch: blur first (the camera), then noise (the sensor).
    public func apply(_ x: Tensor, generator g: inout SeededGenerator) -> Tensor {
        var out = x
        let plane = x.h * x.w
        for b in 0..<x.n {
            var blurSigma = self.blurSigma, noiseSigma = self.noiseSigma
            if mixed && blurSigma != nil && noiseSigma != nil {
                switch Int(g.uniform() * 3) {
                case 0: blurSigma = nil
                case 1: noiseSigma = nil
                default: break
                }
            }
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

    /// Gaussian blur of one plane in place (VlatFilters' blur: radius ceil(3 sigma), edges
    /// replicated). Sigma under 0.05 is a no-op.
    public static func blur(_ data: inout [Float], offset: Int, width: Int, height: Int, sigma: Float) {
        let plane = data[offset..<(offset + width * height)].map { Double($0) }
        let blurred = GaussianBlur.apply(plane, width: width, height: height, sigma: Double(sigma))
        for i in 0..<blurred.count { data[offset + i] = Float(blurred[i]) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
