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

    /// Corrupts each image of a `[N, C, H, W]` batch with a `Degradation` of its own: blur
    /// first (the camera), then noise (the sensor), sigmas drawn from the ranges.
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
            func draw(_ range: ClosedRange<Float>?) -> Double {
                range.map { Double($0.lowerBound + ($0.upperBound - $0.lowerBound) * g.uniform()) } ?? 0
            }
            let blur = draw(blurSigma), noise = draw(noiseSigma)
            let degradation = Degradation(blurSigma: blur, noiseSigma: noise)
            for c in 0..<x.c {
                let offset = (b * x.c + c) * plane
                let values = degradation.apply(out.data[offset..<(offset + plane)].map(Double.init), width: x.w, height: x.h,
                                               peak: 1, clip: clip) { Double(g.normal()) }
                for i in 0..<plane { out.data[offset + i] = Float(values[i]) }
            }
        }
        return out
    }
}
