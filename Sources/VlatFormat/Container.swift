/// A `.vlat` file in memory: header, optional ICC profile, EXIF, XMP and alpha plane, and the
/// entropy-coded payload, which this module treats as opaque bytes (as it does the compressed
/// metadata: decompressing is the codec's job).
///
/// ```swift
/// let bytes = container.serialized()          // write with AtomicFile
/// let back = try Container.parse(bytes)       // throws ContainerError on any damage
/// ```
public struct Container: Sendable, Equatable {
    /// The 8-byte signature: 0x89 "VLAT" CR LF 0x1A. As in PNG, the high byte and the line ending
    /// catch 7-bit and text-mode transfers.
    public static let signature: [UInt8] = [0x89, 0x56, 0x4C, 0x41, 0x54, 0x0D, 0x0A, 0x1A]

    /// An alpha plane coded losslessly: `method` 0 is a zstd frame of `width * height` bytes.
    public struct AlphaPlane: Sendable, Equatable {
        public var method: UInt8
        public var data: [UInt8]

        public init(method: UInt8 = 0, data: [UInt8]) {
            self.method = method
            self.data = data
        }
    }

    /// Metadata stored compressed (`iccz`, `exif`, `xmpp`): `method` 0 is a zstd frame that
    /// decompresses to exactly `size` bytes.
    public struct CompressedBlob: Sendable, Equatable {
        public var method: UInt8
        public var size: Int
        public var data: [UInt8]

        public init(method: UInt8 = 0, size: Int, data: [UInt8]) {
            self.method = method
            self.size = size
            self.data = data
        }
    }

    public var header: ContainerHeader
    /// The ICC profile stored raw (`iccp`, what version 1.0 writers wrote).
    public var iccProfile: [UInt8]?
    /// The ICC profile stored compressed (`iccz`); a file has at most one of the two.
    public var compressedICC: CompressedBlob?
    /// EXIF (a TIFF structure), compressed (`exif`).
    public var exif: CompressedBlob?
    /// The XMP packet, compressed (`xmpp`).
    public var xmp: CompressedBlob?
    public var alpha: AlphaPlane?
    public var payload: [UInt8]
    /// The detail layer's data (`DETL`), when the file has one: the codec's to interpret.
    public var detail: [UInt8]?
    /// Names of ancillary chunks the parser did not know and skipped (empty when writing).
    public var skippedChunks: [String] = []

    public init(header: ContainerHeader, iccProfile: [UInt8]? = nil, compressedICC: CompressedBlob? = nil,
                exif: CompressedBlob? = nil, xmp: CompressedBlob? = nil, alpha: AlphaPlane? = nil, payload: [UInt8], detail: [UInt8]? = nil) {
        self.header = header
        self.iccProfile = iccProfile
        self.compressedICC = compressedICC
        self.exif = exif
        self.xmp = xmp
        self.alpha = alpha
        self.payload = payload
        self.detail = detail
    }

    /// Largest DATA chunk the writer emits; longer payloads are split.
    public static let dataChunkSize = 1 << 24
}
