import Foundation
import VlatFormat
import VlatMetrics
import VlatModels
import VlatTensor

/// One progress report, emitted after every step.
public struct TrainingProgress: Sendable {
    public var step: Int
    public var steps: Int
    public var elapsed: Double
    public var stepsPerSecond: Double
    public var learningRate: Float
    public var loss: Double
    public var mse: Double
    /// The latent's cost in bits per pixel: the KL term of a VAE, or the rate under the prior of
    /// a rate-distortion model; nil for a plain autoencoder.
    public var klBitsPerPixel: Double?
    /// Set on steps where validation ran.
    public var validationPSNR: Double?
    /// Rate-distortion models: the validation crops' rate in bits per pixel under the prior,
    /// with rounded latents (what the entropy coder would spend, before its few bytes of overhead).
    public var validationBPP: Double?

    public var psnr: Double { PSNR.fromMSE(mse, peak: 1) }
    public var eta: Double { stepsPerSecond > 0 ? Double(steps - step) / stepsPerSecond : .infinity }
}

/// How a run ended.
public enum TrainingOutcome: Sendable, Equatable {
    case finished
    case interrupted(atStep: Int)
}

/// Trains an `Autoencoder` (objectives ae, vae, rd) or a `Denoiser` (objective denoise) with
/// Adam on random crops. Deterministic: the same options and data give the same weights, and a
/// run resumed from a checkpoint continues bit for bit.
public final class Trainer {
    public let options: TrainingOptions
    public let network: any TrainableNetwork
    /// The network when it is an autoencoder (every objective but denoise).
    public var model: Autoencoder! { network as? Autoencoder }
    /// The network when the objective is denoise.
    public var denoiser: Denoiser? { network as? Denoiser }
    /// The network when the objective is hyperprior.
    public var hyperprior: MeanScaleHyperprior? { network as? MeanScaleHyperprior }
    /// Hyperprior: validation PSNR and rate of each level, at the last validation.
    public private(set) var lastLevelValidation: [(psnr: Double, bpp: Double)] = []
    /// Hyperprior: validation crops are this wide (at least the training crop).
    public static let hyperpriorValidationCrop = 256
    /// The trainer state of a checkpoint file, nil for a model file.
    static func checkpointState(_ file: ModelFile) -> CheckpointState? {
        NetworkKind.trainerState(in: file).flatMap { try? JSONDecoder().decode(CheckpointState.self, from: Data($0.utf8)) }
    }

    /// A checkpoint's Adam moments of one kind (`"m"` or `"v"`), by parameter name.
    static func moments(_ kind: String, _ file: ModelFile) -> [String: Tensor] {
        Dictionary(file.tensors.filter { $0.name.hasPrefix("optimizer.\(kind).") }.map {
            (String($0.name.dropFirst("optimizer.\(kind).".count)), Tensor(shape: $0.shape, data: $0.values))
        }) { a, _ in a }
    }

    /// Several initial models as one (`vlat train --init-from A --init-from B`): each tensor
    /// from the first that has it, the description (architecture, metadata, trainer state) the
    /// first's. So a run's checkpoint and a model trained with a part it lacks (a tail trained
    /// alone on an earlier state of the run) start one network together.
    public static func combinedInitial(_ files: [ModelFile]) -> ModelFile? {
        guard var combined = files.first else { return nil }
        var names = Set(combined.tensors.map(\.name))
        for file in files.dropFirst() {
            for t in file.tensors where names.insert(t.name).inserted { combined.tensors.append(t) }
        }
        return combined
    }

    /// Training images whose latents choose the channels a widened hyperprior splits.
    public static let wideningProbeImages = 16
    public let adam: Adam
    /// The objective's forward and backward pass (`Steps/`).
    private let trainingStep: any TrainingStep
    public private(set) var step: Int = 0
    /// Wall seconds spent training across all sessions of this run (restored on resume).
    public private(set) var elapsedBefore: Double = 0
    public private(set) var lastValidationPSNR: Double?
    public private(set) var lastValidationBPP: Double?
    /// The lowest validation score so far and the step that reached it (`validationScore`);
    /// kept in checkpoints, so a resumed run compares against its whole history.
    public private(set) var bestValidation: (step: Int, score: Double)?
    /// True right after a validation that set a new best, until the next step.
    public var isBestValidation: Bool { bestValidation?.step == step && lastValidationStep == step }
    private var lastValidationStep = -1
    /// Tensors copied from an `initial` model.
    public private(set) var initializedTensors: [String] = []
    /// The learned tensors of the initial model that this network has no place for (a context
    /// the run's options leave out, say): a warm start drops them.
    public private(set) var droppedTensors: [String] = []
    /// Whether Adam's state came from the `initial` checkpoint too (a widened hyperprior's does).
    public private(set) var initializedOptimizer = false
    private let sampler: BatchSampler
    private let validationCrops: [Tensor]
    /// Denoise: the validation crops corrupted once, from a fixed seed.
    private let validationInputs: [Tensor]
    /// Denoise: mean PSNR of the corrupted validation crops themselves (what doing nothing scores).
    public private(set) var validationInputPSNR: Double?

    /// A fresh run (its weights copied where they match from `initial`, if given), or a resumed
    /// one when `checkpoint` is given.
    /// `checkpoint` resumes a run with everything it saved but the step count and the data
    /// path, and `learningRate` when given (to lower it towards the end of a run; Adam's
    /// moments carry on), and a hyperprior's `lambdas` when given (as many as it has levels: to
    /// move a level's rate) and `trainedLevels` (0-based); with either, the best validation so
    /// far is forgotten, its score being in the old trade-offs.
    public init(options: TrainingOptions, images: TrainingImages, checkpoint: ModelFile? = nil, initial: ModelFile? = nil,
                learningRate: Float? = nil, lambdas: [Float]? = nil, trainedLevels: [Int]? = nil) throws {
        try options.validate()
        var options = options
        if let checkpoint {
            guard let json = NetworkKind.trainerState(in: checkpoint),
                  let state = try? JSONDecoder().decode(CheckpointState.self, from: Data(json.utf8)) else {
                throw TrainingError.incompatibleCheckpoint("not a training checkpoint (no trainer state): resume from the .ckpt file")
            }
            let saved = state.options
            // A hyperprior's lambdas are trade-offs, not architecture.
            var wanted = options.hyperpriorConfig
            wanted.lambdas = saved.hyperpriorConfig.lambdas
            guard saved.config == options.config, saved.objective != .denoise || saved.denoiserConfig == options.denoiserConfig,
                  saved.objective != .hyperprior || saved.hyperpriorConfig == wanted else {
                func describe(_ o: TrainingOptions) -> String {
                    guard o.objective == .hyperprior else { return "\(o.objective.rawValue), N=\(o.channels), M=\(o.latentChannels)" }
                    let h = o.hyperpriorConfig
                    return "\(o.objective.rawValue), \(h.widthsDescription)"
                        + ", z \(h.hyperChannels), \(h.levels) levels, modulations \(h.isModulated ? "on" : "off")"
                        + (h.contextChannels == nil ? ", context none" : h.contextsDescription) + h.tailDescription
                }
                throw TrainingError.incompatibleCheckpoint(
                    "checkpoint is from another architecture (\(describe(saved))); this run asks for \(describe(options))")
            }
            // Everything but the step count and the data path comes from the checkpoint.
            let steps = options.steps, data = options.data
            options = saved
            options.steps = steps
            options.data = data
            if let learningRate { options.learningRate = learningRate }
            var retargeted = false
            if let trainedLevels, trainedLevels != saved.trainedLevels {
                guard trainedLevels.allSatisfy({ (0..<saved.hyperpriorConfig.levels).contains($0) }) else {
                    throw TrainingError.invalidOption("the checkpoint has \(saved.hyperpriorConfig.levels) levels: --train-levels must name some of them")
                }
                options.trainedLevels = trainedLevels
                retargeted = true
            }
            if let lambdas, options.objective == .hyperprior, lambdas != saved.hyperpriorConfig.lambdas {
                guard lambdas.count == saved.hyperpriorConfig.levels, lambdas.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                    throw TrainingError.invalidOption("the checkpoint has \(saved.hyperpriorConfig.levels) levels: give as many positive lambdas")
                }
                options.hyperprior = saved.hyperpriorConfig
                options.hyperprior?.lambdas = lambdas
                retargeted = true
            }
            self.options = options
            network = try NetworkKind.load(checkpoint)
            if retargeted, let lambdas { (network as? MeanScaleHyperprior)?.retarget(lambdas: lambdas) }
            adam = Trainer.makeAdam(network: network, options: options)
            let m = try network.parameters.map { p -> [Float] in
                guard let e = checkpoint["optimizer.m.\(p.name)"], e.values.count == p.value.count else {
                    throw TrainingError.incompatibleCheckpoint("checkpoint lacks optimizer state for \(p.name)")
                }
                return e.values
            }
            let v = try network.parameters.map { p -> [Float] in
                guard let e = checkpoint["optimizer.v.\(p.name)"], e.values.count == p.value.count else {
                    throw TrainingError.incompatibleCheckpoint("checkpoint lacks optimizer state for \(p.name)")
                }
                return e.values
            }
            adam.restore(t: state.adamSteps, m: m, v: v)
            step = state.step
            elapsedBefore = state.elapsedSeconds
            lastValidationPSNR = state.validationPSNR
            if !retargeted, let s = state.bestValidationStep, let v = state.bestValidationScore { bestValidation = (s, v) }
        } else {
            self.options = options
            switch options.objective {
            case .denoise: network = Denoiser(config: options.denoiserConfig, seed: options.seed)
            case .hyperprior: network = MeanScaleHyperprior(config: options.hyperpriorConfig, seed: options.seed)
            default: network = Autoencoder(config: options.config, seed: options.seed)
            }
            if options.priorOnly == true && initial == nil {
                throw TrainingError.invalidOption("--prior-only needs --init-from: the trained transforms whose latents the prior learns")
            }
            if options.synthesisOnly == true && initial == nil {
                throw TrainingError.invalidOption("--synthesis-only needs --init-from: the trained analysis and entropy model whose latents the synthesis learns")
            }
            if options.tailOnly == true && initial == nil {
                throw TrainingError.invalidOption("--tail-only needs --init-from: the trained network whose reconstructions the tail learns to improve")
            }
            var widenedOptimizer: (Int, [[Float]], [[Float]])?
            // Through the network's own loader where it has one (an exported hyperprior keeps
            // its hyper-synthesis as integers), else the file's tensors as they are.
            let loaded = initial.flatMap { try? NetworkKind.load($0) }
            if let wider = network as? MeanScaleHyperprior, let narrower = loaded as? MeanScaleHyperprior,
               narrower.config.latentChannels < wider.config.latentChannels {
                // A hyperprior with a wider latent than the initial one: widened by splitting the
                // channels that cost least, measured on the first training images.
                let count = wider.config.latentChannels - narrower.config.latentChannels
                let probe = BatchSampler.centreCrops(Array(images.train.prefix(Self.wideningProbeImages)), size: Self.hyperpriorValidationCrop)
                let splitting = narrower.leastSpreadChannels(count, on: probe)
                initializedTensors = try wider.widenLatent(from: narrower, splitting: splitting)
                // From a checkpoint, Adam goes on with its moments, widened alike.
                if let initial, let state = Self.checkpointState(initial) {
                    let (m, v) = try wider.widenedMoments(from: narrower, splitting: splitting, firstMoments: Self.moments("m", initial),
                                                          secondMoments: Self.moments("v", initial))
                    widenedOptimizer = (state.adamSteps, m, v)
                }
            } else if let wider = network as? MeanScaleHyperprior, let narrower = loaded as? MeanScaleHyperprior,
                      narrower.config.synthesisWidth < wider.config.synthesisWidth {
                // A hyperprior with a wider synthesis than the initial one: the new channels
                // start as fresh features that nothing reads yet.
                initializedTensors = try wider.widenSynthesis(from: narrower)
                if let initial, let state = Self.checkpointState(initial) {
                    let (m, v) = try wider.widenedSynthesisMoments(from: narrower, firstMoments: Self.moments("m", initial),
                                                                   secondMoments: Self.moments("v", initial))
                    widenedOptimizer = (state.adamSteps, m, v)
                }
            } else if let initial {
                // Everything must match but an autoencoder's prior, which may start fresh.
                var copied: Set<String> = []
                // The network's own loader first; the file's other tensors as they are (those of
                // a second initial model, `combinedInitial`, which the first's architecture lacks).
                let raw = Dictionary(initial.tensors.map { ($0.name, Tensor(shape: $0.shape, data: $0.values)) }) { a, _ in a }
                let source = loaded.map { Dictionary($0.parameters.map { ($0.name, $0.value) }) { a, _ in a }.merging(raw) { own, _ in own } } ?? raw
                for p in network.parameters {
                    if let value = source[p.name], value.shape == p.value.shape {
                        p.value = value
                        copied.insert(p.name)
                    }
                }
                // An autoencoder's or a hyperprior's transforms must come from the initial model;
                // its entropy models (and a hyperprior's hyper-transforms and gains) may start fresh.
                let required = (network as? Autoencoder).map { $0.analysis.parameters + $0.synthesis.parameters }
                    ?? (network as? MeanScaleHyperprior).map(\.transformParameters)
                    ?? network.parameters
                if let missing = required.first(where: { !copied.contains($0.name) }) {
                    throw TrainingError.incompatibleCheckpoint("the initial model has no tensor '\(missing.name)' of shape \(missing.value.shape): it is another architecture")
                }
                initializedTensors = network.parameters.map(\.name).filter(copied.contains)
                droppedTensors = (loaded?.parameters.map(\.name) ?? []).filter { !copied.contains($0) }
            }
            adam = Trainer.makeAdam(network: network, options: options)
            if let (t, m, v) = widenedOptimizer {
                var m = m
                if options.synthesisOnly == true, let hyperprior = network as? MeanScaleHyperprior {
                    // Frozen parts keep no momentum: with no gradient and a zero first moment,
                    // Adam leaves them exactly as they are.
                    let learned = Set(hyperprior.synthesis.parameters.map(\.name))
                    let newElements = options.frozenSynthesisChannels.map { hyperprior.newSynthesisElements(oldWidth: $0) }
                    for (k, p) in network.parameters.enumerated() {
                        if !learned.contains(p.name) {
                            m[k] = [Float](repeating: 0, count: m[k].count)
                        } else if let mask = newElements?[p.name] {
                            for i in 0..<m[k].count where !mask[i] { m[k][i] = 0 }
                        }
                    }
                }
                adam.restore(t: t, m: m, v: v)
                initializedOptimizer = true
            }
        }
        trainingStep = try Trainer.makeStep(network: network, options: self.options)
        sampler = BatchSampler(images: images.train, batchSize: options.batch, crop: options.crop, seed: options.seed)
        let validationCrop = options.objective == .hyperprior ? max(options.crop, Self.hyperpriorValidationCrop) : options.crop
        validationCrops = BatchSampler.centreCrops(Array(images.validation.prefix(options.validationImages)), size: validationCrop)
        if options.objective == .denoise {
            let corruption = options.denoise?.corruption ?? TrainingOptions.DenoiseOptions().corruption
            validationInputs = validationCrops.enumerated().map { i, x in
                var g = SeededGenerator(seed: 0x7A11_DA7E, stream: UInt64(i))
                return Trainer.validationCorruption(corruption, index: i).apply(x, generator: &g)
            }
            if !validationCrops.isEmpty {
                validationInputPSNR = zip(validationInputs, validationCrops).reduce(0.0) { $0 + Self.psnr($1.0, $1.1) } / Double(validationCrops.count)
            }
        } else {
            validationInputs = []
        }
    }

    /// The fixed degradation of validation crop `index` for a denoiser trained on `training`:
    /// the benchmark's headline cases, alternately noise sigma 25 and blur sigma 2 + noise
    /// sigma 2 (each capped by the trained range; noise only when the run has no blur). A
    /// mixture of random strengths would make mean PSNR reward leaving near-clean crops alone
    /// more than it rewards denoising, which hides progress.
    static func validationCorruption(_ training: Corruption, index: Int) -> Corruption {
        let noiseTop = training.noiseSigma?.upperBound ?? 0
        if let blur = training.blurSigma, index % 2 == 1 || noiseTop == 0 {
            let b = min(2, blur.upperBound), n = min(2, noiseTop)
            return Corruption(noiseSigma: n > 0 ? n...n : nil, blurSigma: b...b, clip: training.clip)
        }
        let n = min(25, noiseTop)
        return Corruption(noiseSigma: n...n, clip: training.clip)
    }

    static func makeAdam(network: any TrainableNetwork, options: TrainingOptions) -> Adam {
        Adam(parameters: network.parameters, learningRate: options.learningRate,
             clipNorm: options.clipNorm > 0 ? options.clipNorm : nil, schedule: options.learningRateSchedule)
    }

    /// What a checkpoint stores beside the weights and optimizer moments.
    struct CheckpointState: Codable {
        var options: TrainingOptions
        var step: Int
        var adamSteps: Int
        var elapsedSeconds: Double
        var validationPSNR: Double?
        var bestValidationStep: Int?
        var bestValidationScore: Double?
    }

    /// One optimisation step on `x`. Returns (loss, mse, kl in bits per pixel); the MSE is NaN
    /// when the step does not reconstruct (`priorOnly`).
    func trainStep(on x: Tensor) -> (Double, Double, Double?) {
        let result = trainingStep.train(on: x, step: step)
        adam.step()
        return (result.loss, result.mse, result.bitsPerPixel)
    }

    /// The objective's step type for `network`; a network of another kind than the objective
    /// needs (a damaged checkpoint) is refused.
    static func makeStep(network: any TrainableNetwork, options: TrainingOptions) throws -> any TrainingStep {
        let mismatch = TrainingError.incompatibleCheckpoint("the checkpoint's network is not what its objective '\(options.objective.rawValue)' trains")
        switch options.objective {
        case .ae, .vae, .rd:
            guard let model = network as? Autoencoder else { throw mismatch }
            switch options.objective {
            case .vae: return VAEStep(model: model, beta: options.beta, seed: options.seed)
            case .rd:
                guard model.prior != nil else { throw mismatch }
                return RateDistortionStep(model: model, lambda: options.lambda, seed: options.seed, priorOnly: options.priorOnly == true)
            default: return AutoencoderStep(model: model)
            }
        case .denoise:
            guard let denoiser = network as? Denoiser else { throw mismatch }
            return DenoiseStep(denoiser: denoiser, corruption: options.denoise?.corruption ?? TrainingOptions.DenoiseOptions().corruption,
                               seed: options.seed)
        case .hyperprior:
            guard let hyperprior = network as? MeanScaleHyperprior else { throw mismatch }
            var step = VariableRateStep(network: hyperprior, seed: options.seed)
            step.entropyOnly = options.priorOnly == true
            step.synthesisOnly = options.synthesisOnly == true
            step.tailOnly = options.tailOnly == true
            let tail = hyperprior.tailLearnedElements()
            step.learnedSynthesisElements = options.frozenSynthesisChannels.map { hyperprior.newSynthesisElements(oldWidth: $0).merging(tail) { $1 } }
                ?? (tail.isEmpty ? nil : tail)
            step.trainedLevels = options.trainedLevels
            return step
        }
    }

    /// Mean PSNR (dB, peak 1, outputs clamped to [0, 1]) over the validation crops.
    public func validate() -> Double? { evaluate()?.psnr }

    /// Mean PSNR over the validation crops and, for rate-distortion models, their mean rate in
    /// bits per pixel with rounded latents.
    public func evaluate() -> (psnr: Double, bpp: Double?)? {
        guard !validationCrops.isEmpty else { return nil }
        var psnr = 0.0, bits = 0.0
        if let denoiser {
            for (x, input) in zip(validationCrops, validationInputs) {
                psnr += Self.psnr(denoiser.forward(input, training: false), x)
            }
            return (psnr / Double(validationCrops.count), nil)
        }
        if let hyperprior {
            // The summary is the mean over levels; every level's point is kept beside it.
            let levels = VariableRateStep.evaluate(hyperprior, crops: validationCrops)
            lastLevelValidation = levels
            let n = Double(levels.count)
            return (levels.reduce(0) { $0 + $1.psnr } / n, levels.reduce(0) { $0 + $1.bpp } / n)
        }
        for x in validationCrops {
            let latent = model.latent(x)
            psnr += Self.psnr(model.synthesis.forward(latent, training: false), x)
            if let prior = model.prior { bits += prior.forward(latent, training: false).bits / Double(x.h * x.w) }
        }
        let n = Double(validationCrops.count)
        return (psnr / n, model.prior == nil ? nil : bits / n)
    }

    /// The last validation as one number, lower is better: the training loss's rate-distortion
    /// sum for models with a rate (for the hyperprior, the levels' weighted sum, as in
    /// `VariableRateStep`), minus the PSNR otherwise. Nil before the first validation.
    public func validationScore() -> Double? {
        guard let psnr = lastValidationPSNR else { return nil }
        func mse(_ psnr: Double) -> Double { pow(10, -psnr / 10) }
        if let hyperprior, !lastLevelValidation.isEmpty {
            // Over the trained levels only: a fixed-rate run is scored at its own rate.
            let lambdas = hyperprior.config.lambdas, weights = VariableRateStep.weights(lambdas)
            let scored = options.trainedLevels ?? Array(lambdas.indices)
            return scored.reduce(0) { sum, l in
                sum + weights[l] * (Double(lambdas[l]) * 255 * 255 * mse(lastLevelValidation[l].psnr) + lastLevelValidation[l].bpp)
            } / Double(scored.count)
        }
        if options.objective == .rd, let bpp = lastValidationBPP { return Double(options.lambda) * 255 * 255 * mse(psnr) + bpp }
        return -psnr
    }

    /// PSNR (dB, peak 1) of `y` clamped to [0, 1] against `x`.
    static func psnr(_ y: Tensor, _ x: Tensor) -> Double {
        var se = 0.0
        for i in 0..<x.count {
            let d = Double(min(1, max(0, y.data[i]))) - Double(x.data[i])
            se += d * d
        }
        return PSNR.fromMSE(se / Double(x.count), peak: 1)
    }

    /// A checkpoint of the current state: weights, Adam moments, options, step.
    public func checkpoint(elapsed: Double) -> ModelFile {
        let state = CheckpointState(options: options, step: step, adamSteps: adam.t, elapsedSeconds: elapsed,
                                    validationPSNR: lastValidationPSNR,
                                    bestValidationStep: bestValidation?.step, bestValidationScore: bestValidation?.score)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try! encoder.encode(state), as: UTF8.self)
        var extra: [ModelFile.Entry] = []
        for (k, p) in network.parameters.enumerated() {
            extra.append(.init(name: "optimizer.m.\(p.name)", shape: p.value.shape, values: adam.m[k]))
            extra.append(.init(name: "optimizer.v.\(p.name)", shape: p.value.shape, values: adam.v[k]))
        }
        return network.modelFile(extra: extra, trainer: json, storage: .float32)
    }

    /// Runs until `options.steps`, reporting after each step, saving through `save` every
    /// `checkpointEvery` steps and at the end, and stopping early (after saving) when
    /// `shouldStop` turns true.
    public func run(report: (TrainingProgress) -> Void, save: (Trainer, Double) throws -> Void,
                    shouldStop: () -> Bool) throws -> TrainingOutcome {
        let prefetcher = Prefetcher(sampler: sampler)
        let clock = ContinuousClock()
        let start = clock.now
        let firstStep = step
        func elapsed() -> Double {
            let d = clock.now - start
            return elapsedBefore + Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        while step < options.steps {
            if shouldStop() {
                try save(self, elapsed())
                return .interrupted(atStep: step)
            }
            let lr = options.learningRate * options.learningRateSchedule.factor(step: adam.t + 1)
            let (loss, mse, kl) = trainStep(on: prefetcher.batch(step: step))
            step += 1
            var validation: (psnr: Double, bpp: Double?)?
            if step % options.validationEvery == 0 || step == options.steps {
                validation = evaluate()
                lastValidationPSNR = validation?.psnr
                lastValidationBPP = validation?.bpp
                lastValidationStep = step
                if let score = validationScore(), score < bestValidation?.score ?? .infinity { bestValidation = (step, score) }
            }
            let sessionSeconds = elapsed() - elapsedBefore
            report(TrainingProgress(step: step, steps: options.steps, elapsed: elapsed(),
                                    stepsPerSecond: Double(step - firstStep) / max(sessionSeconds, 1e-9), learningRate: lr,
                                    loss: loss, mse: mse, klBitsPerPixel: kl, validationPSNR: validation?.psnr,
                                    validationBPP: validation?.bpp))
            if step % options.checkpointEvery == 0 || step == options.steps || isBestValidation { try save(self, elapsed()) }
        }
        return .finished
    }
}
