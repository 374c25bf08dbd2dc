import VlatTensor

/// The shape of a variable-rate mean-scale hyperprior (Minnen et al. 2018, CompressAI's
/// `MeanScaleHyperprior`) and its rate levels.
///
/// - The transforms are those of `AutoencoderConfig` (four 5x5 stride-2 layers with GDN each
///   way, N hidden channels, M latent channels), so a factorized model's trained transforms
///   warm-start this one.
/// - The hyper-analysis maps the latent y to z (`hyperChannels` channels, a further 4x
///   downsampling per side); z is coded with a factorized prior.
/// - The hyper-synthesis maps z back to 2M channels: a mean and a natural-log scale per latent.
/// - One gain vector per level scales the latent before quantization (QVRF, Tong et al. 2023;
///   gain units, Cui et al. 2021): a larger gain is a finer quantizer and a higher rate.
///   Fractional levels interpolate the gains' logarithms.
public struct HyperpriorConfig: Codable, Sendable, Equatable {
    /// Hidden channels N of the transforms.
    public var channels: Int
    /// Latent channels M.
    public var latentChannels: Int
    /// Hidden channels of the synthesis when it is wider than the analysis' N; nil (as in files
    /// written before it existed) means N. See `AutoencoderConfig.synthesisChannels`.
    public var synthesisChannels: Int?
    /// Channels of z, and of the hyper-transforms' hidden layers.
    public var hyperChannels: Int
    /// The rate-distortion trade-off of each level, lowest rate first: level k is trained with
    /// loss `lambdas[k] * 255^2 * MSE + bits per pixel`.
    public var lambdas: [Float]
    /// Per-level channel modulations (`LevelModulation`) after every GDN of the analysis and
    /// every inverse GDN of the synthesis, so that the transforms can adapt to each rate. Nil
    /// (as in files written before it existed) means none.
    public var levelModulation: Bool?
    /// Hidden channels of a checkerboard context (`CheckerboardContext`), or nil (as in files
    /// written before it existed) for none: every latent coded from the hyperprior alone.
    public var contextChannels: Int?
    /// Channel groups of a channel context (`ChannelContext`), beside the checkerboard one, or
    /// nil (as in files written before it existed) for none.
    public var channelGroups: Int?
    /// Hidden channels of the channel context's networks (set with `channelGroups`).
    public var channelContextChannels: Int?
    /// Channels of a full-resolution tail after the synthesis' last layer, or nil (as in files
    /// written before it existed) for none: three 3x3 convolutions with ReLUs between them
    /// (`tailSpecs`), whose first three channels carry the image through, offset by
    /// `tailOffset` so that the ReLUs pass it, so a new tail computes exactly what the
    /// synthesis before it did (`MeanScaleHyperprior.initializeTail`).
    public var tailChannels: Int?

    public var isModulated: Bool { levelModulation ?? false }

    /// The factorized models' levels q2-q7 (CompressAI's MSE lambdas), a bottom level at
    /// 0.0005 (the hyperprior reaches a given rate at about half the factorized q1's 0.001, so
    /// this keeps the bottom near 0.1 bpp), and a top level at 0.45, above CompressAI's 0.18 and
    /// the factorized q8's 0.3, for the high-quality end.
    public static let defaultLambdas: [Float] = [0.0005, 0.0035, 0.0067, 0.013, 0.025, 0.0483, 0.0932, 0.45]

    public init(channels: Int = 96, latentChannels: Int = 128, hyperChannels: Int = 96,
                lambdas: [Float] = HyperpriorConfig.defaultLambdas, levelModulation: Bool = false, contextChannels: Int? = nil,
                synthesisChannels: Int? = nil, channelGroups: Int? = nil, channelContextChannels: Int? = nil, tailChannels: Int? = nil) {
        self.channels = channels
        self.latentChannels = latentChannels
        self.synthesisChannels = synthesisChannels == channels ? nil : synthesisChannels
        self.hyperChannels = hyperChannels
        self.lambdas = lambdas
        self.levelModulation = levelModulation ? true : nil
        self.contextChannels = contextChannels
        self.channelGroups = channelGroups
        self.channelContextChannels = channelGroups == nil ? nil : channelContextChannels
        self.tailChannels = tailChannels
    }

    public var levels: Int { lambdas.count }
    /// Hidden channels of the synthesis.
    public var synthesisWidth: Int { synthesisChannels ?? channels }

    /// `N=96, M=128`, or `N=96 (synthesis 128), M=128` when the synthesis is wider.
    public var widthsDescription: String {
        "N=\(channels)\(synthesisChannels.map { " (synthesis \($0))" } ?? ""), M=\(latentChannels)"
    }
    /// Multiply-accumulates per image pixel of the tail (0 without one).
    public var tailMacsPerPixel: Double {
        Double(tailSpecs.filter { $0.kind == .conv }.reduce(0) { $0 + $1.inChannels * $1.outChannels * 9 })
    }
    /// `, tail 16`, or nothing without a tail.
    public var tailDescription: String { tailChannels.map { ", tail \($0)" } ?? "" }
    /// `, context 128, channel context 4 groups x 64`, or less, or nothing without contexts.
    public var contextsDescription: String {
        (contextChannels.map { ", context \($0)" } ?? "")
            + (channelGroups.map { ", channel context \($0) groups x \(channelContextChannels ?? 0)" } ?? "")
    }
    /// Largest channel count and level count a model file may declare.
    public static let maxChannels = AutoencoderConfig.maxChannels
    public static let maxLevels = 64

    public var isValid: Bool {
        (1...Self.maxChannels).contains(channels) && (1...Self.maxChannels).contains(latentChannels)
            && (1...Self.maxChannels).contains(hyperChannels) && (1...Self.maxLevels).contains(lambdas.count)
            && lambdas.allSatisfy { $0 > 0 && $0.isFinite }
            && (contextChannels.map { (1...Self.maxChannels).contains($0) } ?? true)
            && (synthesisChannels.map { (1...Self.maxChannels).contains($0) } ?? true)
            && hasValidChannelContext
            && (tailChannels.map { (Self.minTailChannels...Self.maxTailChannels).contains($0) } ?? true)
    }

    /// A tail needs its three carrying channels and at least one of its own; it works at full
    /// resolution, so it stays narrow.
    public static let minTailChannels = 4, maxTailChannels = 64
    /// What the tail's carrying channels add to the image (in [0, 1] units) so that their
    /// ReLUs pass it: any sample above -1 goes through unchanged.
    public static let tailOffset: Float = 1

    /// The tail's layers (empty without one): `3 -> T -> T -> 3`, 3x3, ReLU between.
    public var tailSpecs: [LayerSpec] {
        guard let t = tailChannels else { return [] }
        return [
            LayerSpec(kind: .conv, inChannels: 3, outChannels: t, kernel: 3, stride: 1, padding: 1),
            LayerSpec(kind: .relu),
            LayerSpec(kind: .conv, inChannels: t, outChannels: t, kernel: 3, stride: 1, padding: 1),
            LayerSpec(kind: .relu),
            LayerSpec(kind: .conv, inChannels: t, outChannels: 3, kernel: 3, stride: 1, padding: 1),
        ]
    }

    /// A channel context needs a checkerboard one (its coding order is built around it), at
    /// least two groups of equal size, and its hidden width; none needs neither field.
    var hasValidChannelContext: Bool {
        guard let groups = channelGroups else { return channelContextChannels == nil }
        guard let hidden = channelContextChannels else { return false }
        return contextChannels != nil && (2...Self.maxChannelGroups).contains(groups) && groups <= latentChannels
            && latentChannels % groups == 0 && (1...Self.maxChannels).contains(hidden)
    }
    public static let maxChannelGroups = 16

    /// The analysis and synthesis transforms' shape.
    public var transforms: AutoencoderConfig {
        AutoencoderConfig(objective: .rd, channels: channels, latentChannels: latentChannels, synthesisChannels: synthesisChannels)
    }

    /// Image pixels per z position along each side.
    public static let hyperDownsampling = 64

    public var hyperAnalysisSpecs: [LayerSpec] {
        let (m, h) = (latentChannels, hyperChannels)
        return [
            LayerSpec(kind: .conv, inChannels: m, outChannels: h, kernel: 3, stride: 1, padding: 1),
            LayerSpec(kind: .relu),
            LayerSpec(kind: .conv, inChannels: h, outChannels: h, kernel: 5, stride: 2, padding: 2),
            LayerSpec(kind: .relu),
            LayerSpec(kind: .conv, inChannels: h, outChannels: h, kernel: 5, stride: 2, padding: 2),
        ]
    }

    public var hyperSynthesisSpecs: [LayerSpec] {
        let (m, h) = (latentChannels, hyperChannels)
        let wide = h * 3 / 2
        return [
            LayerSpec(kind: .convTranspose, inChannels: h, outChannels: h, kernel: 5, stride: 2, padding: 2, outputPadding: 1),
            LayerSpec(kind: .relu),
            LayerSpec(kind: .convTranspose, inChannels: h, outChannels: wide, kernel: 5, stride: 2, padding: 2, outputPadding: 1),
            LayerSpec(kind: .relu),
            LayerSpec(kind: .conv, inChannels: wide, outChannels: 2 * m, kernel: 3, stride: 1, padding: 1),
        ]
    }

    /// Multiply-accumulates per image pixel of the hyper-transforms (analysis, and synthesis
    /// with the context if any).
    public var hyperMacsPerPixel: (analysis: Double, synthesis: Double) {
        let (m, h) = (Double(latentChannels), Double(hyperChannels)), wide = Double(hyperChannels * 3 / 2)
        let y = 1.0 / 256, y2 = y / 4, z = y2 / 4
        let analysis = m * h * 9 * y + h * h * 25 * y2 + h * h * 25 * z
        let synthesis = h * h * 25 * z + h * wide * 25 * y2 + wide * 2 * m * 9 * y
        var context = 0.0
        if let c = contextChannels.map(Double.init) {
            // Evaluated at the non-anchor half of the latent positions.
            context = (m * c * Double(CheckerboardContext.taps.count) + 2 * m * c + c * c + c * 2 * m) * y / 2
        }
        if let groups = channelGroups.map(Double.init), let c = channelContextChannels.map(Double.init) {
            // Every position goes through the networks of the groups after the first.
            let s = m / groups
            for g in 1..<Int(groups) { context += ((s * Double(g) + 2 * m) * c + c * c + c * 2 * s) * y }
        }
        return (analysis, synthesis + context)
    }
}
