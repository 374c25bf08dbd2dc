/// Bounds a reader checks against every length and dimension before it allocates anything.
public struct ContainerLimits: Sendable, Equatable {
    /// Largest `width * height`; default 2^28.
    public var maxPixels: Int = 1 << 28
    /// Largest width or height; default 2^20.
    public var maxSide: Int = 1 << 20
    /// Largest `channels * latentHeight * latentWidth`; default 2^28.
    public var maxLatentSymbols: Int = 1 << 28
    /// Largest single chunk; default 1 GiB.
    public var maxChunkBytes: Int = 1 << 30
    /// Largest ICC profile; default 16 MiB.
    public var maxICCBytes: Int = 1 << 24
    /// Largest EXIF block or XMP packet, decompressed; default 16 MiB.
    public var maxMetadataBytes: Int = 1 << 24

    public init() {}

    public static let `default` = ContainerLimits()
}
