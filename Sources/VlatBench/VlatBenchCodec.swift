import VlatCodec
import VlatFormat
import VlatImageIO

/// vlat itself in the bench: each model is one rate point (setting k is the k-th model, from 1).
/// Encoding includes serialisation to `.vlat` bytes, decoding includes parsing and verifying
/// them, so sizes and times are those of real files.
public struct VlatBenchCodec: BenchCodec, @unchecked Sendable {
    public let name: String
    public let settingName = "model"
    public let settings: [Int]
    let models: [CodecModel]
    let coder: ContainerHeader.Coder

    public init(models: [CodecModel], coder: ContainerHeader.Coder = .rans) {
        self.models = models
        self.coder = coder
        settings = Array(1...max(1, models.count))
        name = coder == .rans ? "vlat" : "vlat-zstd"
    }

    public func run(_ image: Image, setting: Int, scratch: String) throws -> CodecRun {
        let model = models[setting - 1]
        let clock = ContinuousClock()
        var bytes: [UInt8] = []
        let encode = try clock.measure { bytes = try ImageCodec.encode(image, model: model, coder: coder).serialized() }
        var decoded: Image?
        let decode = try clock.measure { decoded = try ImageCodec.decode(Container.parse(bytes), model: model) }
        let latent = try ImageCodec.latents(of: image, model: model)
        let estimate = model.network.prior?.forward(latent, training: false).bits
        return CodecRun(bytes: bytes.count, decoded: decoded!.toRGB(), encodeSeconds: encode.seconds, decodeSeconds: decode.seconds,
                        estimatedBits: estimate)
    }
}
