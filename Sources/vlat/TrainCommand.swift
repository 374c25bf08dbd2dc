import ArgumentParser
import Foundation
import VlatCodec
import VlatFiles
import VlatFormat
import VlatImageIO
import VlatModels
import VlatTensor
import VlatTraining

/// `vlat train`: trains an autoencoder (or the denoiser) on a folder of photos.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a convolutional autoencoder (plain, variational, rate-distortion) or a denoiser on a folder of images.",
        discussion: """
        Random crops with flips; a fixed 5 % of the images is held out for validation (PSNR of \
        centre crops). Writes the model to --out, a checkpoint (weights + Adam state) every \
        --checkpoint-every steps and on Ctrl-C, the checkpoint of the best validation so far \
        (NAME-best.ckpt: the rate-distortion loss for rd and hyperprior, PSNR otherwise), a CSV \
        log and an SVG of validation PSNR beside the model. --resume continues a run bit for bit (same data order, same optimizer state).

        Objectives: ae (MSE), vae (Gaussian posterior, reparameterisation, KL to N(0, I) \
        weighted by --beta; the KL is reported in bits per pixel), rd (the codec's \
        rate-distortion loss, lambda * 255^2 * MSE + bits per pixel under a learned factorized \
        prior, with uniform noise in place of rounding), denoise (a U-Net-style denoiser, \
        --channels 32 --levels 2 --blocks 2 by default, trained to map crops corrupted on the \
        fly back to the clean crop: Gaussian noise of sigma in --noise-sigma, Gaussian blur of \
        sigma in --blur-sigma, each crop noise only, blur only or both).

        Examples:
          vlat train --data ../shared/corpus/train --out Models/ae.vlatmodel --steps 2000
          vlat train --data photos --objective vae --beta 0.001 --out vae.vlatmodel
          vlat train --data ../shared/corpus/train --out Models/ae.vlatmodel --resume Models/ae.ckpt --steps 4000
          vlat train --data ../shared/corpus/train --objective rd --lambda 0.013 --init-from ae.vlatmodel --out q4.vlatmodel
          vlat train --data ../shared/corpus/train --objective rd --prior-only --init-from q1.vlatmodel --lr 1e-3 --out q1-prior.vlatmodel
          vlat train --data ../shared/corpus/train --objective denoise --crop 128 --batch 16 --out denoise.vlatmodel
          vlat train --data ../shared/corpus/train --list-validation
        """)

    @Option(help: "Folder of PNG/JPEG training images (repeat it to train on several; each folder gives its own 5 % of validation images).") var data: [String]
    @Option(help: "Where to write the trained model (.vlatmodel).") var out: String?
    @Option(help: "What to train.") var objective: Objective = .ae
    @Option(help: "Total optimisation steps.") var steps: Int = 1000
    @Option(help: "Crops per step.") var batch: Int = 8
    @Option(help: "Crop size in pixels (a multiple of 16).") var crop: Int = 256
    @Option(help: "Adam learning rate (default 1e-4; with --resume, a new rate for the rest of the run).") var lr: Float?
    @Option(help: "Learning-rate schedule: constant, cosine (to 10 % at the last step) or step (x0.1 at 80 % of the steps).") var lrSchedule: TrainingOptions.Schedule = .cosine
    @Option(help: "Seed for weights, crops and noise.") var seed: UInt64 = 1
    @Option(help: "Hidden channels N (default 128; denoise: channels at full resolution, default 32).") var channels: Int?
    @Option(help: "Latent channels M.") var latentChannels: Int = 192
    @Option(help: "Hyperprior: hidden channels of the synthesis, when wider than --channels (a fresh start from a model with a narrower synthesis widens it: the new channels start as features nothing reads yet, so it computes what that model did).") var synthesisChannels: Int?
    @Option(help: "Hyperprior: channels of z and of the hyper-transforms.") var hyperChannels: Int = 96
    @Flag(help: "Hyperprior: per-level channel modulations in the transforms (they start as the identity, so a model without them warm-starts one with them).") var levelModulation = false
    @Option(help: "Hyperprior with a checkerboard context: split the latent channels into this many equal groups, each after the first coded given the ones before it at the same position (a channel context; it starts as no correction, so a model without it warm-starts one with it).") var channelGroups: Int?
    @Option(help: "Hidden channels of the channel context's networks (with --channel-groups).") var channelContextChannels: Int = 64
    @Option(help: "Hyperprior: hidden channels of a checkerboard context (the second half of the latents coded given the first; it starts as no correction, so a model without it warm-starts one with it).") var contextChannels: Int?
    @Option(help: "Hyperprior: channels of a full-resolution tail after the synthesis (three 3x3 convolutions; it starts as the identity, so a model without it warm-starts one with it).") var tailChannels: Int?
    @Option(help: "Hyperprior: the levels' lambdas, lowest rate first, comma-separated (default: \(HyperpriorConfig.defaultLambdas.map { "\($0)" }.joined(separator: ",")); with --resume, new ones for the checkpoint's levels).") var lambdas: String?
    @Option(help: "Hyperprior: train only these levels, 1-based, comma-separated (e.g. 4: a fixed-lambda model on the same network, to compare with the variable-rate run for the same steps; with --resume, a new set for the rest of the run).") var trainLevels: String?
    @Option(help: "VAE: weight of the KL term.") var beta: Float = 1e-3
    @Option(help: "Rate-distortion: lambda in lambda * 255^2 * MSE + bpp.") var lambda: Float = 0.013
    @Option(help: "Denoise: 2x downsamplings in the network.") var levels: Int = 2
    @Option(help: "Denoise: 3x3 convolutions per level and side.") var blocks: Int = 2
    @Flag(help: "Denoise: no U-Net skip connections.") var noSkips = false
    @Flag(help: "Denoise: predict the clean image directly instead of a correction to the input.") var noResidual = false
    @Option(help: "Denoise: Gaussian noise sigma range, of 255 (e.g. 0-50; 'none' for no noise).") var noiseSigma: String = "0-50"
    @Option(help: "Denoise: Gaussian blur sigma range in pixels (e.g. 0-3; 'none' for no blur).") var blurSigma: String = "0-3"
    @Option(help: "Clip the global gradient norm (0: off).") var clipNorm: Float = 1
    @Option(help: "Validate every N steps.") var valEvery: Int = 100
    @Option(help: "Checkpoint every N steps.") var checkpointEvery: Int = 100
    @Option(help: "Continue from this checkpoint.") var resume: String?
    @Option(help: "Start from the weights of this model where names and shapes match (warm start); a hyperprior with more --latent-channels or --synthesis-channels than this one is widened, and from a checkpoint (.ckpt) Adam's moments come too. Repeat it to take each tensor from the first model that has it (a run's checkpoint, then a model with a tail it lacks).") var initFrom: [String] = []
    @Flag(help: "Rate-distortion and hyperprior: train only the entropy model (the prior; a hyperprior's hyper-transforms and z prior), on the latents of the --init-from model's frozen transforms (no synthesis, no backward through them: several times faster per step).") var priorOnly = false
    @Flag(help: "Hyperprior: train only the synthesis transform, on the latents of the --init-from model's frozen analysis and entropy model (the rate stays as it is; no backward below the synthesis).") var synthesisOnly = false
    @Flag(help: "Hyperprior with --tail-channels: train only the synthesis' tail, on what the --init-from model's frozen rest reconstructs (the rate stays as it is; about half a full step's time).") var tailOnly = false
    @Option(help: "Hyperprior, with --synthesis-only: keep the synthesis' first K hidden channels of every stage as they are, so that only the channels a widening from width K added learn.") var frozenSynthesisChannels: Int?
    @Option(help: "Checkpoint path (default: --out with .ckpt).") var checkpoint: String?
    @Option(help: "Threads for the engine.") var threads: Int = 2
    @Option(help: "Skip images with more pixels than this (checked before decoding).") var maxPixels: Int = ImageLimits.default.maxPixels
    @Flag(help: "Replace an existing model, log or checkpoint when not resuming.") var force = false
    @Flag(help: "Print the names of the held-out validation images of --data, one a line, and exit without training (for tuning on the same split).") var listValidation = false

    func validate() throws {
        if threads < 1 || threads > 64 { throw ValidationError("--threads must be in 1...64") }
        if maxPixels < 1 { throw ValidationError("--max-pixels must be at least 1") }
        if out == nil && !listValidation { throw ValidationError("Missing expected argument '--out <out>'") }
    }

    /// --out, which `validate()` requires unless --list-validation.
    var outPath: String { out ?? "" }

    /// The --data folder, split into training and held-out validation images.
    func loadImages() throws -> TrainingImages {
        do { return try TrainingImages.load(folders: data, limits: ImageLimits(maxPixels: maxPixels)) } catch { throw CLIError("\(error)") }
    }

    /// "A-B" as a closed range, "none" as nil.
    static func range(_ text: String, name: String) throws -> ClosedRange<Float>? {
        if text == "none" { return nil }
        let parts = text.split(separator: "-").map { Float($0) }
        guard parts.count == 2, let a = parts[0], let b = parts[1], a >= 0, a <= b, b <= 255 else {
            throw ValidationError("\(name) must be A-B with 0 <= A <= B <= 255, or none")
        }
        return a...b
    }

    var files: TrainingRun.Files { TrainingRun.Files(out: outPath, checkpoint: checkpoint) }

    /// The options these arguments ask for, checked.
    func trainingOptions() throws -> TrainingOptions {
        var options = TrainingOptions(data: data.joined(separator: ","))
        options.objective = objective
        options.steps = steps; options.batch = batch; options.crop = crop; options.learningRate = lr ?? 1e-4
        options.schedule = lrSchedule; options.seed = seed
        let isDenoise = options.objective == .denoise
        options.channels = channels ?? (isDenoise ? 32 : 128)
        options.latentChannels = latentChannels; options.beta = beta; options.lambda = lambda; options.clipNorm = clipNorm
        options.validationEvery = valEvery; options.checkpointEvery = checkpointEvery
        if priorOnly { options.priorOnly = true }
        if synthesisOnly { options.synthesisOnly = true }
        if tailOnly { options.tailOnly = true }
        options.frozenSynthesisChannels = frozenSynthesisChannels
        if options.objective == .hyperprior {
            var lambdaList = HyperpriorConfig.defaultLambdas
            if let lambdas {
                let parsed = lambdas.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
                guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else { throw ValidationError("--lambdas must be numbers separated by commas") }
                lambdaList = parsed.map { $0! }
            }
            options.hyperprior = HyperpriorConfig(channels: options.channels, latentChannels: latentChannels,
                                                  hyperChannels: hyperChannels, lambdas: lambdaList, levelModulation: levelModulation,
                                                  contextChannels: contextChannels, synthesisChannels: synthesisChannels,
                                                  channelGroups: channelGroups, channelContextChannels: channelContextChannels,
                                                  tailChannels: tailChannels)
        }
        if let trainLevels {
            let parsed = trainLevels.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else { throw ValidationError("--train-levels must be level numbers separated by commas") }
            options.trainedLevels = parsed.map { $0! - 1 }
        }
        if isDenoise {
            let noise = try Self.range(noiseSigma, name: "--noise-sigma"), blur = try Self.range(blurSigma, name: "--blur-sigma")
            if noise == nil && blur == nil { throw ValidationError("--noise-sigma and --blur-sigma cannot both be none") }
            options.denoise = .init(network: DenoiserConfig(channels: options.channels, levels: levels, blocks: blocks, skips: !noSkips, residual: !noResidual),
                                    corruption: Corruption(noiseSigma: noise, blurSigma: blur, clip: true, mixed: true))
        }
        do { try options.validate() } catch { throw ValidationError("\(error)") }
        return options
    }

    func run() throws {
        MemoryTuning.retainFreedMemory()
        if listValidation {
            for image in try loadImages().validation { print(image.name) }
            return
        }
        Parallel.threads = threads
        let options = try trainingOptions()

        if resume == nil && !force {
            for path in [outPath, files.checkpoint, files.bestCheckpoint, files.log] where FileManager.default.fileExists(atPath: path) {
                throw CLIError("\(path): already exists (use --force to start over, or --resume \(files.checkpoint))")
            }
        }
        // A fresh run's best starts over: a stale best checkpoint must not outlive it.
        if resume == nil { try? FileManager.default.removeItem(atPath: files.bestCheckpoint) }
        var resumeFile: ModelFile?, initialFile: ModelFile?, initialDescription: String?
        if let resume {
            do { resumeFile = try ModelFile.parse(FileReader.read(resume)) } catch { throw CLIError(file: resume, error) }
        }
        if !initFrom.isEmpty {
            guard resume == nil else { throw ValidationError("--init-from and --resume exclude each other") }
            var files: [ModelFile] = [], digests: [String] = []
            for path in initFrom {
                do {
                    let bytes = try FileReader.read(path)
                    files.append(try ModelFile.parse(bytes))
                    digests.append("\(path) (sha256 \(ModelFile.digest(of: bytes).map { String(format: "%02x", $0) }.joined()))")
                } catch { throw CLIError(file: path, error) }
            }
            initialFile = Trainer.combinedInitial(files)
            initialDescription = digests.joined(separator: "; ")
        }

        Terminal.note("loading images from \(data.joined(separator: ", "))")
        let images = try loadImages()
        for (file, reason) in images.skipped { Terminal.note("skipped \(file): \(reason)") }
        Terminal.note("\(images.train.count) training and \(images.validation.count) validation images\(images.skipped.isEmpty ? "" : ", \(images.skipped.count) skipped")")

        let trainer: Trainer
        do { trainer = try Trainer(options: options, images: images, checkpoint: resumeFile, initial: initialFile,
                                               learningRate: resume == nil ? nil : lr,
                                               lambdas: resume == nil || lambdas == nil ? nil : options.hyperprior?.lambdas,
                                               trainedLevels: resume == nil ? nil : options.trainedLevels) } catch {
            throw CLIError("\(error)")
        }
        let network = trainer.network
        let initFrom = initFrom.isEmpty ? nil : initFrom.joined(separator: " and ")
        if let initFrom { Terminal.note("initialised \(trainer.initializedTensors.count) of \(network.parameters.count) tensors\(trainer.initializedOptimizer ? " and Adam's moments" : "") from \(initFrom)") }
        if let initFrom, let first = trainer.droppedTensors.first {
            let more = trainer.droppedTensors.count > 1 ? " and \(trainer.droppedTensors.count - 1) more" : ""
            Terminal.note("dropped \(trainer.droppedTensors.count) tensors of \(initFrom) that this network has no place for (\(first)\(more)): give the options that built them to keep them")
        }
        for line in TrainingRun.summary(of: trainer) { Terminal.note(line) }

        // A resumed run records every command that built it, in order; a warm start records its
        // parent's chain too, so a model file tells its whole history.
        let thisCommand = ShellQuoting.commandLine(["vlat"] + CommandLine.arguments.dropFirst())
        let parentCommand = network.metadata["command"] ?? initialFile.flatMap { (try? NetworkKind.load($0))?.metadata["command"] }
        let record = TrainingRun.Record(thisCommand: thisCommand, parentCommand: parentCommand, data: data, images: images,
                                        trainerCommit: TrainingRun.gitCommit(),
                                        initFrom: network.metadata["initFrom"] ?? initialDescription)
        let run = TrainingRun(trainer: trainer, files: files, record: record, resumed: resume != nil,
                              export: TrainingRun.modelFile(rateDistortion: { try CodecModel.export($0) }))
        let progress = Terminal.Progress(every: 10)
        Interrupt.install()
        let outcome: TrainingOutcome
        do { outcome = try run.run(progress: progress.update, shouldStop: { Interrupt.requested }) } catch {
            progress.finish()
            throw CLIError("\(error)")
        }
        progress.finish()
        switch outcome {
        case .finished:
            Terminal.note("done: \(trainer.step) steps; model \(outPath), checkpoint \(files.checkpoint), log \(files.log), plot \(files.plot)")
        case .interrupted(let step):
            Terminal.note("interrupted at step \(step); checkpoint saved to \(files.checkpoint); continue with --resume \(files.checkpoint)")
            throw ExitCode(130)
        }
    }
}
