/// Bounds checked against a file's declared dimensions before any pixel memory is allocated.
public struct ImageLimits: Sendable, Equatable {
    /// Largest `width * height` accepted. The default, 2^28 (268 megapixels), is about 1 GiB of RGBA.
    public var maxPixels: Int

    public init(maxPixels: Int = 1 << 28) {
        self.maxPixels = maxPixels
    }

    public static let `default` = ImageLimits()
}
