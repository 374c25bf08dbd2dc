import VlatEntropy
import VlatFormat
import VlatModels

/// A trained rate-distortion model ready to code images: the transforms, the integer entropy
/// tables, and the model's identity (the SHA-256 of its file).
public final class CodecModel {
    public let network: Autoencoder
    public let tables: [QuantizedCDF]
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
        digest = ModelFile.digest(of: bytes)
        self.quality = quality
    }

    /// The model file for a trained rate-distortion network, with its entropy tables computed
    /// now, once, from the learned prior. Weights are stored as float16 by default (half the
    /// size; the transforms' outputs move by far less than a quantization step); the tables are
    /// integers and stay float32, where they are exact.
    public static func export(_ network: Autoencoder, storage: ModelFile.Storage = .float16) throws -> ModelFile {
        guard let prior = network.prior else { throw CodecError.notACodecModel("not a rate-distortion network") }
        return network.modelFile(extra: EntropyTables.entries(try prior.quantizedTables()), storage: storage)
    }
}
