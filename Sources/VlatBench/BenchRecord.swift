/// One image coded by one codec at one setting.
public struct BenchRecord: Sendable, Codable, Equatable {
    public var codec: String
    public var setting: Int
    public var image: String
    public var width: Int
    public var height: Int
    public var bytes: Int
    public var bpp: Double
    public var psnr: Double
    public var psnrY: Double
    /// nil when the image is too small for MS-SSIM (shorter side under 161).
    public var msssim: Double?
    public var encodeMs: Double
    public var decodeMs: Double
    /// The codec's own rate estimate in bits per pixel (vlat: bits under the prior), if any.
    public var estimatedBpp: Double? = nil
}

/// Means over the images for one codec at one setting: what the rate-distortion curves plot.
public struct BenchSummary: Sendable, Codable, Equatable {
    public var codec: String
    public var setting: Int
    public var images: Int
    public var bpp: Double
    public var psnr: Double
    public var psnrY: Double
    /// Mean over the images that have one; nil when none does.
    public var msssim: Double?
    public var medianEncodeMs: Double
    public var medianDecodeMs: Double
    /// Mean estimated bpp, when the codec reports one.
    public var estimatedBpp: Double? = nil

    /// MS-SSIM on CompressAI's decibel scale, -10 log10(1 - MS-SSIM).
    public var msssimDB: Double? { msssim.map { -10 * log10(max(1 - $0, 1e-10)) } }
}

/// Bjontegaard deltas of one codec against the anchor (JPEG), on mean curves.
public struct BDResult: Sendable, Codable, Equatable {
    public var codec: String
    public var anchor: String
    /// BD-rate on PSNR-RGB, percent; nil when the curves do not overlap.
    public var rateOnPSNR: Double?
    /// BD-PSNR, dB.
    public var psnrDelta: Double?
    /// BD-rate on MS-SSIM in dB.
    public var rateOnMSSSIM: Double?
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
