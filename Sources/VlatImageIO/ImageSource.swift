/// What an image file said about itself: the facts that decoding to 8-bit samples would otherwise
/// lose, kept so a codec can restore them (grey stays grey) and a tool can report them.
public struct ImageSource: Sendable, Equatable {
    public enum Format: String, Sendable {
        case png, jpeg
        /// Built in memory, not read from a file.
        case memory
    }

    /// The colour model stored in the file. Raw values are stable: the `.vlat` header stores them.
    public enum ColorType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
        case grey = 0, greyAlpha = 1, rgb = 2, rgba = 3, palette = 4, cmyk = 5

        public init(_ layout: PixelLayout) {
            switch layout {
            case .grey: self = .grey
            case .greyAlpha: self = .greyAlpha
            case .rgb: self = .rgb
            case .rgba: self = .rgba
            }
        }

        public var description: String {
            switch self {
            case .grey: return "grey"
            case .greyAlpha: return "grey+alpha"
            case .rgb: return "RGB"
            case .rgba: return "RGBA"
            case .palette: return "palette"
            case .cmyk: return "CMYK"
            }
        }
    }

    public var format: Format
    public var colorType: ColorType
    /// Bits per sample in the file: 1, 2, 4, 8 or 16 (PNG), 8 or 12 (JPEG).
    public var bitDepth: Int
    /// PNG Adam7 interlacing, or a progressive JPEG.
    public var interlaced: Bool

    /// Why the file's ICC profile was not kept (the image library refused it), or nil.
    public var droppedICCReason: String?
    /// The EXIF orientation (2...8) the pixels were turned by on reading to stand upright, or nil.
    public var appliedOrientation: Int?

    public init(format: Format, colorType: ColorType, bitDepth: Int, interlaced: Bool = false) {
        self.format = format
        self.colorType = colorType
        self.bitDepth = bitDepth
        self.interlaced = interlaced
    }

    /// True when samples were rounded from 16 to 8 bits on reading; tools should say so.
    public var wasReducedTo8Bit: Bool { bitDepth > 8 }
}
