/// How the samples of one pixel are laid out: 8 bits each, interleaved.
public enum PixelLayout: Int, Sendable, CaseIterable {
    case grey = 1
    case greyAlpha = 2
    case rgb = 3
    case rgba = 4

    /// Samples per pixel.
    public var channels: Int { rawValue }
    public var hasAlpha: Bool { self == .greyAlpha || self == .rgba }
    public var isGrey: Bool { self == .grey || self == .greyAlpha }
    /// Channels that carry colour (alpha excluded).
    public var colorChannels: Int { isGrey ? 1 : 3 }
}

/// An 8-bit image in memory: interleaved, row-major, top row first, plus what is worth carrying
/// along (ICC profile, EXIF, XMP, where it came from).
///
/// ```swift
/// let image = try ImageFile.read("Corpus/photos/chelsea.png")
/// print(image.width, image.height, image.layout)   // 451 300 rgb
/// ```
public struct Image: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let layout: PixelLayout
    /// `width * height * layout.channels` samples.
    public var pixels: [UInt8]
    /// The embedded ICC profile, passed through untouched.
    public var iccProfile: [UInt8]?
    /// EXIF as a TIFF structure (`II*\0` or `MM\0*` first), as PNG's eXIf chunk holds it and
    /// a JPEG's APP1 segment after its "Exif\0\0" signature.
    public var exif: [UInt8]?
    /// The XMP packet (XML).
    public var xmp: [UInt8]?
    /// What the file said about itself before it was converted to 8-bit samples.
    public var source: ImageSource

    public init(width: Int, height: Int, layout: PixelLayout, pixels: [UInt8],
                iccProfile: [UInt8]? = nil, exif: [UInt8]? = nil, xmp: [UInt8]? = nil, source: ImageSource? = nil) {
        precondition(width > 0 && height > 0, "image dimensions must be positive")
        precondition(pixels.count == width * height * layout.channels, "pixel count does not match shape")
        self.width = width
        self.height = height
        self.layout = layout
        self.pixels = pixels
        self.iccProfile = iccProfile
        self.exif = exif
        self.xmp = xmp
        self.source = source ?? ImageSource(format: .memory, colorType: ImageSource.ColorType(layout),
                                            bitDepth: 8)
    }

    public var pixelCount: Int { width * height }

    /// The colour samples as 3-channel RGB: grey is replicated, alpha dropped.
    public func rgbSamples() -> [UInt8] {
        if layout == .rgb { return pixels }
        let n = pixelCount
        var out = [UInt8](repeating: 0, count: n * 3)
        let c = layout.channels
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    if layout.isGrey {
                        let v = src[i * c]
                        dst[3 * i] = v; dst[3 * i + 1] = v; dst[3 * i + 2] = v
                    } else {
                        dst[3 * i] = src[i * c]; dst[3 * i + 1] = src[i * c + 1]; dst[3 * i + 2] = src[i * c + 2]
                    }
                }
            }
        }
        return out
    }

    /// The alpha plane (`width * height` samples), or nil when the layout has none.
    public func alphaPlane() -> [UInt8]? {
        guard layout.hasAlpha else { return nil }
        let c = layout.channels
        return (0..<pixelCount).map { pixels[$0 * c + c - 1] }
    }

    /// The same image as RGB, alpha dropped and grey replicated; metadata kept.
    public func toRGB() -> Image {
        Image(width: width, height: height, layout: .rgb, pixels: rgbSamples(), iccProfile: iccProfile,
              exif: exif, xmp: xmp, source: source)
    }

    /// Takes `other`'s ICC profile, EXIF, XMP and source description (for an image computed
    /// from `other`'s pixels).
    public mutating func takeMetadata(from other: Image) {
        iccProfile = other.iccProfile
        exif = other.exif
        xmp = other.xmp
        source = other.source
    }

    /// Rebuilds an image of `layout` from RGB samples and an optional alpha plane. For grey layouts
    /// the first channel of each RGB pixel is taken (the codec keeps R = G = B for grey sources).
    public static func assemble(width: Int, height: Int, rgb: [UInt8], alpha: [UInt8]?,
                                layout: PixelLayout) -> Image {
        precondition(rgb.count == width * height * 3)
        precondition(!layout.hasAlpha || alpha?.count == width * height)
        let n = width * height, c = layout.channels
        var out = [UInt8](repeating: 0, count: n * c)
        for i in 0..<n {
            if layout.isGrey {
                out[i * c] = rgb[3 * i]
            } else {
                out[i * c] = rgb[3 * i]; out[i * c + 1] = rgb[3 * i + 1]; out[i * c + 2] = rgb[3 * i + 2]
            }
            if layout.hasAlpha { out[i * c + c - 1] = alpha![i] }
        }
        return Image(width: width, height: height, layout: layout, pixels: out)
    }
}
