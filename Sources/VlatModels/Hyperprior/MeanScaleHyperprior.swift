import Foundation
import VlatFormat
import VlatTensor

/// A variable-rate mean-scale hyperprior (see `HyperpriorConfig`): analysis `g_a`, synthesis
/// `g_s`, hyper-analysis `h_a`, hyper-synthesis `h_s`, the factorized prior of z, and one gain
/// vector per rate level.
///
/// At level `t` (0-based, fractional values interpolate), with per-channel gain `g`, the whole
/// entropy model works on the gained latent (gain units, Cui et al. 2021), so a lower level
/// also has a smaller, cheaper z:
/// ```
/// y = g_a(x);  z = h_a(g * y);  z^ = round(z)
/// (m, log s) = h_s(z^)                             // mean and scale of g * y
/// k = round(g * y - m)                             // the coded symbols
/// y^ = (k + m) / g;  x^ = g_s(y^)
/// ```
/// `k` is coded with a zero-mean Gaussian conditional of scale `s`.
public final class MeanScaleHyperprior: TrainableNetwork {
    public private(set) var config: HyperpriorConfig
    public let analysis: Sequential
    public let synthesis: Sequential
    public let hyperAnalysis: Sequential
    public let hyperSynthesis: Sequential
    /// The factorized prior of z.
    public let hyperPrior: FactorizedPrior
    /// `[levels, M]`: each level's per-channel log2 gain divided by `gainScale`.
    public let gains: Parameter
    /// The checkerboard context (when `config.contextChannels` is set).
    public let context: CheckerboardContext?
    /// The channel context (when `config.channelGroups` is set).
    public let channelContext: ChannelContext?
    /// The transforms' per-level modulations (none unless `config.isModulated`).
    public let modulations: [LevelModulation]
    /// The synthesis' full-resolution tail (`config.tailSpecs`), its last layers: its three
    /// convolutions, or none.
    public let tail: [Conv2d]
    public var metadata: [String: String]

    /// The layers of `specs` named `"\(name).\(index)"` as an autoencoder's are (so that its
    /// weights warm-start these), each GDN followed by a `LevelModulation` named
    /// `"\(name)_level.\(index)"` when the configuration asks for them.
    static func transform(name: String, specs: [LayerSpec], config: HyperpriorConfig, generator: inout SeededGenerator) -> Sequential {
        var layers: [any Layer] = []
        for (k, spec) in specs.enumerated() {
            layers.append(spec.build(name: "\(name).\(k)", generator: &generator))
            if config.isModulated && (spec.kind == .gdn || spec.kind == .igdn) {
                layers.append(LevelModulation(name: "\(name)_level.\(k)", channels: spec.inChannels, levels: config.levels))
            }
        }
        return Sequential(layers)
    }

    /// Gives the levels new rate-distortion trade-offs (a run moving a level's rate), keeping
    /// every weight: the count must stay the same.
    public func retarget(lambdas: [Float]) {
        precondition(lambdas.count == config.levels && lambdas.allSatisfy { $0 > 0 && $0.isFinite })
        config.lambdas = lambdas
    }

    /// Sets the rate level of each batch item for the transforms' next forward passes (no
    /// effect without modulations).
    public func setLevels(_ levels: [Double]) {
        for m in modulations { m.levels = levels }
    }

    /// The transforms' parameters that a factorized autoencoder also has (what a warm start
    /// must find), without the modulations and the tail.
    public var transformParameters: [Parameter] {
        let own = Set((modulations.flatMap(\.parameters) + tail.flatMap(\.parameters)).map(\.name))
        return (analysis.parameters + synthesis.parameters).filter { !own.contains($0.name) }
    }

    /// The stored gain is `log2(gain) / gainScale`: Adam moves every parameter by about its
    /// learning rate a step, and a gain needs to travel octaves while weights travel hundredths.
    public static let gainScale: Float = 16
    /// Learning-rate factor of the hyper-transforms and the prior of z.
    public static let freshLearningRateScale: Float = 4
    /// Learning-rate factor of the tail: a small network that starts from nothing learned,
    /// usually beside transforms trained for a long time at a low rate.
    public static let tailLearningRateScale: Float = 10

    /// Makes the tail the identity: its first three channels carry the image (plus
    /// `HyperpriorConfig.tailOffset`, which the ReLUs then pass) from layer to layer, and the
    /// last layer reads nothing else, so the synthesis computes what it did without the tail.
    /// Its other channels keep their random weights and read the carried image; only their
    /// readers in the last layer start at zero, and get a gradient from the first step.
    func initializeTail() {
        guard tail.count == 3 else { return }
        let offset = HyperpriorConfig.tailOffset
        for (k, conv) in tail.enumerated() {
            conv.weight.learningRateScale = Self.tailLearningRateScale
            conv.bias.learningRateScale = Self.tailLearningRateScale
            let (o, i) = (conv.outChannels, conv.inChannels)
            conv.weight.value.data.withUnsafeMutableBufferPointer { w in
                for out in 0..<o {
                    for input in 0..<i {
                        // The last layer reads only the carried channels; each carried channel
                        // reads only its own, at the centre tap.
                        guard out < 3 || k == 2 else { continue }
                        for t in 0..<9 { w[(out * i + input) * 9 + t] = out == input && t == 4 ? 1 : 0 }
                    }
                }
            }
            for out in 0..<min(3, o) {
                conv.bias.value.data[out] = k == 0 ? offset : k == 2 ? -offset : 0
            }
        }
    }

    /// The tail's elements that learn, by parameter name (`VariableRateStep.learnedSynthesisElements`):
    /// all but the carried path, which stays the identity `initializeTail` made, so that the
    /// tail is the image plus what its own channels add. (Left to learn, the carried path's
    /// weights drift with the optimizer's noise, and each step of that drift moves the whole
    /// image.) Empty without a tail.
    public func tailLearnedElements() -> [String: [Bool]] {
        guard tail.count == 3 else { return [:] }
        var learned = [String: [Bool]]()
        for (k, conv) in tail.enumerated() {
            let (o, i) = (conv.outChannels, conv.inChannels)
            learned[conv.weight.name] = (0..<conv.weight.value.count).map { e in
                let (out, input) = (e / (i * 9), (e / 9) % i)
                return k == 2 ? input >= 3 : out >= 3
            }
            learned[conv.bias.name] = (0..<o).map { k == 2 || $0 >= 3 }
        }
        return learned
    }

    public init(config: HyperpriorConfig, seed: UInt64, metadata: [String: String] = [:]) {
        self.config = config
        var g = SeededGenerator(seed: seed)
        let t = config.transforms
        analysis = Self.transform(name: "analysis", specs: t.analysisSpecs, config: config, generator: &g)
        let body = Self.transform(name: "synthesis", specs: t.synthesisSpecs, config: config, generator: &g)
        let tailLayers = config.tailSpecs.enumerated().map { $0.element.build(name: "synthesis_tail.\($0.offset)", generator: &g) }
        synthesis = Sequential(body.layers + tailLayers)
        tail = tailLayers.compactMap { $0 as? Conv2d }
        modulations = (analysis.layers + synthesis.layers).compactMap { $0 as? LevelModulation }
        hyperAnalysis = Sequential(name: "hyper_analysis", specs: config.hyperAnalysisSpecs, generator: &g)
        hyperSynthesis = Sequential(name: "hyper_synthesis", specs: config.hyperSynthesisSpecs, generator: &g)
        hyperPrior = FactorizedPrior(name: "hyper_prior", channels: config.hyperChannels, generator: &g)
        context = config.contextChannels.map { CheckerboardContext(latentChannels: config.latentChannels, hiddenChannels: $0, generator: &g) }
        if let groups = config.channelGroups, let hidden = config.channelContextChannels {
            channelContext = ChannelContext(latentChannels: config.latentChannels, groups: groups, hiddenChannels: hidden, generator: &g)
        } else {
            channelContext = nil
        }
        // The hyper-transforms, the prior, the context and the modulations start fresh while
        // the transforms are usually warm-started.
        for p in hyperAnalysis.parameters + hyperSynthesis.parameters + hyperPrior.parameters + modulations.flatMap(\.parameters)
            + (context?.parameters ?? []) + (channelContext?.parameters ?? []) {
            p.learningRateScale = Self.freshLearningRateScale
        }
        // Start with gains spread from 1/11 (lowest level) to 1.4 (highest), log-uniformly.
        let levels = config.levels, m = config.latentChannels
        var values = [Float](repeating: 0, count: levels * m)
        for l in 0..<levels {
            let octaves: Float = levels == 1 ? 0 : -3.5 + 4 * Float(l) / Float(levels - 1)
            for c in 0..<m { values[l * m + c] = octaves / Self.gainScale }
        }
        gains = Parameter(name: "gain", value: Tensor(shape: [levels, m], data: values))
        self.metadata = metadata
        initializeTail()
    }

    public var parameters: [Parameter] {
        analysis.parameters + synthesis.parameters + hyperAnalysis.parameters + hyperSynthesis.parameters
            + hyperPrior.parameters + [gains] + (context?.parameters ?? []) + (channelContext?.parameters ?? [])
    }

    public static let kind = "mean-scale-hyperprior"

    struct Description: Codable {
        var kind: String
        var hyperprior: HyperpriorConfig
        var metadata: [String: String]
        var trainer: String?
    }

    public func modelFile(extra: [ModelFile.Entry] = [], trainer: String? = nil, storage: ModelFile.Storage = .float32) -> ModelFile {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try! encoder.encode(Description(kind: Self.kind, hyperprior: config, metadata: metadata, trainer: trainer)),
                          as: UTF8.self)
        // Gains stay float32: a float16 gain would move every level's rate.
        let weights = parameters.map {
            ModelFile.Entry(name: $0.name, shape: $0.value.shape, values: $0.value.data, storage: $0 === gains ? .float32 : storage)
        }
        return ModelFile(json: json, tensors: weights + extra)
    }

    /// Rebuilds the network from a model file, bounding the architecture before building it and
    /// checking every tensor's name and shape. `integerHyperSynthesis`, when the caller has
    /// already read it from the same file, spares reading it again.
    public convenience init(modelFile file: ModelFile, integerHyperSynthesis: IntegerHyperSynthesis? = nil) throws {
        let description: Description
        do { description = try JSONDecoder().decode(Description.self, from: Data(file.json.utf8)) } catch {
            throw ModelFileError.incompatible("not a mean-scale hyperprior model")
        }
        guard description.kind == Self.kind else { throw ModelFileError.incompatible("model kind '\(description.kind)' is not \(Self.kind)") }
        guard description.hyperprior.isValid else { throw ModelFileError.malformed("hyperprior configuration out of bounds") }
        self.init(config: description.hyperprior, seed: 0, metadata: description.metadata)
        // An exported model stores the hyper-synthesis only as integers: take the float weights
        // those integers stand for.
        var file = file
        var integer = integerHyperSynthesis
        let missingChannelContext = config.channelGroups != nil && file["channel_context.anchors.1.0.weight"] == nil
        if integer == nil && (file["hyper_synthesis.0.weight"] == nil || (config.contextChannels != nil && file["context.symbols.weight"] == nil)
                              || missingChannelContext) {
            do { integer = try IntegerHyperSynthesis(file: file, specs: config.hyperSynthesisSpecs) } catch {
                throw ModelFileError.malformed("\(error)")
            }
        }
        if file["hyper_synthesis.0.weight"] == nil {
            if let integer {
                let convs = hyperSynthesis.layers.filter { !$0.parameters.isEmpty }
                guard convs.count == integer.layers.count else { throw ModelFileError.incompatible("integer hyper-synthesis of another shape") }
                for (layer, floats) in zip(convs, integer.floatParameters) {
                    let (w, b) = (layer.parameters[0], layer.parameters[1])
                    guard w.value.count == floats.weight.count, b.value.count == floats.bias.count else {
                        throw ModelFileError.incompatible("integer hyper-synthesis of another shape")
                    }
                    file.tensors.append(.init(name: w.name, shape: w.value.shape, values: floats.weight))
                    file.tensors.append(.init(name: b.name, shape: b.value.shape, values: floats.bias))
                }
            }
        }
        // Likewise the contexts: the floats their integers stand for, by parameter name.
        func appendFloats(of what: String, _ floats: () throws -> [String: [Float]]?) throws {
            do {
                for (name, values) in try floats() ?? [:] {
                    guard let p = parameters.first(where: { $0.name == name }), p.value.count == values.count else {
                        throw ModelFileError.incompatible("integer \(what) of another shape")
                    }
                    file.tensors.append(.init(name: name, shape: p.value.shape, values: values))
                }
            } catch let error as ModelFileError { throw error } catch { throw ModelFileError.malformed("\(error)") }
        }
        if let h = config.contextChannels, file["context.symbols.weight"] == nil, let hyper = integer {
            try appendFloats(of: "context") {
                try IntegerCheckerboardContext(file: file, latentChannels: config.latentChannels, hiddenChannels: h)?
                    .floatParameters(conditionFraction: hyper.outputFraction)
            }
        }
        if let groups = config.channelGroups, let hidden = config.channelContextChannels, missingChannelContext, let hyper = integer {
            try appendFloats(of: "channel context") {
                try IntegerChannelContext(file: file, latentChannels: config.latentChannels, groups: groups, hiddenChannels: hidden)?
                    .floatParameters(conditionFraction: hyper.outputFraction)
            }
        }
        let expected = parameters.reduce(0) { $0 + $1.value.count }
        let present = file.tensors.reduce(0) { $0 + $1.values.count }
        guard present >= expected else {
            throw ModelFileError.incompatible("the file holds \(present) values but the architecture needs \(expected)")
        }
        for p in parameters {
            guard let entry = file[p.name], entry.shape == p.value.shape else {
                throw ModelFileError.incompatible("model file has no tensor '\(p.name)' of shape \(p.value.shape)")
            }
            p.value = Tensor(shape: entry.shape, data: entry.values)
        }
    }

    /// The configuration a model file describes, without building it.
    public static func config(in file: ModelFile) throws -> HyperpriorConfig {
        do { return try JSONDecoder().decode(Description.self, from: Data(file.json.utf8)).hyperprior } catch {
            throw ModelFileError.malformed("hyperprior JSON: \(error)")
        }
    }

    // MARK: - Levels

    /// Per-channel log2 gains at `level` (0-based; fractional levels interpolate linearly
    /// between the two neighbouring levels' log2 gains; clamped to the trained range).
    public func log2Gains(level: Double) -> [Double] {
        let m = config.latentChannels, top = config.levels - 1
        let t = min(max(level, 0), Double(top))
        let lo = min(Int(t.rounded(.down)), top), hi = min(lo + 1, top), f = t - Double(lo)
        return (0..<m).map { c in
            let a = Double(gains.value.data[lo * m + c]), b = Double(gains.value.data[hi * m + c])
            return Double(Self.gainScale) * (a + (b - a) * f)
        }
    }

    // MARK: - Inference in floating point (validation, analysis)

    /// Per-channel gains at `level`.
    public func gainValues(level: Double) -> [Double] { log2Gains(level: level).map { exp2($0) } }

    /// `g * y` for a latent `y` `[N, M, h, w]`, batch item n at `levels[n]`: what the whole
    /// entropy model sees.
    public func gainedLatent(_ y: Tensor, levels: [Double]) -> Tensor {
        precondition(levels.count == y.n && y.c == config.latentChannels)
        var yg = y
        let plane = y.h * y.w, m = config.latentChannels
        for n in 0..<y.n {
            let gains = gainValues(level: levels[n])
            for c in 0..<m {
                let g = Float(gains[c]), base = (n * m + c) * plane
                for i in base..<(base + plane) { yg.data[i] *= g }
            }
        }
        return yg
    }

    /// z of a gained latent `g * y`, rounded to integers: what the codec transmits first.
    public func hyperLatent(_ y: Tensor) -> Tensor {
        var z = hyperAnalysis.forward(y, training: false)
        for i in 0..<z.count { z.data[i] = z.data[i].rounded() }
        return z
    }

    /// Means and natural-log scales of the gained latent `yg`, `[N, M, h, w]` each, predicted
    /// from `zHat` (cropped to the latent's size) and, with a context, from `yg`'s anchors'
    /// rounded residuals.
    public func meanAndLogScale(_ zHat: Tensor, gained yg: Tensor) -> (Tensor, Tensor) {
        var p = hyperSynthesis.forward(zHat, training: false)
        if p.h != yg.h || p.w != yg.w { p = TensorOps.crop(p, height: yg.h, width: yg.w) }
        return TensorOps.splitChannels(conditions(p, gained: yg, training: false), at: config.latentChannels)
    }

    /// The hyper-synthesis output `p` (`[N, 2M, h, w]`) corrected by the contexts, in coding
    /// order: the channel context at the anchors, the checkerboard context at the other
    /// positions from the anchors' symbols, the channel context there. Decoded values are taken
    /// from the gained latent `yg` with `noise` added before rounding (no rounding when
    /// `rounded` is false; see `ChannelContext.correct`). `p` itself without contexts.
    public func conditions(_ p: Tensor, gained yg: Tensor, noise: [Float]? = nil, rounded: Bool = true, training: Bool) -> Tensor {
        var p = p
        channelContext?.correct(&p, anchors: true, gained: yg, noise: noise, rounded: rounded, training: training)
        if let context {
            let k = CheckerboardContext.anchorSymbols(yg, conditions: p, noise: noise, rounded: rounded)
            p = CheckerboardContext.corrected(p, by: context.forward(symbols: k, conditions: p, training: training))
        }
        channelContext?.correct(&p, anchors: false, gained: yg, noise: noise, rounded: rounded, training: training)
        return p
    }
}
