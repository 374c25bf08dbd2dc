import Foundation
import Testing
import VlatTestSupport
import VlatFilters
import VlatFormat
import VlatModels
import VlatTensor
@testable import VlatTraining

enum TrainingFixtures {
    static let root = TestPaths.packageRoot
    static let photos = root.appendingPathComponent("Corpus/photos").path

    static func tinyOptions(_ objective: Objective = .ae) -> TrainingOptions {
        var o = TrainingOptions(data: photos)
        o.objective = objective
        o.steps = 4
        o.batch = 2
        o.crop = 32
        o.channels = 6
        o.latentChannels = 4
        o.learningRate = 1e-3
        o.validationEvery = 2
        o.checkpointEvery = 1000
        if objective == .hyperprior {
            o.crop = 64
            o.hyperprior = HyperpriorConfig(channels: 6, latentChannels: 4, hyperChannels: 4, lambdas: [0.005, 0.05])
        }
        return o
    }

    static func scratch() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vlat-train-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

@Suite("Training data")
struct TrainingDataTests {
    @Test func validationSplitIsFixedAndDisjoint() throws {
        let a = try TrainingImages.load(folder: TrainingFixtures.photos)
        let b = try TrainingImages.load(folder: TrainingFixtures.photos)
        #expect(a.validation.map(\.name) == b.validation.map(\.name))
        #expect(a.validation.count == 1 && a.train.count == 4)
        #expect(Set(a.train.map(\.name)).isDisjoint(with: a.validation.map(\.name)))
    }

    @Test func batchesArePureFunctionsOfTheStep() throws {
        let images = try TrainingImages.load(folder: TrainingFixtures.photos)
        let sampler = BatchSampler(images: images.train, batchSize: 3, crop: 48, seed: 5)
        let x = sampler.batch(step: 7)
        #expect(x.shape == [3, 3, 48, 48])
        #expect(x.data.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(sampler.batch(step: 7) == x)
        #expect(sampler.batch(step: 8) != x)
        // Prefetching returns the same batches in the same order.
        let prefetcher = Prefetcher(sampler: sampler)
        for step in [0, 1, 2, 5, 6] { #expect(prefetcher.batch(step: step) == sampler.batch(step: step)) }
    }

    @Test func imagesSmallerThanTheCropAreEdgeExtended() {
        let tiny = RGBImage(name: "t", width: 3, height: 2, pixels: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180])
        let x = BatchSampler(images: [tiny], batchSize: 1, crop: 16, seed: 1).batch(step: 0)
        #expect(x.shape == [1, 3, 16, 16])
        // Every value is one of the image's red values (channel 0) after flips.
        let redValues: [Float] = [10, 40, 70, 100, 130, 160]
        let reds = Set(redValues.map { $0 / 255 })
        let firstPlane = Array(x.data[0..<256])
        #expect(firstPlane.allSatisfy { reds.contains($0) })
    }

    @Test func refusesMissingEmptyAndTooSmallFolders() throws {
        let dir = TrainingFixtures.scratch()
        #expect(throws: TrainingError.noSuchFolder(dir + "/nope")) { try TrainingImages.load(folder: dir + "/nope") }
        #expect(throws: TrainingError.noImages(dir)) { try TrainingImages.load(folder: dir) }
        try Data("junk".utf8).write(to: URL(fileURLWithPath: dir + "/a.png"))
        #expect(throws: TrainingError.noImages(dir)) { try TrainingImages.load(folder: dir) }
        try FileManager.default.copyItem(atPath: TrainingFixtures.photos + "/chelsea.png", toPath: dir + "/b.png")
        #expect(throws: TrainingError.tooFewImages(dir, 1)) { try TrainingImages.load(folder: dir) }
        try FileManager.default.copyItem(atPath: TrainingFixtures.photos + "/coffee.png", toPath: dir + "/c.png")
        let loaded = try TrainingImages.load(folder: dir)
        #expect(loaded.skipped.count == 1 && loaded.skipped[0].0 == "a.png")
        #expect(loaded.train.count + loaded.validation.count == 2)
    }
}

@Suite("Corruptions")
struct CorruptionTests {
    @Test func reproducibleFromTheGenerator() {
        let x = Tensor(shape: [2, 3, 16, 16], data: [Float](repeating: 0.5, count: 2 * 3 * 256))
        let c = Corruption(noiseSigma: 5...50, blurSigma: 0...3)
        var g1 = SeededGenerator(seed: 3), g2 = SeededGenerator(seed: 3)
        #expect(c.apply(x, generator: &g1) == c.apply(x, generator: &g2))
    }

    @Test func noiseHasTheRequestedSigma() {
        let x = Tensor(shape: [1, 3, 128, 128], data: [Float](repeating: 0.5, count: 3 * 128 * 128))
        var g = SeededGenerator(seed: 4)
        let y = Corruption(noiseSigma: 25...25, clip: false).apply(x, generator: &g)
        let variance = y.data.reduce(0.0) { $0 + Double(($1 - 0.5) * ($1 - 0.5)) } / Double(y.count)
        #expect(abs(variance.squareRoot() * 255 - 25) < 0.5)
    }

    @Test func blurKeepsTheMeanAndSmooths() {
        let k = GaussianBlur.kernel(sigma: 2)
        #expect(abs(k.reduce(0, +) - 1) < 1e-6 && k.count == 13)
        var g = SeededGenerator(seed: 5)
        let x = Tensor(shape: [1, 1, 32, 32], data: (0..<(32 * 32)).map { _ in g.uniform() })
        let data = Corruption(blurSigma: 1.5...1.5).apply(x, generator: &g).data, before = x.data
        func roughness(_ v: [Float]) -> Float { (1..<v.count).reduce(0) { $0 + abs(v[$1] - v[$1 - 1]) } }
        #expect(roughness(data) < roughness(before) / 3)
        let meanAfter: Float = data.reduce(0, +) / 1024
        let meanBefore: Float = before.reduce(0, +) / 1024
        #expect(abs(meanAfter - meanBefore) < 0.02)
    }
}

@Suite("Trainer")
struct TrainerTests {
    @Test(arguments: Objective.allCases)
    func resumeContinuesBitForBit(objective: Objective) throws {
        let images = try TrainingImages.load(folder: TrainingFixtures.photos)
        let options = TrainingFixtures.tinyOptions(objective)
        let straight = try Trainer(options: options, images: images)
        _ = try straight.run(report: { _ in }, save: { _, _ in }, shouldStop: { false })

        // Stop after 2 steps, save through the real serialisation, resume in a new trainer.
        let first = try Trainer(options: options, images: images)
        var saved: [UInt8] = []
        var reports = 0
        let outcome = try first.run(report: { _ in reports += 1 }, save: { t, e in saved = t.checkpoint(elapsed: e).serialized() },
                                    shouldStop: { reports >= 2 })
        #expect(outcome == .interrupted(atStep: 2))
        let resumed = try Trainer(options: options, images: images, checkpoint: try ModelFile.parse(saved))
        #expect(resumed.step == 2)
        _ = try resumed.run(report: { _ in }, save: { _, _ in }, shouldStop: { false })
        for (a, b) in zip(straight.network.parameters, resumed.network.parameters) { #expect(a.value == b.value, "\(a.name)") }
        #expect(straight.adam.t == resumed.adam.t && straight.adam.m == resumed.adam.m)
    }

    @Test(arguments: [Objective.ae, .rd, .hyperprior])
    func bestValidationIsTheLowestScoreAndSurvivesResume(objective: Objective) throws {
        let images = try TrainingImages.load(folder: TrainingFixtures.photos)
        var options = TrainingFixtures.tinyOptions(objective)
        options.steps = 8
        options.validationEvery = 1
        options.learningRate = 3e-2 // large enough that some validations get worse
        let trainer = try Trainer(options: options, images: images)
        var scores: [(step: Int, score: Double)] = [], savedAt: [Int] = []
        _ = try trainer.run(report: { p in if p.validationPSNR != nil { scores.append((p.step, trainer.validationScore()!)) } },
                            save: { t, _ in if t.isBestValidation { savedAt.append(t.step) } }, shouldStop: { false })
        #expect(scores.count == 8)
        let best = scores.min { $0.score < $1.score }!
        #expect(trainer.bestValidation?.step == best.step && trainer.bestValidation?.score == best.score)
        // A save at every new best: the running minimum's steps, and only those.
        var runningBest = Double.infinity, expected: [Int] = []
        for s in scores where s.score < runningBest { runningBest = s.score; expected.append(s.step) }
        #expect(savedAt == expected)
        let resumed = try Trainer(options: options, images: images, checkpoint: trainer.checkpoint(elapsed: 0))
        #expect(resumed.bestValidation?.step == best.step && resumed.bestValidation?.score == best.score)
    }

    /// A tiny hyperprior run of two steps, validated at each.
    static func hyperpriorTrainedTwoSteps() throws -> (TrainingImages, TrainingOptions, Trainer) {
        let images = try TrainingImages.load(folder: TrainingFixtures.photos)
        var options = TrainingFixtures.tinyOptions(.hyperprior)
        options.steps = 2
        options.validationEvery = 1
        let trainer = try Trainer(options: options, images: images)
        _ = try trainer.run(report: { _ in }, save: { _, _ in }, shouldStop: { false })
        return (images, options, trainer)
    }

    @Test func aWiderHyperpriorWarmStartedFromANarrowerSplitsItsLeastSpreadChannels() throws {
        let (images, options, trainer) = try Self.hyperpriorTrainedTwoSteps()
        let narrow = trainer.hyperprior!
        var wider = options
        wider.hyperprior?.latentChannels = 6
        wider.steps = 1
        let widened = try Trainer(options: wider, images: images, initial: narrow.modelFile())
        let probe = BatchSampler.centreCrops(Array(images.train.prefix(Trainer.wideningProbeImages)), size: Trainer.hyperpriorValidationCrop)
        let split = narrow.leastSpreadChannels(2, on: probe)
        // The new channels' gains are those of the channels they split; the old ones' are kept.
        let (old, new) = (narrow.gains.value.data, widened.hyperprior!.gains.value.data)
        for l in 0..<narrow.config.levels {
            #expect(Array(new[(l * 6)..<(l * 6 + 4)]) == Array(old[(l * 4)..<(l * 4 + 4)]))
            #expect(Array(new[(l * 6 + 4)..<(l * 6 + 6)]) == split.map { old[l * 4 + $0] })
        }
        _ = try widened.run(report: { _ in }, save: { _, _ in }, shouldStop: { false })
        // From a model file Adam starts afresh; from a checkpoint it goes on with the widened moments.
        #expect(!widened.initializedOptimizer)
        let fromCheckpoint = try Trainer(options: wider, images: images, initial: trainer.checkpoint(elapsed: 0))
        #expect(fromCheckpoint.initializedOptimizer)
        let gain = fromCheckpoint.network.parameters.firstIndex { $0.name == "gain" }!
        let oldGain = trainer.network.parameters.firstIndex { $0.name == "gain" }!
        for l in 0..<narrow.config.levels {
            #expect(Array(fromCheckpoint.adam.m[gain][(l * 6)..<(l * 6 + 4)]) == Array(trainer.adam.m[oldGain][(l * 4)..<(l * 4 + 4)]))
            #expect(Array(fromCheckpoint.adam.v[gain][(l * 6 + 4)..<(l * 6 + 6)]) == split.map { trainer.adam.v[oldGain][l * 4 + $0] })
        }
    }

    @Test func aTailAddedFromACheckpointStartsAsTheIdentity() throws {
        let (images, options, trainer) = try Self.hyperpriorTrainedTwoSteps()
        let plain = trainer.hyperprior!
        var tailed = options
        tailed.hyperprior?.tailChannels = 5
        tailed.steps = 3
        let run = try Trainer(options: tailed, images: images, initial: trainer.checkpoint(elapsed: 0))
        let net = run.hyperprior!
        // Adam starts afresh: moments carried over would give the new tensors, with none of
        // their own, the bias correction of a long run, and so steps many times the rate at first.
        #expect(net.tail.count == 3 && !run.initializedOptimizer)
        let x = BatchSampler.centreCrops(Array(images.train.prefix(1)), size: 64)[0]
        plain.setLevels([1]); net.setLevels([1])
        let y = plain.analysis.forward(x, training: false)
        let (a, b) = (plain.synthesis.forward(y, training: false), net.synthesis.forward(y, training: false))
        #expect(zip(a.data, b.data).allSatisfy { abs($0 - $1) <= 1e-6 })
        let before = net.tail.map(\.weight.value)
        _ = try run.run(report: { _ in }, save: { _, _ in }, shouldStop: { false })
        #expect(zip(before, net.tail.map(\.weight.value)).allSatisfy { $0 != $1 })
        // The carried path stays the identity: only what the tail's own channels add learns.
        let learned = net.tailLearnedElements()
        for (conv, old) in zip(net.tail, before) {
            #expect(learned[conv.weight.name]!.indices.allSatisfy { learned[conv.weight.name]![$0] || conv.weight.value.data[$0] == old.data[$0] })
        }

        // Trained alone, the tail moves and nothing else does.
        var alone = tailed
        alone.tailOnly = true
        let tailOnly = try Trainer(options: alone, images: images, initial: trainer.checkpoint(elapsed: 0))
        _ = try tailOnly.run(report: { _ in }, save: { _, _ in }, shouldStop: { false })
        let tailNames = Set(tailOnly.hyperprior!.tail.flatMap(\.parameters).map(\.name))
        let start = Dictionary(plain.parameters.map { ($0.name, $0.value) }) { a, _ in a }
        for p in tailOnly.network.parameters where !tailNames.contains(p.name) { #expect(p.value == start[p.name], "\(p.name)") }
        // (It starts from the same tail as the run above: same options, checkpoint and seed.)
        #expect(zip(before, tailOnly.hyperprior!.tail.map(\.weight.value)).allSatisfy { $0 != $1 })
        alone.hyperprior?.tailChannels = nil
        #expect(throws: TrainingError.self) { try alone.validate() }

        // A later state of the run without the tail, and the tail trained alone on an earlier
        // one, start one network: each tensor from the first file that has it.
        var further = options
        further.steps = 4
        let later = try Trainer(options: further, images: images, initial: trainer.checkpoint(elapsed: 0))
        _ = try later.run(report: { _ in }, save: { _, _ in }, shouldStop: { false })
        let combined = try #require(Trainer.combinedInitial([later.checkpoint(elapsed: 0), tailOnly.checkpoint(elapsed: 0)]))
        let grafted = try Trainer(options: tailed, images: images, initial: combined)
        let body = Dictionary(later.network.parameters.map { ($0.name, $0.value) }) { a, _ in a }
        let tails = Dictionary(tailOnly.hyperprior!.tail.flatMap(\.parameters).map { ($0.name, $0.value) }) { a, _ in a }
        #expect(body.keys.contains { body[$0] != start[$0] })
        for p in grafted.network.parameters { #expect(p.value == (tails[p.name] ?? body[p.name]), "\(p.name)") }
        #expect(grafted.initializedTensors.count == grafted.network.parameters.count)
    }

    @Test func aWiderSynthesisTrainedAloneStartsAsTheNarrowerAndKeepsTheRest() throws {
        let (images, options, trainer) = try Self.hyperpriorTrainedTwoSteps()
        let narrow = trainer.hyperprior!
        var wider = options
        let width = narrow.config.synthesisWidth + 3
        wider.hyperprior?.synthesisChannels = width
        wider.synthesisOnly = true
        wider.steps = 3
        let widened = try Trainer(options: wider, images: images, initial: trainer.checkpoint(elapsed: 0))
        #expect(widened.initializedOptimizer && widened.hyperprior!.config.synthesisWidth == width)
        // Before a step: the same reconstruction as the narrower network's.
        let x = BatchSampler.centreCrops(Array(images.train.prefix(1)), size: 64)[0]
        narrow.setLevels([1]); widened.hyperprior!.setLevels([1])
        let y = narrow.analysis.forward(x, training: false)
        let (a, b) = (narrow.synthesis.forward(y, training: false), widened.hyperprior!.synthesis.forward(y, training: false))
        #expect(zip(a.data, b.data).allSatisfy { abs($0 - $1) <= 1e-5 })
        _ = try widened.run(report: { _ in }, save: { _, _ in }, shouldStop: { false })
        // After: the synthesis moved, nothing else did (not even by the old moments).
        let learned = Set(widened.hyperprior!.synthesis.parameters.map(\.name))
        let before = Dictionary(narrow.parameters.map { ($0.name, $0.value) }) { a, _ in a }
        for p in widened.network.parameters where !learned.contains(p.name) { #expect(p.value == before[p.name], "\(p.name)") }
        #expect(widened.hyperprior!.synthesis.parameters.contains { p in p.value.shape == before[p.name]?.shape && p.value != before[p.name] })
        // With the old channels frozen too, only the elements the widening added move.
        var newOnly = wider
        newOnly.frozenSynthesisChannels = narrow.config.synthesisWidth
        let grown = try Trainer(options: newOnly, images: images, initial: trainer.checkpoint(elapsed: 0))
        _ = try grown.run(report: { _ in }, save: { _, _ in }, shouldStop: { false })
        let added = grown.hyperprior!.newSynthesisElements(oldWidth: narrow.config.synthesisWidth)
        // What the trainer started from: a new network of the run's seed, widened.
        let reference = MeanScaleHyperprior(config: wider.hyperpriorConfig, seed: wider.seed)
        _ = try reference.widenSynthesis(from: narrow)
        let widenedStart = Dictionary(reference.parameters.map { ($0.name, $0.value) }) { a, _ in a }
        var movedNew = false
        for p in grown.hyperprior!.synthesis.parameters {
            let mask = try #require(added[p.name]), before = try #require(widenedStart[p.name])
            for i in 0..<p.value.count {
                if mask[i] { if p.value.data[i] != before.data[i] { movedNew = true } } else { #expect(p.value.data[i] == before.data[i], "\(p.name)[\(i)]") }
            }
        }
        #expect(movedNew)
        var tooWide = newOnly
        tooWide.frozenSynthesisChannels = width
        #expect(throws: (any Error).self) { try Trainer(options: tooWide, images: images, initial: trainer.checkpoint(elapsed: 0)) }
        // Only for a hyperprior, and never with --prior-only.
        var both = wider
        both.priorOnly = true
        #expect(throws: (any Error).self) { try Trainer(options: both, images: images, initial: trainer.checkpoint(elapsed: 0)) }
        var alone = wider
        alone.hyperprior?.synthesisChannels = nil
        #expect(throws: TrainingError.self) { try Trainer(options: alone, images: images) }
    }

    @Test func resumeWithNewLambdasRetargetsTheLevelsAndForgetsTheBest() throws {
        let (images, options, trainer) = try Self.hyperpriorTrainedTwoSteps()
        #expect(trainer.bestValidation != nil)
        let checkpoint = trainer.checkpoint(elapsed: 0)
        let old = trainer.hyperprior!.config.lambdas
        var lowered = old
        lowered[0] /= 2
        let resumed = try Trainer(options: options, images: images, checkpoint: checkpoint, lambdas: lowered)
        #expect(resumed.hyperprior?.config.lambdas == lowered && resumed.options.hyperpriorConfig.lambdas == lowered)
        #expect(resumed.bestValidation == nil)
        for (a, b) in zip(trainer.network.parameters, resumed.network.parameters) { #expect(a.value == b.value, "\(a.name)") }
        // The same lambdas change nothing; a different count is refused.
        let same = try Trainer(options: options, images: images, checkpoint: checkpoint, lambdas: old)
        #expect(same.bestValidation?.step == trainer.bestValidation?.step)
        #expect(throws: TrainingError.self) { try Trainer(options: options, images: images, checkpoint: checkpoint, lambdas: [0.01]) }
        // Without an override, the checkpoint's lambdas win over the options'.
        var otherOptions = options
        otherOptions.hyperprior?.lambdas = old.map { $0 * 3 }
        let kept = try Trainer(options: otherOptions, images: images, checkpoint: resumed.checkpoint(elapsed: 0))
        #expect(kept.hyperprior?.config.lambdas == lowered)
    }

    @Test func resumeWithTrainedLevelsTrainsAndScoresThoseAlone() throws {
        let (images, options, trainer) = try Self.hyperpriorTrainedTwoSteps()
        let checkpoint = trainer.checkpoint(elapsed: 0)
        let fixed = try Trainer(options: options, images: images, checkpoint: checkpoint, trainedLevels: [1])
        #expect(fixed.options.trainedLevels == [1] && fixed.bestValidation == nil)
        // Scored at its own level: the score is level 2's weighted loss alone.
        var more = options
        more.steps = 3
        let run = try Trainer(options: more, images: images, checkpoint: checkpoint, trainedLevels: [1])
        _ = try run.run(report: { _ in }, save: { _, _ in }, shouldStop: { false })
        let l = run.lastLevelValidation[1], lambdas = run.hyperprior!.config.lambdas
        let expected = VariableRateStep.weights(lambdas)[1] * (Double(lambdas[1]) * 255 * 255 * pow(10, -l.psnr / 10) + l.bpp)
        #expect(abs(run.validationScore()! - expected) < 1e-9 * expected)
        // It stays with the checkpoint; a level the network lacks is refused.
        let kept = try Trainer(options: options, images: images, checkpoint: run.checkpoint(elapsed: 0))
        #expect(kept.options.trainedLevels == [1])
        #expect(throws: TrainingError.self) { try Trainer(options: options, images: images, checkpoint: checkpoint, trainedLevels: [2]) }
        var bad = options
        bad.trainedLevels = [5]
        #expect(throws: TrainingError.self) { try bad.validate() }
    }

    @Test func validationScoreIsTheRateDistortionLoss() throws {
        let images = try TrainingImages.load(folder: TrainingFixtures.photos)
        var options = TrainingFixtures.tinyOptions(.rd)
        options.steps = 1
        options.validationEvery = 1
        let trainer = try Trainer(options: options, images: images)
        #expect(trainer.validationScore() == nil)
        _ = try trainer.run(report: { _ in }, save: { _, _ in }, shouldStop: { false })
        let psnr = try #require(trainer.lastValidationPSNR), bpp = try #require(trainer.lastValidationBPP)
        let mse = 1 / pow(10, psnr / 10)
        #expect(abs(trainer.validationScore()! - (Double(options.lambda) * 65025 * mse + bpp)) < 1e-9)
    }

    @Test func aResumedRunTakesANewLearningRateAndKeepsEverythingElse() throws {
        let images = try TrainingImages.load(folder: TrainingFixtures.photos)
        let options = TrainingFixtures.tinyOptions(.rd)
        let first = try Trainer(options: options, images: images)
        _ = try first.run(report: { _ in }, save: { _, _ in }, shouldStop: { false })
        let checkpoint = first.checkpoint(elapsed: 1)
        let same = try Trainer(options: options, images: images, checkpoint: checkpoint)
        let lower = try Trainer(options: options, images: images, checkpoint: checkpoint, learningRate: options.learningRate / 4)
        #expect(same.options.learningRate == options.learningRate && lower.options.learningRate == options.learningRate / 4)
        #expect(lower.step == first.step && lower.adam.t == first.adam.t && lower.adam.m == first.adam.m)
        #expect(lower.adam.learningRate == options.learningRate / 4)
    }

    @Test func warmStartCopiesMatchingTensors() throws {
        let images = try TrainingImages.load(folder: TrainingFixtures.photos)
        let ae = try Trainer(options: TrainingFixtures.tinyOptions(.ae), images: images)
        _ = try ae.run(report: { _ in }, save: { _, _ in }, shouldStop: { false })
        let rd = try Trainer(options: TrainingFixtures.tinyOptions(.rd), images: images, initial: ae.model.modelFile())
        #expect(rd.initializedTensors.count == ae.model.parameters.count)      // every transform tensor
        #expect(rd.model.analysis.parameters[0].value == ae.model.analysis.parameters[0].value)
        #expect(!rd.initializedTensors.contains { $0.hasPrefix("prior") })   // the prior starts fresh
        var other = TrainingFixtures.tinyOptions(.rd)
        other.channels = 9
        other.latentChannels = 9
        #expect(throws: TrainingError.self) { try Trainer(options: other, images: images, initial: ae.model.modelFile()) }
    }

    @Test func refusesACheckpointOfAnotherArchitecture() throws {
        let images = try TrainingImages.load(folder: TrainingFixtures.photos)
        let trainer = try Trainer(options: TrainingFixtures.tinyOptions(), images: images)
        let checkpoint = trainer.checkpoint(elapsed: 0)
        var other = TrainingFixtures.tinyOptions()
        other.channels = 7
        #expect(throws: TrainingError.self) { try Trainer(options: other, images: images, checkpoint: checkpoint) }
        // A plain model file (no trainer state) is not a checkpoint.
        #expect(throws: TrainingError.self) {
            try Trainer(options: TrainingFixtures.tinyOptions(), images: images, checkpoint: trainer.model.modelFile())
        }
    }

    @Test(arguments: [Objective.ae, .vae, .rd])
    func lossGoesDown(objective: Objective) throws {
        let images = try TrainingImages.load(folder: TrainingFixtures.photos)
        var options = TrainingFixtures.tinyOptions(objective)
        options.steps = 60
        options.schedule = .constant
        options.learningRate = 3e-3
        let trainer = try Trainer(options: options, images: images)
        let before = trainer.validate()!
        var mses: [Double] = []
        _ = try trainer.run(report: { mses.append($0.mse) }, save: { _, _ in }, shouldStop: { false })
        let early = mses.prefix(10).reduce(0, +) / 10, late = mses.suffix(10).reduce(0, +) / 10
        #expect(late < early * 0.7, "MSE \(early) -> \(late)")
        #expect(trainer.validate()! > before + 3)
    }

    @Test func denoiserLearnsToRemoveNoise() throws {
        let images = try TrainingImages.load(folder: TrainingFixtures.photos)
        var options = TrainingFixtures.tinyOptions(.denoise)
        options.steps = 120
        options.schedule = .constant
        options.learningRate = 3e-3
        options.denoise = .init(network: DenoiserConfig(channels: 6, levels: 1, blocks: 2),
                                corruption: Corruption(noiseSigma: 25...25, clip: true))
        let trainer = try Trainer(options: options, images: images)
        #expect(trainer.denoiser != nil && trainer.model == nil)
        // Doing nothing scores the noisy input's PSNR: about 20.2 dB at sigma 25 (a bit more,
        // clipped). The residual network starts as nearly the identity, so near that score.
        let input = try #require(trainer.validationInputPSNR)
        let before = trainer.validate()!
        #expect(input > 20 && input < 21.5 && abs(before - input) < 0.5, "input \(input), start \(before)")
        _ = try trainer.run(report: { _ in }, save: { _, _ in }, shouldStop: { false })
        let after = trainer.validate()!
        #expect(after > input + 1.5, "validation \(before) -> \(after) dB, input \(input) dB")
    }

    @Test func denoiseValidationUsesTheBenchmarksHeadlineCases() {
        let mixed = Corruption(noiseSigma: 0...50, blurSigma: 0...3, clip: true, mixed: true)
        #expect(Trainer.validationCorruption(mixed, index: 0) == Corruption(noiseSigma: 25...25, clip: true))
        #expect(Trainer.validationCorruption(mixed, index: 1) == Corruption(noiseSigma: 2...2, blurSigma: 2...2, clip: true))
        let noiseOnly = Corruption(noiseSigma: 0...15, clip: true)
        #expect(Trainer.validationCorruption(noiseOnly, index: 1) == Corruption(noiseSigma: 15...15, clip: true))
        let blurOnly = Corruption(blurSigma: 0...1, clip: true)
        #expect(Trainer.validationCorruption(blurOnly, index: 0) == Corruption(blurSigma: 1...1, clip: true))
    }

    @Test func mixedCorruptionGivesNoiseBlurOrBoth() {
        let corruption = Corruption(noiseSigma: 20...20, blurSigma: 2...2, clip: false, mixed: true)
        var g = SeededGenerator(seed: 3)
        // A vertical edge: blur changes it, noise changes everything.
        let plane = (0..<(16 * 16)).map { Float($0 % 16 < 8 ? 0.2 : 0.8) }
        let x = Tensor(shape: [60, 1, 16, 16], data: Array((0..<60).map { _ in plane }.joined()))
        let y = corruption.apply(x, generator: &g)
        var kinds: [String: Int] = [:]
        for b in 0..<60 {
            let d = (0..<256).map { y.data[b * 256 + $0] - x.data[b * 256 + $0] }
            // Far from the edge (columns 0-1 and 14-15) only noise changes values.
            let flat = d.enumerated().filter { $0.offset % 16 < 2 || $0.offset % 16 > 13 }.map { abs($0.element) }.max()!
            let edge = abs(d[8 * 16 + 7]) + abs(d[8 * 16 + 8])
            kinds[flat > 1e-3 ? (edge > 0.1 ? "both or noise" : "noise") : (edge > 0.1 ? "blur" : "none"), default: 0] += 1
        }
        #expect(kinds["none"] == nil && (kinds["blur"] ?? 0) > 10 && (kinds["both or noise"] ?? 0) + (kinds["noise"] ?? 0) > 30)
    }

    @Test func priorOnlyFitsThePriorAndLeavesTheTransformsExactlyAlone() throws {
        let images = try TrainingImages.load(folder: TrainingFixtures.photos)
        var base = TrainingFixtures.tinyOptions(.rd)
        base.steps = 10
        let first = try Trainer(options: base, images: images)
        _ = try first.run(report: { _ in }, save: { _, _ in }, shouldStop: { false })
        var o = TrainingFixtures.tinyOptions(.rd)
        o.priorOnly = true
        o.steps = 40
        o.schedule = .constant
        o.learningRate = 1e-2
        o.validationEvery = 40
        // The transforms must come from somewhere, and only rate-distortion models have a prior.
        #expect(throws: TrainingError.self) { try Trainer(options: o, images: images) }
        var notRD = o
        notRD.objective = .ae
        #expect(throws: TrainingError.self) { try Trainer(options: notRD, images: images, initial: first.model.modelFile()) }

        let trainer = try Trainer(options: o, images: images, initial: first.model.modelFile())
        func transforms() -> [Tensor] { (trainer.model.analysis.parameters + trainer.model.synthesis.parameters).map(\.value) }
        let (before, priorBefore) = (transforms(), trainer.model.prior!.parameters.map(\.value))
        let start = trainer.evaluate()!
        var reports: [TrainingProgress] = []
        _ = try trainer.run(report: { reports.append($0) }, save: { _, _ in }, shouldStop: { false })
        #expect(transforms() == before)
        #expect(trainer.model.prior!.parameters.map(\.value) != priorBefore)
        let end = trainer.evaluate()!
        #expect(end.psnr == start.psnr && end.bpp! < start.bpp!, "\(start) -> \(end)")
        #expect(reports.count == 40 && reports.allSatisfy { $0.mse.isNaN && $0.klBitsPerPixel! > 0 })
    }

    @Test func lambdaTradesRateForDistortion() throws {
        // From identical weights, fit one fixed batch: a small lambda must end at the lower rate,
        // a large one at the lower distortion. (Generalisation needs far longer runs than a test.)
        let images = try TrainingImages.load(folder: TrainingFixtures.photos)
        let x = BatchSampler(images: images.train, batchSize: 2, crop: 32, seed: 1).batch(step: 0)
        func fit(lambda: Float) throws -> (mse: Double, bpp: Double) {
            var o = TrainingFixtures.tinyOptions(.rd)
            o.lambda = lambda
            o.schedule = .constant
            o.learningRate = 1e-2
            let trainer = try Trainer(options: o, images: images)
            for _ in 0..<40 { _ = trainer.trainStep(on: x) }
            let y = trainer.model.latent(x) // rounded, as the codec codes it
            let bpp = trainer.model.prior!.forward(y, training: false).bits / Double(x.n * x.h * x.w)
            return (Loss.mse(trainer.model.synthesis.forward(y, training: false), x).value, bpp)
        }
        let cheap = try fit(lambda: 0.0005), sharp = try fit(lambda: 0.5)
        #expect(cheap.bpp < sharp.bpp, "rate: \(cheap.bpp) vs \(sharp.bpp)")
        #expect(cheap.mse > sharp.mse * 1.2, "MSE: \(cheap.mse) vs \(sharp.mse)")
    }

    @Test func klGradientMatchesFiniteDifferences() {
        let mu = Tensor(shape: [4], data: [0.3, -1.2, 0.0, 2.0]), logvar = Tensor(shape: [4], data: [-0.5, 0.7, 0.0, -2.0])
        let kl = Loss.gaussianKL(mu: mu, logvar: logvar, normalizer: 3)
        for i in 0..<4 {
            let h: Float = 1e-3
            var mp = mu, mm = mu, lp = logvar, lm = logvar
            mp.data[i] += h; mm.data[i] -= h; lp.data[i] += h; lm.data[i] -= h
            let dMu = (Loss.gaussianKL(mu: mp, logvar: logvar, normalizer: 3).value - Loss.gaussianKL(mu: mm, logvar: logvar, normalizer: 3).value) / (2 * Double(h))
            let dLv = (Loss.gaussianKL(mu: mu, logvar: lp, normalizer: 3).value - Loss.gaussianKL(mu: mu, logvar: lm, normalizer: 3).value) / (2 * Double(h))
            #expect(abs(dMu - Double(kl.dMu.data[i])) < 1e-3)
            #expect(abs(dLv - Double(kl.dLogvar.data[i])) < 1e-3)
        }
        // KL of N(0, 1) from N(0, 1) is zero.
        #expect(Loss.gaussianKL(mu: Tensor(zeros: [3]), logvar: Tensor(zeros: [3]), normalizer: 1).value == 0)
    }

    @Test func invalidOptionsAreRefused() throws {
        var o = TrainingFixtures.tinyOptions()
        o.crop = 40
        #expect(throws: TrainingError.self) { try o.validate() }
        // A checkpoint names its schedule; an unknown name is refused when it is read.
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(TrainingOptions.Schedule.self, from: Data(#""sometimes""#.utf8)) }
        #expect(try JSONDecoder().decode(TrainingOptions.Schedule.self, from: Data(#""step""#.utf8)) == .step)
    }
}

@Suite("Training run files and record")
struct TrainingRunTests {
    @Test func filesFollowTheModelPath() {
        let f = TrainingRun.Files(out: "runs/q4.vlatmodel")
        #expect(f.checkpoint == "runs/q4.ckpt" && f.bestCheckpoint == "runs/q4-best.ckpt" && f.log == "runs/q4.csv"
                && f.levelLog == "runs/q4-levels.csv" && f.plot == "runs/q4.svg")
        let g = TrainingRun.Files(out: "model", checkpoint: "state.ckpt")
        #expect(g.checkpoint == "state.ckpt" && g.bestCheckpoint == "state-best.ckpt" && g.log == "model.csv")
    }

    @Test func durationsReadAsHoursOrMinutes() {
        #expect(TrainingRun.duration(3900) == "1h05m" && TrainingRun.duration(187) == "3m07s" && TrainingRun.duration(.infinity) == "?")
    }
}
