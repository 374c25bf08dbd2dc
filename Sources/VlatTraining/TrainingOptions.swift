import VlatModels
import VlatTensor

/// Everything that defines a training run. Stored in every checkpoint, so `--resume` continues
/// the same run.
public struct TrainingOptions: Codable, Sendable, Equatable {
    public var data: String
    public var objective: Objective = .ae
    public var steps: Int = 1000
    public var batch: Int = 8
    public var crop: Int = 256
    public var learningRate: Float = 1e-4
    /// The learning-rate schedule by name (stored as its name in checkpoints).
    public enum Schedule: String, Sendable, Codable, CaseIterable {
        /// The same rate throughout.
        case constant
        /// Cosine decay to 10 % at the last step.
        case cosine
        /// x0.1 at 80 % of the steps.
        case step
    }

    public var schedule: Schedule = .cosine
    public var seed: UInt64 = 1
    public var channels: Int = 128
    public var latentChannels: Int = 192
    /// VAE: weight of the KL term (nats per pixel) against the MSE on [0, 1] values.
    public var beta: Float = 1e-3
    /// Rate-distortion: loss = lambda * 255^2 * MSE + bits per pixel (CompressAI's convention;
    /// its MSE qualities 1...8 use 0.0018 ... 0.18).
    public var lambda: Float = 0.013
    /// Clip the global gradient norm; 0 disables.
    public var clipNorm: Float = 1
    public var validationEvery: Int = 100
    public var checkpointEvery: Int = 100
    /// Validation images used (centre crops), at most.
    public var validationImages: Int = 16
    /// The denoising objective's network and corruptions (optional so that checkpoints written
    /// before it existed still decode).
    public var denoise: DenoiseOptions?
    /// Rate-distortion: train only the entropy model's prior, on the latents of frozen
    /// transforms taken from the initial model (nil, like false, trains everything; optional so
    /// that older checkpoints still decode).
    public var priorOnly: Bool?
    /// Hyperprior: train only the synthesis transform (with its modulations), on the latents
    /// the frozen analysis and entropy model give, so that the rate stays exactly as it is and
    /// only the reconstruction can improve (a widened decoder's first steps). Nil, like false,
    /// trains everything.
    public var synthesisOnly: Bool?
    /// Hyperprior, with `synthesisOnly`: the synthesis' first this-many hidden channels of every
    /// stage stay as they are (every weight a narrower network had), so only the channels a
    /// widening added learn, and the network can start from the narrower one's quality without
    /// disturbing it. Nil trains the whole synthesis.
    public var frozenSynthesisChannels: Int?
    /// Hyperprior: train only the synthesis' tail (`--tail-channels`), on what the frozen rest
    /// of the network reconstructs: the rate and everything before the tail stay exactly as
    /// they are. Nil, like false, trains everything.
    public var tailOnly: Bool?
    /// The hyperprior objective's network (optional so that older checkpoints still decode).
    public var hyperprior: HyperpriorConfig?
    /// Hyperprior: the levels trained (0-based), nil for all. A subset turns the variable-rate
    /// run into a fixed-rate one on the same network (one level: a fixed-lambda model), which is
    /// how the two are compared for the same steps. A trade-off, not architecture: `--resume`
    /// may change it.
    public var trainedLevels: [Int]?

    public init(data: String) { self.data = data }

    /// `--objective denoise`: the network's shape and how clean crops are corrupted.
    public struct DenoiseOptions: Codable, Sendable, Equatable {
        public var network: DenoiserConfig
        public var corruption: Corruption

        /// AWGN sigma 0...50 (of 255), Gaussian blur sigma 0...3 pixels, each crop noise only,
        /// blur only or both; clipped to [0, 1] as an 8-bit image would be.
        public init(network: DenoiserConfig = DenoiserConfig(),
                    corruption: Corruption = Corruption(noiseSigma: 0...50, blurSigma: 0...3, clip: true, mixed: true)) {
            self.network = network
            self.corruption = corruption
        }
    }

    /// The denoiser's configuration (the default one when not set).
    public var denoiserConfig: DenoiserConfig { denoise?.network ?? DenoiserConfig() }

    /// The hyperprior's configuration (the default one at this run's N and M when not set).
    public var hyperpriorConfig: HyperpriorConfig {
        hyperprior ?? HyperpriorConfig(channels: channels, latentChannels: latentChannels)
    }

    public var config: AutoencoderConfig {
        AutoencoderConfig(objective: objective, channels: channels, latentChannels: latentChannels)
    }

    public var learningRateSchedule: LearningRateSchedule {
        switch schedule {
        case .cosine: return .cosine(totalSteps: steps, floor: 0.1)
        case .step: return .step(milestones: [steps * 8 / 10], factor: 0.1)
        case .constant: return .constant
        }
    }

    public func validate() throws {
        func require(_ ok: Bool, _ message: String) throws { if !ok { throw TrainingError.invalidOption(message) } }
        try require(steps >= 1, "--steps must be at least 1")
        try require(batch >= 1, "--batch must be at least 1")
        if objective == .hyperprior {
            if let groups = hyperpriorConfig.channelGroups {
                try require(hyperpriorConfig.contextChannels != nil, "--channel-groups needs --context-channels: the channel context works beside the checkerboard one")
                try require((2...HyperpriorConfig.maxChannelGroups).contains(groups) && hyperpriorConfig.latentChannels % groups == 0,
                            "--channel-groups must be in 2...\(HyperpriorConfig.maxChannelGroups) and divide the latent channels (\(hyperpriorConfig.latentChannels))")
            }
            try require(hyperpriorConfig.tailChannels.map { (HyperpriorConfig.minTailChannels...HyperpriorConfig.maxTailChannels).contains($0) } ?? true,
                        "--tail-channels must be in \(HyperpriorConfig.minTailChannels)...\(HyperpriorConfig.maxTailChannels)")
            try require(hyperpriorConfig.isValid, "the hyperprior needs channel counts in 1...\(HyperpriorConfig.maxChannels) and 1...\(HyperpriorConfig.maxLevels) positive lambdas")
            try require(crop % HyperpriorConfig.hyperDownsampling == 0, "--crop must be a multiple of \(HyperpriorConfig.hyperDownsampling) for the hyperprior (its z is 64x smaller per side)")
        }
        try require(crop >= 16 && crop % 16 == 0, "--crop must be a multiple of 16 (the transform's downsampling), at least 16")
        if objective == .denoise {
            try require(denoiserConfig.isValid, "the denoiser needs --channels 1...\(DenoiserConfig.maxChannels), --levels 0...\(DenoiserConfig.maxLevels), --blocks 1...\(DenoiserConfig.maxBlocks)")
        }
        try require(learningRate > 0 && learningRate < 1, "--lr must be in (0, 1)")
        try require(channels >= 1 && latentChannels >= 1, "--channels and --latent-channels must be positive")
        try require(beta >= 0, "--beta must be non-negative")
        try require(lambda > 0, "--lambda must be positive")
        try require(validationEvery >= 1 && checkpointEvery >= 1, "--val-every and --checkpoint-every must be positive")
        try require(priorOnly != true || objective == .rd || objective == .hyperprior, "--prior-only is for --objective rd or hyperprior")
        try require(synthesisOnly != true || objective == .hyperprior, "--synthesis-only is for --objective hyperprior")
        try require(synthesisOnly != true || priorOnly != true, "--synthesis-only and --prior-only train disjoint parts: pick one")
        if tailOnly == true {
            try require(objective == .hyperprior && hyperpriorConfig.tailChannels != nil, "--tail-only is for --objective hyperprior with --tail-channels")
            try require(synthesisOnly != true && priorOnly != true, "--tail-only trains only the tail: leave out --synthesis-only and --prior-only")
        }
        if let frozen = frozenSynthesisChannels {
            try require(synthesisOnly == true, "--frozen-synthesis-channels is for --synthesis-only")
            try require(frozen >= 1 && frozen < hyperpriorConfig.synthesisWidth,
                        "--frozen-synthesis-channels must be below the synthesis' width (\(hyperpriorConfig.synthesisWidth))")
        }
        if let trainedLevels {
            try require(objective == .hyperprior, "--train-levels is for --objective hyperprior")
            try require(!trainedLevels.isEmpty && Set(trainedLevels).count == trainedLevels.count
                        && trainedLevels.allSatisfy({ (0..<hyperpriorConfig.levels).contains($0) }),
                        "--train-levels must name distinct levels in 1...\(hyperpriorConfig.levels)")
        }
    }
}
