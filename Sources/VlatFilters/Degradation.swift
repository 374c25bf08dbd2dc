/// How a photo is degraded: Gaussian blur of `blurSigma` pixels (the camera; 0: none), then
/// white Gaussian noise of standard deviation `noiseSigma` on the 0...255 scale (the sensor; 0:
/// none), then clipping to the valid range. The one model behind what the denoiser trains on
/// (`Corruption` draws one per crop) and what the restoration benchmark measures
/// (`RestorationBench.Degradation`, one fixed per case).
///
/// ```swift
/// var g = SystemRandomNumberGenerator()
/// let noisy = Degradation(blurSigma: 1, noiseSigma: 25).apply(plane, width: w, height: h, peak: 255) { Double.random(in: -1...1) }
/// ```
public struct Degradation: Sendable, Equatable {
    public var blurSigma: Double
    public var noiseSigma: Double

    public init(blurSigma: Double = 0, noiseSigma: Double = 0) {
        self.blurSigma = blurSigma
        self.noiseSigma = noiseSigma
    }

    /// One plane of values on a scale where white is `peak` (1 or 255), degraded: blurred, then
    /// each value (in order) plus `noiseSigma * peak / 255` times a draw of `normal`, then
    /// clamped to 0...peak when `clip`.
    public func apply(_ plane: [Double], width: Int, height: Int, peak: Double, clip: Bool = true, normal: () -> Double) -> [Double] {
        var out = blurSigma > 0 ? GaussianBlur.apply(plane, width: width, height: height, sigma: blurSigma) : plane
        if noiseSigma > 0 {
            let sigma = peak == 255 ? noiseSigma : noiseSigma / 255 * peak
            for i in out.indices { out[i] += sigma * normal() }
        }
        if clip { for i in out.indices { out[i] = min(peak, max(0, out[i])) } }
        return out
    }
}
