import VlatEntropy
import VlatFormat
import VlatImageIO
import VlatModels

/// A trained rate-distortion model ready to code images: the transforms, the integer entropy
/// tables, and the model's identity (the SHA-256 of its file).
public final class CodecModel {
    public let network: Autoencoder
    public let tables: [QuantizedCDF]
    /// The context coder's fitted starting tables, when the model file has them.
    public let contextPriors: ContextPriors?
    /// SHA-256 of the model file: what `.vlat` headers name.
    public let digest: [UInt8]
    /// Quality level 1...8 for a shipped model, 0 otherwise.
    public let quality: UInt8

    public init(bytes: [UInt8], quality: UInt8 = 0) throws {
        let file = try ModelFile.parse(bytes)
        let network = try Autoencoder(modelFile: file)
        guard network.config.objective == .rd else {
            throw CodecError.notACodecModel("a '\(network.config.objective.rawValue)' model has no entropy model; train with --objective rd")
        }
        self.network = network
        tables = try EntropyTables.read(file, channels: network.config.latentChannels)
        contextPriors = try EntropyTables.readContextPriors(file, tables: tables)
        digest = ModelFile.digest(of: bytes)
        self.quality = quality
    }

    /// The model file for a trained rate-distortion network, with its entropy tables computed
    /// now, once, from the learned prior. Weights are stored as float16 by default (half the
    /// size; the transforms' outputs move by far less than a quantization step); the tables are
    /// integers and stay float32, where they are exact.
    ///
    /// `contextImages` (training images, never test images) fit the context coder's starting
    /// tables (`ContextPriors`) on those images' latents; `contextTotal` is their weight.
    public static func export(_ network: Autoencoder, storage: ModelFile.Storage = .float16,
                              contextImages: [Image] = [], contextTotal: Int = ContextPriors.defaultTotal) throws -> ModelFile {
        guard let prior = network.prior else { throw CodecError.notACodecModel("not a rate-distortion network") }
        let tables = try prior.quantizedTables()
        var extra = EntropyTables.entries(tables)
        if !contextImages.isEmpty {
            let grids = try contextImages.map { image -> ContextPriors.Grid in
                let latent = network.latent(ImageCodec.paddedTensor(image))
                let values = try latent.data.map { v -> Int32 in
                    guard let s = Int32(exactly: v) else { throw CodecError.notACodecModel("the model produced a non-finite latent (\(v))") }
                    return s
                }
                return .init(values: values, channels: latent.c, height: latent.h, width: latent.w)
            }
            extra += EntropyTables.entries(try ContextPriors.fit(grids, tables: tables, total: contextTotal))
        }
        return network.modelFile(extra: extra, storage: storage)
    }
}
