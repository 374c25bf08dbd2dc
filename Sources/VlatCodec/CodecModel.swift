import VlatEntropy
import VlatFormat
import VlatImageIO
import VlatModels

/// A trained rate-distortion model ready to code images: the transforms, the integer entropy
/// tables, and the model's identity (the SHA-256 of its file).
///
/// Two kinds: a factorized-prior model (one rate; `tables`, `contextPriors`), or a
/// variable-rate mean-scale hyperprior (`hyperprior`, every rate; `level` picks one). For
/// both, `network` holds the analysis and synthesis transforms.
public final class CodecModel {
    public let network: Autoencoder
    public let tables: [QuantizedCDF]
    /// The context coder's fitted starting tables, when the model file has them.
    public let contextPriors: ContextPriors?
    /// The hyperprior's integer tables and networks, for a hyperprior model.
    public let hyperprior: HyperpriorCodecModel?
    /// SHA-256 of the model file: what `.vlat` headers name.
    public let digest: [UInt8]
    /// Quality level 1...8 for a shipped model, 0 otherwise.
    public let quality: UInt8
    /// A hyperprior model's rate: the quality (1 = lowest rate, 8 the highest; fractional values
    /// interpolate), which `QualitySchedule` maps to `hyperpriorLevel` and `detailStep`.
    public let hyperpriorQuality: Double
    /// The model level a hyperprior model codes at (1-based; fractional values interpolate).
    public var hyperpriorLevel: Double { schedulePoint.level }
    /// The detail layer's step at this quality, nil for none.
    public var detailStep: Double? { schedulePoint.detailStep }
    private var schedulePoint: (level: Double, detailStep: Double?) {
        guard let hyperprior else { return (0, nil) }
        return QualitySchedule(levels: hyperprior.levels).point(hyperpriorQuality)
    }

    public init(bytes: [UInt8], quality: UInt8 = 0) throws {
        let file = try ModelFile.parse(bytes)
        digest = ModelFile.digest(of: bytes)
        self.quality = quality
        if try NetworkKind(of: file) == .meanScaleHyperprior {
            let hyper = try HyperpriorCodecModel(file: file)
            let c = hyper.network.config
            // The hyperprior's own transforms, seen as an autoencoder (no entropy model of its own).
            network = Autoencoder(config: AutoencoderConfig(objective: .ae, channels: c.channels, latentChannels: c.latentChannels,
                                                            synthesisChannels: c.synthesisChannels),
                                  analysis: hyper.network.analysis, synthesis: hyper.network.synthesis)
            hyperprior = hyper
            tables = []
            contextPriors = nil
            hyperpriorQuality = quality > 0 ? Double(quality) : Double(HyperpriorCodecModel.defaultQuality)
            return
        }
        let network = try Autoencoder(modelFile: file)
        guard network.config.objective == .rd else {
            throw CodecError.notACodecModel("a '\(network.config.objective.rawValue)' model has no entropy model; train with --objective rd")
        }
        self.network = network
        tables = try EntropyTables.read(file, channels: network.config.latentChannels)
        contextPriors = try EntropyTables.readContextPriors(file, tables: tables)
        hyperprior = nil
        hyperpriorQuality = 0
    }

    private init(_ other: CodecModel, quality: UInt8, hyperpriorQuality: Double) {
        network = other.network
        tables = other.tables
        contextPriors = other.contextPriors
        hyperprior = other.hyperprior
        digest = other.digest
        self.quality = quality
        self.hyperpriorQuality = hyperpriorQuality
    }

    /// This hyperprior model at quality `q` (1...8, `QualitySchedule`; fractional values
    /// interpolate), sharing its weights and tables.
    public func atQuality(_ q: Double) throws -> CodecModel {
        guard hyperprior != nil else { throw CodecError.notACodecModel("only a hyperprior model has a quality of its own") }
        guard q >= 1, q <= QualitySchedule.top else {
            throw CodecError.notACodecModel("quality \(q) is outside 1...\(Int(QualitySchedule.top))")
        }
        let whole = q == q.rounded() && q <= 8 ? UInt8(q) : 0
        return CodecModel(self, quality: whole, hyperpriorQuality: q)
    }

    /// The model file for a trained rate-distortion network, with its entropy tables computed
    /// now, once, from the learned prior. Weights are stored as float16 by default (half the
    /// size; the transforms' outputs move by far less than a quantization step); the tables are
    /// integers and stay float32, where they are exact. `contextPriors` (from
    /// `fitContextPriors`, or kept from an earlier export) are stored beside them.
    public static func export(_ network: Autoencoder, storage: ModelFile.Storage = .float16,
                              contextPriors: ContextPriors? = nil) throws -> ModelFile {
        let tables = try entropyTables(of: network)
        var extra = EntropyTables.entries(tables)
        if let contextPriors {
            // Priors made for other tables would make the file unreadable; refuse them here.
            extra += EntropyTables.entries(try ContextPriors(counts: contextPriors.counts, tables: tables))
        }
        return network.modelFile(extra: extra, storage: storage)
    }

    /// The integer CDF tables of a rate-distortion network's learned prior.
    public static func entropyTables(of network: Autoencoder) throws -> [QuantizedCDF] {
        guard let prior = network.prior else { throw CodecError.notACodecModel("not a rate-distortion network") }
        return try prior.quantizedTables()
    }

    /// The context coder's starting tables fitted on `images`' latents (training images, never
    /// test images), with weight `total`.
    public static func fitContextPriors(_ network: Autoencoder, on images: [Image],
                                        total: Int = ContextPriors.defaultTotal) throws -> ContextPriors {
        let grids = try images.map { image -> ContextPriors.Grid in
            let latent = network.latent(ImageCodec.paddedTensor(image))
            return .init(values: try ImageCodec.symbols(of: latent), channels: latent.c, height: latent.h, width: latent.w)
        }
        return try ContextPriors.fit(grids, tables: entropyTables(of: network), total: total)
    }
}
