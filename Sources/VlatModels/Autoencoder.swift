import Foundation
import VlatFormat
import VlatTensor

/// A convolutional autoencoder: `analysis` (g_a) maps an image `[N, 3, H, W]` in [0, 1] to a
/// latent `[N, M, H/16, W/16]` (mean and log-variance for a VAE), `synthesis` (g_s) maps it back.
/// H and W must be multiples of 16.
public final class Autoencoder {
    public let config: AutoencoderConfig
    public let analysis: Sequential
    public let synthesis: Sequential
    /// The learned entropy model of the latents (rate-distortion models only).
    public let prior: FactorizedPrior?
    /// Free-form facts about how the model was made (command, data, steps, wall time, commit).
    public var metadata: [String: String]

    public init(config: AutoencoderConfig, seed: UInt64, metadata: [String: String] = [:]) {
        self.config = config
        var g = SeededGenerator(seed: seed)
        analysis = Sequential(name: "analysis", specs: config.analysisSpecs, generator: &g)
        synthesis = Sequential(name: "synthesis", specs: config.synthesisSpecs, generator: &g)
        prior = config.objective == .rd ? FactorizedPrior(name: "prior", channels: config.latentChannels, generator: &g) : nil
        self.metadata = metadata
    }

    /// An autoencoder over transforms that already exist (no entropy model): a hyperprior's,
    /// shared, not copied.
    public init(config: AutoencoderConfig, analysis: Sequential, synthesis: Sequential, metadata: [String: String] = [:]) {
        precondition(config.objective != .rd, "a rate-distortion autoencoder needs its own prior")
        self.config = config
        self.analysis = analysis
        self.synthesis = synthesis
        prior = nil
        self.metadata = metadata
    }

    public var parameters: [Parameter] { analysis.parameters + synthesis.parameters + (prior?.parameters ?? []) }

    /// The JSON stored in model files: architecture and metadata.
    struct Description: Codable {
        var kind: String
        var config: AutoencoderConfig
        var analysis: [LayerSpec]
        var synthesis: [LayerSpec]
        var metadata: [String: String]
        /// Present in checkpoints only.
        var trainer: String?
    }

    func description(trainer: String? = nil) -> Description {
        Description(kind: "autoencoder", config: config, analysis: analysis.specs, synthesis: synthesis.specs,
                    metadata: metadata, trainer: trainer)
    }

    /// The model file for this network's current weights (stored as `storage`), plus `extra`
    /// tensors (optimizer state in checkpoints) and an opaque `trainer` JSON string.
    public func modelFile(extra: [ModelFile.Entry] = [], trainer: String? = nil, storage: ModelFile.Storage = .float32) -> ModelFile {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try! encoder.encode(description(trainer: trainer)), as: UTF8.self)
        let weights = parameters.map { ModelFile.Entry(name: $0.name, shape: $0.value.shape, values: $0.value.data, storage: storage) }
        return ModelFile(json: json, tensors: weights + extra)
    }

    /// Rebuilds a network from a model file, checking every tensor's name and shape.
    public convenience init(modelFile file: ModelFile) throws {
        let description: Description
        do { description = try JSONDecoder().decode(Description.self, from: Data(file.json.utf8)) } catch {
            throw ModelFileError.malformed("architecture JSON: \(error)")
        }
        guard description.kind == "autoencoder" else { throw ModelFileError.incompatible("model kind '\(description.kind)' is not an autoencoder") }
        // Bound the architecture before building it: the JSON could claim a network of gigabytes.
        let config = description.config
        guard (1...AutoencoderConfig.maxChannels).contains(config.channels),
              (1...AutoencoderConfig.maxChannels).contains(config.latentChannels),
              (1...AutoencoderConfig.maxChannels).contains(config.synthesisWidth) else {
            throw ModelFileError.malformed("channel counts N=\(config.channels), M=\(config.latentChannels) are outside 1...\(AutoencoderConfig.maxChannels)")
        }
        let expected = Autoencoder.parameterCount(config)
        let present = file.tensors.reduce(0) { $0 + $1.values.count }
        guard present >= expected else {
            throw ModelFileError.incompatible("the file holds \(present) values but the architecture needs \(expected)")
        }
        guard description.analysis == description.config.analysisSpecs, description.synthesis == description.config.synthesisSpecs else {
            throw ModelFileError.incompatible("layer list does not match the configuration")
        }
        self.init(config: description.config, seed: 0, metadata: description.metadata)
        try load(file)
    }

    /// Parameters of a network of this configuration, computed without building it.
    static func parameterCount(_ config: AutoencoderConfig) -> Int {
        let layers = config.analysisSpecs + config.synthesisSpecs
        var total = layers.reduce(0) { sum, s in
            switch s.kind {
            case .conv, .convTranspose: return sum + s.inChannels * s.outChannels * s.kernel * s.kernel + s.outChannels
            case .gdn, .igdn: return sum + s.inChannels * s.inChannels + s.inChannels
            default: return sum
            }
        }
        if config.objective == .rd { total += config.latentChannels * (3 + 9 + 9 + 3 + 3 + 3 + 3 + 1 + 3 + 3 + 3) }
        return total
    }

    /// Copies weights from `file`; every parameter must be present with the same shape.
    public func load(_ file: ModelFile) throws {
        for p in parameters {
            guard let entry = file[p.name] else { throw ModelFileError.incompatible("model file has no tensor '\(p.name)'") }
            guard entry.shape == p.value.shape else {
                throw ModelFileError.incompatible("tensor '\(p.name)' is \(entry.shape) in the file, \(p.value.shape) in the network")
            }
            p.value = Tensor(shape: entry.shape, data: entry.values)
        }
    }

    /// Copies every tensor of `file` whose name and shape match a parameter of this network
    /// (warm start: an autoencoder's transforms into a rate-distortion model, or a neighbouring
    /// quality's model). Returns the names copied.
    @discardableResult
    public func initialize(from file: ModelFile) -> [String] {
        var copied: [String] = []
        for p in parameters {
            if let entry = file[p.name], entry.shape == p.value.shape {
                p.value = Tensor(shape: entry.shape, data: entry.values)
                copied.append(p.name)
            }
        }
        return copied
    }

    /// The configuration a model file describes, without building it.
    public static func config(in file: ModelFile) throws -> AutoencoderConfig {
        do { return try JSONDecoder().decode(Description.self, from: Data(file.json.utf8)).config } catch {
            throw ModelFileError.malformed("architecture JSON: \(error)")
        }
    }

    /// Inference: the reconstruction of `x` (latent mean for a VAE, no noise; rounded latents
    /// for a rate-distortion model, as the codec will decode them).
    public func reconstruct(_ x: Tensor) -> Tensor {
        synthesis.forward(latent(x), training: false)
    }

    /// The latent the synthesis transform sees at inference.
    public func latent(_ x: Tensor) -> Tensor {
        var y = analysis.forward(x, training: false)
        switch config.objective {
        case .ae, .denoise, .hyperprior: break
        case .vae: y = TensorOps.splitChannels(y, at: config.latentChannels).0
        case .rd: for i in 0..<y.count { y.data[i] = y.data[i].rounded() }
        }
        return y
    }
}
