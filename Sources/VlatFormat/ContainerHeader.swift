/// The HEAD chunk: everything a decoder needs before the payload. Layout in docs/FORMAT.md.
public struct ContainerHeader: Sendable, Equatable {
    /// Format version this library writes. A reader refuses a larger major version and reads any
    /// minor version of its major (minor revisions only append HEAD fields, ancillary chunks, and
    /// critical chunks whose absence leaves a file as it was: 1.2's `DETL`, which a 1.1 reader
    /// refuses by name rather than decode without).
    public static let formatMajor: UInt8 = 1
    public static let formatMinor: UInt8 = 2
    /// Bytes of HEAD in version 1.0.
    public static let encodedSize = 56

    /// Entropy coders. Raw values are stored in the file.
    public enum Coder: UInt8, Sendable, CaseIterable, CustomStringConvertible {
        /// rANS driven by the model's integer CDF tables (factorized prior).
        case rans = 1
        /// zstd over the integer latents laid out as channel planes.
        case zstd = 2
        /// rANS with adaptive tables chosen by each latent's coded neighbours, starting from
        /// the model's CDF tables (`ContextRANSCoder`).
        case ctx = 3
        /// The same coder with its tables starting from the model's fitted context priors
        /// (`ContextPriors`, the model file's `entropy.context_counts`). A value of its own so
        /// that a reader that does not know those tables refuses the file instead of
        /// misdecoding it.
        case ctxFitted = 4
        /// A mean-scale hyperprior's two rANS streams: z with the model's factorized tables,
        /// then the latents' residuals with Gaussian tables picked by the integer
        /// hyper-synthesis (`HyperpriorCoding`).
        case hyperprior = 5
        /// The same with a checkerboard context: z, then the anchors' residuals, then the other
        /// positions' residuals with means and scales corrected from the anchors' symbols by
        /// the model's integer context (`HyperpriorCoding`). A value of its own so that a reader
        /// without the context refuses the file.
        case hyperpriorContext = 6
        /// The same payload as coder 6 with a channel context beside the checkerboard one: within
        /// each half the channel groups after the first have their means and scales corrected
        /// from the earlier groups first. A value of its own so that a reader without the
        /// channel context refuses the file.
        case hyperpriorChannelContext = 7

        /// Whether this is one of a hyperprior model's coders.
        public var isHyperprior: Bool { self == .hyperprior || self == .hyperpriorContext || self == .hyperpriorChannelContext }

        public var description: String {
            switch self {
            case .rans: "rans"
            case .zstd: "zstd"
            case .ctx: "ctx"
            case .ctxFitted: "ctx (fitted start)"
            case .hyperprior: "hyperprior"
            case .hyperpriorContext: "hyperprior (checkerboard context)"
            case .hyperpriorChannelContext: "hyperprior (checkerboard and channel context)"
            }
        }
    }

    public var versionMajor: UInt8 = formatMajor
    public var versionMinor: UInt8 = formatMinor
    public var width: Int
    public var height: Int
    /// The source image's colour model (ImageSource.ColorType raw value: 0 grey, 1 grey+alpha,
    /// 2 RGB, 3 RGBA, 4 palette, 5 CMYK).
    public var sourceColorType: UInt8
    /// Bits per sample of the source (1, 2, 4, 8, 12 or 16).
    public var sourceBitDepth: UInt8
    /// Quality level 1...8 of a shipped model, or 0 for a model given by file.
    public var quality: UInt8
    public var coder: Coder
    /// Image is padded to a multiple of this (edge replication) before the analysis transform.
    public var paddingMultiple: Int
    public var latentChannels: Int
    public var latentHeight: Int
    public var latentWidth: Int
    /// SHA-256 of the model file that encoded the image.
    public var modelDigest: [UInt8]

    public init(width: Int, height: Int, sourceColorType: UInt8, sourceBitDepth: UInt8, quality: UInt8,
                coder: Coder, paddingMultiple: Int, latentChannels: Int, latentHeight: Int, latentWidth: Int,
                modelDigest: [UInt8]) {
        self.width = width
        self.height = height
        self.sourceColorType = sourceColorType
        self.sourceBitDepth = sourceBitDepth
        self.quality = quality
        self.coder = coder
        self.paddingMultiple = paddingMultiple
        self.latentChannels = latentChannels
        self.latentHeight = latentHeight
        self.latentWidth = latentWidth
        self.modelDigest = modelDigest
    }

    public var paddedWidth: Int { (width + paddingMultiple - 1) / paddingMultiple * paddingMultiple }
    public var paddedHeight: Int { (height + paddingMultiple - 1) / paddingMultiple * paddingMultiple }
    /// Image pixels per latent position along each side.
    public var downsampling: Int { paddedWidth / latentWidth }
    public var latentSymbols: Int { latentChannels * latentHeight * latentWidth }

    func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.u8(versionMajor); w.u8(versionMinor)
        w.u32(UInt32(width)); w.u32(UInt32(height))
        w.u8(sourceColorType); w.u8(sourceBitDepth); w.u8(quality); w.u8(coder.rawValue)
        w.u8(0) // padding mode: 0 = replicate edge pixels
        w.u8(0) // reserved
        w.u16(UInt16(paddingMultiple))
        w.u16(UInt16(latentChannels)); w.u16(UInt16(latentHeight)); w.u16(UInt16(latentWidth))
        w.append(modelDigest)
        return w.bytes
    }

    static func decode(_ data: ArraySlice<UInt8>, limits: ContainerLimits) throws -> ContainerHeader {
        var r = ByteCursor(Array(data))
        guard data.count >= 2 else { throw ContainerError.invalidHeader("HEAD is \(data.count) bytes") }
        let major = try r.u8(), minor = try r.u8()
        guard major == formatMajor else { throw ContainerError.unsupportedVersion(major: Int(major), minor: Int(minor)) }
        // Same major, any minor: the v1.0 fields come first; later minors may append more.
        guard data.count >= encodedSize else {
            throw ContainerError.invalidHeader("HEAD is \(data.count) bytes, version 1 needs \(encodedSize)")
        }
        // Versions 1.0 and 1.1 differ only in ancillary chunks: their HEAD is exactly this size.
        if minor <= formatMinor && data.count != encodedSize {
            throw ContainerError.invalidHeader("HEAD is \(data.count) bytes, version 1.\(minor) has exactly \(encodedSize)")
        }
        let width = Int(try r.u32()), height = Int(try r.u32())
        let colorType = try r.u8(), bitDepth = try r.u8(), quality = try r.u8(), coderID = try r.u8()
        let paddingMode = try r.u8(), reserved = try r.u8()
        let multiple = Int(try r.u16())
        let channels = Int(try r.u16()), lh = Int(try r.u16()), lw = Int(try r.u16())
        let digest = Array(try r.take(32))

        func invalid(_ reason: String) -> ContainerError { .invalidHeader(reason) }
        guard width >= 1, height >= 1 else { throw invalid("image size \(width)x\(height)") }
        guard width <= limits.maxSide, height <= limits.maxSide, width * height <= limits.maxPixels else {
            throw ContainerError.overLimit("image is \(width)x\(height), over the limit of \(limits.maxPixels) pixels (at most \(limits.maxSide) per side)")
        }
        guard colorType <= 5 else { throw invalid("source colour type \(colorType)") }
        guard [1, 2, 4, 8, 12, 16].contains(bitDepth) else { throw invalid("source bit depth \(bitDepth)") }
        guard quality <= 8 else { throw invalid("quality \(quality) (0 or 1...8)") }
        guard let coder = Coder(rawValue: coderID) else { throw invalid("unknown entropy coder id \(coderID)") }
        guard paddingMode == 0 else { throw invalid("unknown padding mode \(paddingMode)") }
        guard reserved == 0 else { throw invalid("reserved byte is \(reserved), must be 0") }
        guard multiple >= 1, multiple <= 4096 else { throw invalid("padding multiple \(multiple)") }
        var header = ContainerHeader(width: width, height: height, sourceColorType: colorType, sourceBitDepth: bitDepth,
                                     quality: quality, coder: coder, paddingMultiple: multiple,
                                     latentChannels: channels, latentHeight: lh, latentWidth: lw, modelDigest: digest)
        header.versionMinor = minor
        guard channels >= 1, lh >= 1, lw >= 1 else { throw invalid("latent shape \(channels)x\(lh)x\(lw)") }
        guard channels * lh * lw <= limits.maxLatentSymbols else {
            throw ContainerError.overLimit("latent has \(channels * lh * lw) symbols, over the limit of \(limits.maxLatentSymbols)")
        }
        let pw = header.paddedWidth, ph = header.paddedHeight
        guard lw <= pw, lh <= ph, pw % lw == 0, ph % lh == 0, pw / lw == ph / lh else {
            throw invalid("latent \(lh)x\(lw) does not divide the padded image \(ph)x\(pw) evenly")
        }
        return header
    }
}
