import Foundation
import VlatEntropy
import VlatFormat
import VlatImageIO
import VlatModels
import VlatTensor

/// A trained variable-rate mean-scale hyperprior ready to code images: the float transforms,
/// and everything that decides symbols and tables in exact integers, read from the model file
/// so that encoder and decoder agree on every machine:
/// - `zTables`: integer CDFs of z, one per channel (from the factorized prior);
/// - `yTables`: integer CDFs of a zero-mean Gaussian at each scale of `scaleTable`;
/// - `hyperSynthesis`: the hyper-synthesis as an integer network (`IntegerHyperSynthesis`);
/// - `context`: the checkerboard context as an integer network (`IntegerCheckerboardContext`),
///   for a model that has one (it codes with header coder 6);
/// - `channelContext`: the channel context as an integer network (`IntegerChannelContext`), for
///   a model that has one beside the checkerboard context (header coder 7: coder 6's payload,
///   its groups coded in order);
/// - `logGains`: each level's per-channel natural-log gain in units of 2^-16 (exact integers, so
///   that a fractional level means the same gains everywhere; the gains scale the latent
///   before the entropy model, and only the reconstruction divides by them).
///
/// Model-file tensors (beside the network's own): `entropy.z.*` and `entropy.y.*` (as
/// `EntropyTables`), `integer_hyper_synthesis.<k>.weight`, `.bias_high`, `.bias_low` (bias =
/// high * 2^24 + low) for each convolution k, `integer_hyper_synthesis.shifts` (each layer's
/// shift, then the output fraction), `integer_context.*` likewise for a context (with
/// `integer_context.io_shifts`), and `integer_gains` `[levels, M]`. Layout in docs/FORMAT.md.
public final class HyperpriorCodecModel {
    public let network: MeanScaleHyperprior
    public let hyperSynthesis: IntegerHyperSynthesis
    public let context: IntegerCheckerboardContext?
    public let channelContext: IntegerChannelContext?
    public let zTables: [QuantizedCDF]
    public let yTables: [QuantizedCDF]
    /// `[level][channel]`: ln(gain) * 2^16, rounded.
    public let logGains: [[Int64]]
    /// The arithmetic of the analysis transform (`InferencePrecision`): bfloat16 products by
    /// default where the CPU has them, about twice as fast. The analysis is not normative: a file
    /// records the symbols it led to and the decoder never runs it, so its precision moves only
    /// which symbols an encoder picks (`vlat bench --vlat-analysis` measures what that costs).
    /// The first convolution, which reads the image's samples, stays float32 either way: rounding
    /// the samples to 8 significant bits cost about as much as all the later layers' rounding.
    public var analysisPrecision = InferencePrecision.fastest {
        didSet { applyAnalysisPrecision() }
    }

    private func applyAnalysisPrecision() {
        var first = true
        for layer in network.analysis.layers {
            if let conv = layer as? Conv2d {
                conv.inferencePrecision = first ? .float32 : analysisPrecision
                first = false
            }
            if let gdn = layer as? GDN { gdn.inferencePrecision = analysisPrecision }
        }
    }

    /// Fraction bits of log-gains and of the log-scales the scale index is computed from.
    public static let logFraction = 16
    /// The scale table: `scaleCount` scales, log-uniform, `exp((scaleLow + k * scaleStep) / 2^16)`.
    public static let scaleCount = 64
    /// ln(0.11) * 2^16 and (ln(256) - ln(0.11)) / 63 * 2^16, rounded: CompressAI's scale
    /// table (0.11 to 256). Literals, so that no machine's `log` can move them.
    public static let scaleLow: Int64 = -144_656
    public static let scaleStep: Int64 = 8_065
    /// Largest level code (`level * 256`) a model of `levels` levels takes.
    public static let levelFraction = 8

    public static func scale(index k: Int) -> Double { exp(Double(scaleLow + Int64(k) * scaleStep) / 65536) }

    public init(file: ModelFile) throws {
        let config = try MeanScaleHyperprior.config(in: file)
        guard config.isValid else { throw ModelFileError.malformed("hyperprior configuration out of bounds") }
        let integer: IntegerHyperSynthesis?
        do { integer = try IntegerHyperSynthesis(file: file, specs: config.hyperSynthesisSpecs) } catch {
            throw ModelFileError.malformed("\(error)")
        }
        guard let integer else {
            throw CodecError.notACodecModel("the model has no integer hyper-synthesis (export it with vlat export --calibrate)")
        }
        let network = try MeanScaleHyperprior(modelFile: file, integerHyperSynthesis: integer)
        self.network = network
        hyperSynthesis = integer
        if let h = config.contextChannels {
            guard let context = try IntegerCheckerboardContext(file: file, latentChannels: config.latentChannels, hiddenChannels: h) else {
                throw CodecError.notACodecModel("the model has no integer context (export it with vlat export --calibrate)")
            }
            self.context = context
        } else {
            context = nil
        }
        if let groups = config.channelGroups, let hidden = config.channelContextChannels {
            let stored: IntegerChannelContext?
            do { stored = try IntegerChannelContext(file: file, latentChannels: config.latentChannels, groups: groups, hiddenChannels: hidden) } catch {
                throw ModelFileError.malformed("\(error)")
            }
            guard let stored else {
                throw CodecError.notACodecModel("the model has no integer channel context (export it with vlat export --calibrate)")
            }
            channelContext = stored
        } else {
            channelContext = nil
        }
        zTables = try EntropyTables.read(file, channels: config.hyperChannels, prefix: "entropy.z")
        yTables = try EntropyTables.read(file, channels: Self.scaleCount, prefix: "entropy.y")
        guard hyperSynthesis.inputChannels == config.hyperChannels, hyperSynthesis.outputChannels == 2 * config.latentChannels,
              hyperSynthesis.outputFraction <= Self.logFraction else {
            throw CodecError.notACodecModel("the integer hyper-synthesis does not fit the network")
        }
        guard let gains = file["integer_gains"], gains.shape == [config.levels, config.latentChannels] else {
            throw CodecError.notACodecModel("the model has no integer gains")
        }
        let ints = gains.values.compactMap { Int64(exactly: $0) }
        guard ints.count == gains.values.count, ints.allSatisfy({ abs($0) < 1 << 24 }) else {
            throw CodecError.notACodecModel("the integer gains are not integers")
        }
        logGains = (0..<config.levels).map { Array(ints[($0 * config.latentChannels)..<(($0 + 1) * config.latentChannels)]) }
        applyAnalysisPrecision()
    }

    public var levels: Int { network.config.levels }
    /// The header coder of this model's files: 5, 6 with a checkerboard context, 7 with a
    /// channel context beside it.
    public var coder: ContainerHeader.Coder {
        channelContext != nil ? .hyperpriorChannelContext : context != nil ? .hyperpriorContext : .hyperprior
    }
    /// The quality a hyperprior model codes at when none is named.
    public static let defaultQuality = 4

    /// The level code of a 0-based level: `level * 256`, rounded.
    public func levelCode(_ level: Double) -> Int {
        Int((min(max(level, 0), Double(levels - 1)) * 256).rounded())
    }

    /// The analysis transform's latent of `x` at `levelCode` (its modulations, if any, set to the level).
    public func analysis(_ x: Tensor, levelCode: Int) -> Tensor {
        network.setLevels(Array(repeating: Double(levelCode) / 256, count: x.n))
        return network.analysis.forward(x, training: false)
    }

    /// The same for an image (padded by edge replication to multiples of 16), computed in bands
    /// of rows (`BandedTransforms`).
    public func analysis(_ image: Image, levelCode: Int) -> Tensor {
        network.setLevels([Double(levelCode) / 256])
        return BandedTransforms.analyze(image, with: network.analysis, channels: network.config.channels)
    }

    /// Per-channel ln(gain) * 2^16 at `levelCode`: exact integer interpolation between levels.
    public func logGains(levelCode code: Int) throws -> [Int64] {
        let lo = code >> Self.levelFraction, frac = Int64(code & 0xFF)
        guard code >= 0, lo < levels, lo < levels - 1 || frac == 0 else {
            throw CodecError.corruptPayload("level code \(code) is outside the model's \(levels) levels")
        }
        guard frac > 0 else { return logGains[lo] }
        return zip(logGains[lo], logGains[lo + 1]).map { a, b in a + (((b - a) * frac) >> 8) }
    }

    /// The table index of a latent from its integer log-scale (units `2^-outputFraction`): the
    /// nearest scale of the table, clamped to it.
    @inline(__always)
    public static func scaleIndex(logScale: Int32, fraction: Int) -> Int {
        let l = Int64(logScale) << Int64(logFraction - fraction)
        let k = (l - scaleLow + scaleStep / 2) / scaleStep
        let floored = (l - scaleLow + scaleStep / 2) < 0 ? -1 : k
        return Int(min(max(floored, 0), Int64(scaleCount - 1)))
    }

    // MARK: - Export

    /// The model file for a trained network: weights (`storage`), the integer tables and the
    /// integer hyper-synthesis, its activation scales calibrated on `calibration` images
    /// (training images, never test images).
    public static func export(_ network: MeanScaleHyperprior, calibration: [Image], storage: ModelFile.Storage = .float16) throws -> ModelFile {
        guard !calibration.isEmpty else { throw CodecError.notACodecModel("the hyperprior's export needs calibration images") }
        // The exported transforms are what the codec will run: calibrate on them, as stored.
        let stored = try MeanScaleHyperprior(modelFile: ModelFile.parse(network.modelFile(storage: storage).serialized()))
        // z at every level: its range grows with the gains.
        let zs = calibration.flatMap { image -> [Tensor] in
            let x = ImageCodec.paddedTensor(image)
            return (0..<stored.config.levels).map { level in
                stored.setLevels([Double(level)])
                let y = stored.analysis.forward(x, training: false)
                return stored.hyperLatent(stored.gainedLatent(y, levels: [Double(level)]))
            }
        }
        let integer = try IntegerHyperSynthesis.quantize(stored.hyperSynthesis, calibration: zs, maxOutputFraction: logFraction)
        var extra = EntropyTables.entries(try stored.hyperPrior.quantizedTables(), prefix: "entropy.z")
        extra += EntropyTables.entries(try gaussianTables(), prefix: "entropy.y")
        extra += integer.entries()
        if stored.context != nil {
            extra += try ContextCalibration.integerContexts(of: stored, hyperSynthesis: integer, calibration: calibration, zs: zs)
        }
        let m = stored.config.latentChannels
        let gains = (0..<stored.config.levels).flatMap { l in
            stored.log2Gains(level: Double(l)).map { Float(($0 * M_LN2 * 65536).rounded()) }
        }
        extra.append(.init(name: "integer_gains", shape: [stored.config.levels, m], values: gains))
        // The float hyper-synthesis and context are not stored: the integer ones stand for them
        // (see `MeanScaleHyperprior.init(modelFile:)`).
        var file = stored.modelFile(extra: extra, storage: storage)
        file.tensors.removeAll { $0.name.hasPrefix("hyper_synthesis.") || $0.name.hasPrefix("context.") || $0.name.hasPrefix("channel_context.") }
        return file
    }

    /// Integer CDFs of the zero-mean Gaussian at each scale of the table, over residuals within
    /// about five scales (the rest is the escape).
    static func gaussianTables() throws -> [QuantizedCDF] {
        try (0..<scaleCount).map { k in
            let scale = Self.scale(index: k)
            let r = Int((scale * 5).rounded(.up)) + 1
            let pmf = GaussianConditional.pmf(scale: scale, low: -r, high: r)
            return try QuantizedCDF(offset: Int32(-r), pmf: pmf, tail: max(0, 1 - pmf.reduce(0, +)))
        }
    }
}
