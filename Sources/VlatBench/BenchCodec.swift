import VlatImageIO

/// One encode/decode of one image at one setting, as measured by the bench.
public struct CodecRun: Sendable {
    /// Size of the compressed file, in bytes.
    public var bytes: Int
    public var decoded: Image
    public var encodeSeconds: Double
    public var decodeSeconds: Double
    /// The codec's own estimate of the payload's size in bits, when it has one (vlat: the
    /// latents' information content under the model's prior).
    public var estimatedBits: Double? = nil
}

/// A codec the bench sweeps: a name, a list of settings (qualities), and a way to run one.
public protocol BenchCodec: Sendable {
    /// Short name used in tables and files: "jpeg", "webp", ...
    var name: String { get }
    /// What the setting means, for table headers: "quality", "quantizer".
    var settingName: String { get }
    /// Settings in the order the sweep runs them.
    var settings: [Int] { get }
    /// Encodes and decodes `image` (RGB) at `setting`. `scratch` is a private temporary folder.
    func run(_ image: Image, setting: Int, scratch: String) throws -> CodecRun
}

/// libjpeg(-turbo), linked in-process: 4:2:0, optimised Huffman tables, islow DCT.
public struct LibJPEGCodec: BenchCodec {
    public let name = "jpeg"
    public let settingName = "quality"
    public var settings: [Int]
    public var subsampling: JPEGCodec.Subsampling

    public static let defaultQualities = [5, 10, 15, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95]

    public init(settings: [Int] = LibJPEGCodec.defaultQualities, subsampling: JPEGCodec.Subsampling = .s420) {
        self.settings = settings
        self.subsampling = subsampling
    }

    public func run(_ image: Image, setting: Int, scratch: String) throws -> CodecRun {
        let clock = ContinuousClock()
        var bytes: [UInt8] = []
        let encode = try clock.measure { bytes = try JPEGCodec.encode(image, quality: setting, subsampling: subsampling) }
        var decoded: Image?
        let decode = try clock.measure { decoded = try JPEGCodec.decode(bytes) }
        return CodecRun(bytes: bytes.count, decoded: decoded!, encodeSeconds: encode.seconds, decodeSeconds: decode.seconds)
    }
}

extension Duration {
    /// The duration in seconds as a Double.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }
}
