import VlatCodec
import VlatFormat
import VlatImageIO
import VlatTensor

/// vlat itself in the bench: each model is one rate point. Settings are the models' quality
/// levels when they are shipped levels (`settingName` "quality"), else 1, 2, ... in the order
/// given ("model"). Encoding includes serialisation to `.vlat` bytes, decoding includes parsing
/// and verifying them, so sizes and times are those of real files.
public struct VlatBenchCodec: BenchCodec, @unchecked Sendable {
    public let name: String
    public let settingName: String
    public let settings: [Int]
    let models: [CodecModel]
    let coder: CoderChoice
    let refinement: LatentRefinement?

    /// Named `vlat` with the default coder choice (`auto`), else `vlat-rans`, `vlat-ctx` or `vlat-zstd`;
    /// `vlat-refined` with `refinement` (steps > 0, default coder).
    public init(models: [CodecModel], coder: CoderChoice = ImageCodec.defaultCoder, refinement: LatentRefinement? = nil) {
        self.models = models
        self.coder = coder
        self.refinement = (refinement?.steps ?? 0) > 0 ? refinement : nil
        let levels = models.map { Int($0.quality) }
        let byLevel = !levels.contains(0) && Set(levels).count == levels.count
        settings = byLevel ? levels : Array(1...max(1, models.count))
        settingName = byLevel ? "quality" : "model"
        name = self.refinement == nil ? Self.name(coder) : Self.refinedName
    }

    public static func name(_ coder: CoderChoice) -> String { coder == ImageCodec.defaultCoder ? "vlat" : "vlat-\(coder)" }

    /// The bench name of vlat with latent refinement (`LatentRefinement`).
    public static let refinedName = "vlat-refined"

    /// The bench names of vlat with each coder choice, then with refinement.
    public static let names = CoderChoice.factorized.map(name) + [refinedName]

    public func run(_ image: Image, setting: Int, scratch: String) throws -> CodecRun {
        let model = models[settings.firstIndex(of: setting)!]
        let clock = ContinuousClock()
        var bytes: [UInt8] = []
        var latent: Tensor?
        let encode = try clock.measure {
            let coded = try ImageCodec.encodeKeepingLatent(image, model: model, coder: coder, refinement: refinement)
            bytes = coded.container.serialized()
            latent = coded.latent
        }
        var decoded: Image?
        let decode = try clock.measure { decoded = try ImageCodec.decode(Container.parse(bytes), model: model) }
        let estimate = model.network.prior?.forward(latent!, training: false).bits
        return CodecRun(bytes: bytes.count, decoded: decoded!.toRGB(), encodeSeconds: encode.seconds, decodeSeconds: decode.seconds,
                        estimatedBits: estimate)
    }
}
