import ArgumentParser
import Foundation
import VlatCodec
import VlatFiles
import VlatFormat
import VlatImageIO
import VlatModels
import VlatTensor

/// Loads a codec model given on the command line, with errors that name the file.
func loadCodecModel(_ path: String) throws -> CodecModel {
    do { return try CodecModel(bytes: FileReader.read(path)) } catch { throw CLIError(file: path, error) }
}

/// `vlat compress`: PNG/JPEG -> .vlat.
struct CompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Compress PNG/JPEG images into .vlat files with a rate-distortion model.",
        discussion: """
        Each input becomes INPUT.vlat beside it; -o names the output file (one input; not an \
        image name such as .png) or an output folder (several inputs, a folder input, or a folder that \
        exists). Folders given as inputs are expanded to their PNG/JPEG files (-r: subfolders \
        too, kept in the output folder). Files are compressed in parallel, one per core. \
        '-' reads standard input or writes standard output. Alpha is kept losslessly, grey \
        images stay grey, the EXIF orientation is applied to the pixels, and the ICC profile, \
        EXIF and XMP are carried compressed (--metadata chooses). Outputs are written atomically and never \
        replace an existing file without --force, nor an input. A file that fails prints one \
        error line; the others go on, and the exit status is 1.

        The model is the shipped quality level --quality (default \(ModelRegistry.defaultQuality)), \
        or the highest level whose file fits under --target-bpp for each image, or --model.

        Examples:
          vlat compress photo.png                       # writes photo.vlat
          vlat decompress photo.vlat                    # writes photo.decoded.png
          vlat compress photo.png -q 2
          vlat compress photo.png --quality 8 --refine 20
          vlat compress holiday/ -r -o holiday-vlat/ --target-bpp 0.5
          vlat compress photo.jpg -o small.vlat --model mine.vlatmodel --coder zstd
          vlat compress noisy-scan.png --denoise
          cat photo.png | vlat compress - -o - > photo.vlat
        """)

    @Argument(help: "PNG or JPEG files or folders of them ('-' for standard input).") var inputs: [String]
    @Option(name: .shortAndLong, help: "Output file (one input), or folder; '-' for standard output.") var output: String?
    @Option(name: [.customShort("q"), .long], parsing: .unconditional, help: "Quality 1...8; higher is better and larger. A hyperprior model takes any value (fractional values interpolate); above 4 the file adds a detail layer over one of its middle levels.") var quality: Double?
    @Option(parsing: .unconditional, help: "Bits per pixel to stay under: picks the highest quality that fits, per image.") var targetBpp: Double?
    @Option(help: "Model file (.vlatmodel) trained with --objective rd, instead of a quality level.") var model: String?
    @OptionGroup var search: ModelSearchOptions
    @Option(help: "Entropy coder: auto (a hyperprior model's own coder, the default model's; with a factorized model, the smallest for each image), or, for a factorized model (--model, --model-dir), rans (the learned prior), ctx (rANS with tables that adapt to the image from the prior) or zstd; hyperprior is the same as auto for a hyperprior model.") var coder: CoderChoice = ImageCodec.defaultCoder
    @Option(parsing: .unconditional, help: "Encoder effort: Adam steps on each image's latents that lower its rate-distortion loss (0: the plain, fast encode; 20 is a good choice at the top levels). Slower encode, same decoder.") var refine: Int = 0
    @Flag(help: "Clean the image with the denoising network before compressing it.") var denoise = false
    @Option(help: "Denoising model for --denoise (default: the installed denoise.vlatmodel).") var denoiseModel: String?
    @OptionGroup var metadataOptions: MetadataOptions
    @OptionGroup var batch: BatchOptions
    @OptionGroup var memory: MemoryLimitOptions
    @OptionGroup var imageLimits: ImageLimitOptions

    func validate() throws {
        if let quality, !(1...8).contains(quality) { throw ValidationError("--quality must be in 1...8") }
        if quality != nil && targetBpp != nil { throw ValidationError("give one of --quality and --target-bpp") }
        if let targetBpp, !(targetBpp > 0 && targetBpp <= 64) { throw ValidationError("--target-bpp must be in (0, 64]") }
        if denoiseModel != nil && !denoise { throw ValidationError("--denoise-model needs --denoise") }
        if !(0...LatentRefinement.maxSteps).contains(refine) { throw ValidationError("--refine must be in 0...\(LatentRefinement.maxSteps)") }
    }

    func run() throws {
        batch.applyVerbosity()
        MemoryTuning.retainFreedMemory(largeBlocks: MemoryTuning.codecLargeBlocks)
        let found = try BatchJobs.expand(inputs, extensions: ["png", "jpg", "jpeg"], recursive: batch.recursive)
        let files = found.map(\.path)
        let destinations = try BatchJobs.destinations(for: found, output: output, extension: "vlat")
        // A .vlat file under an image's name would be mistaken for the image (or replace it).
        for destination in destinations {
            let ext = (destination as NSString).pathExtension.lowercased()
            if ImageOutputOptions.imageExtensions.contains(ext) {
                throw CLIError("\(destination): compress writes .vlat files, not .\(ext) (name the output .vlat; 'vlat decompress' writes images)")
            }
        }
        let registry = search.registry
        let chosenCoder = coder
        // Fail before any work when the models are missing.
        let installedVariableRate = model == nil && (try? registry.entry(quality: 1))?.variableRate == true
        // --target-bpp searches one variable-rate model's range, or else the single-level models
        // installed (a variable-rate model later in the search order does not fill their gaps).
        let levels = registry.qualities.filter { (try? registry.entry(quality: Double($0)))?.variableRate == false }
        if targetBpp != nil && levels.isEmpty && !installedVariableRate && model == nil {
            throw CLIError("\(RegistryError.noQuality(1, searched: registry.folders))")
        }
        if let model {
            let loaded = try loadCodecModel(model)
            if loaded.hyperprior == nil && (quality != nil || targetBpp != nil) {
                throw ValidationError("--quality and --target-bpp pick among installed levels or a hyperprior model's rates; --model \(model) has one rate")
            }
        } else if targetBpp == nil {
            do { _ = try registry.entry(quality: quality ?? Double(ModelRegistry.defaultQuality)) } catch { throw CLIError("\(error)") }
        }

        let workers = BatchJobs.workers(for: files.count, requested: batch.jobs)
        Parallel.threads = max(1, ProcessInfo.processInfo.activeProcessorCount / workers)
        let caches = (0..<workers).map { _ in ModelCache(registry: registry, file: model, denoiserFile: denoiseModel) }
        if denoise { for c in caches { _ = try c.denoiser() } }
        let limits = imageLimits.limits
        let metadataOptions = metadataOptions
        let (targetBpp, quality, force, allInputs, denoise) = (targetBpp, quality, batch.force, files, denoise)
        let refinement = refine > 0 ? LatentRefinement(steps: refine) : nil
        // Workers share the memory budget.
        let memoryLimit = memory.perJob(workers)
        let failed = BatchJobs.run(count: files.count, jobs: workers, names: files) { index, worker in
            let (input, destination) = (files[index], destinations[index])
            let start = ContinuousClock.now
            let cache = caches[worker]
            // The memory the image will need is checked from its header, before its pixels are
            // decoded, against the largest model it may be coded with.
            let largest = targetBpp == nil ? try cache.model(quality: quality ?? Double(ModelRegistry.defaultQuality))
                : try cache.variableRateModel(installed: installedVariableRate) ?? cache.model(quality: levels.last ?? ModelRegistry.defaultQuality)
            var image = metadataOptions.apply(to: try ImageFile.read(input, limits: limits) { width, height in
                try ImageCodec.checkMemory(width: width, height: height, model: largest, limit: memoryLimit, refining: refinement != nil)
            }, name: input)
            if image.source.wasReducedTo8Bit { Terminal.note("\(input): \(image.source.bitDepth)-bit samples reduced to 8 bits") }
            if denoise { image = ImageDenoiser.denoise(image, model: try cache.denoiser()) }
            var bytes: [UInt8]
            var remark = ""
            if let targetBpp, let hyper = try cache.variableRateModel(installed: installedVariableRate) {
                let pick = try ImageCodec.encode(image, model: hyper, underBitsPerPixel: targetBpp, memoryLimit: memoryLimit)
                bytes = pick.container.serialized()
                let top = QualitySchedule.top
                remark = !pick.fits ? String(format: " (quality 1, the lowest, is above --target-bpp %g)", targetBpp)
                    : pick.quality == top ? String(format: " (quality %g, the highest, is under --target-bpp %g)", top, targetBpp)
                    : String(format: " (quality %.2f, target %g)", pick.quality, targetBpp)
            } else if let targetBpp {
                let pick = try ImageCodec.encode(image, underBitsPerPixel: targetBpp, levels: levels, coder: chosenCoder,
                                                 refinement: refinement, memoryLimit: memoryLimit) { try cache.model(quality: $0) }
                bytes = pick.bytes
                remark = pick.fits ? " (q\(pick.quality), target \(targetBpp))"
                    : " (q\(pick.quality), the lowest level, is above --target-bpp \(targetBpp))"
            } else {
                let codecModel = try cache.model(quality: quality ?? Double(ModelRegistry.defaultQuality))
                bytes = try ImageCodec.encode(image, model: codecModel, coder: chosenCoder, refinement: refinement,
                                              memoryLimit: memoryLimit).serialized()
            }
            try AtomicFile.write(bytes, to: destination, overwrite: force, inputs: allInputs)
            if destination != "-" {
                Terminal.note(BatchJobs.counter(index, of: allInputs.count) + String(format: "%@ -> %@: %d bytes, %.4f bpp", input, destination, bytes.count,
                                     Double(bytes.count * 8) / Double(image.pixelCount)) + remark + (denoise ? ", denoised first" : ""))
            }
            if Terminal.verbosity == .verbose, let container = try? Container.parse(bytes) {
                let h = container.header
                Terminal.detail("\(input): \(image.width)x\(image.height), model sha256:\(SHA256.hex(h.modelDigest).prefix(16)), coder \(h.coder), \(BatchJobs.seconds(since: start))")
            }
        }
        if failed > 0 {
            if files.count > 1 { Terminal.note("\(failed) of \(files.count) files failed") }
            throw ExitCode.failure
        }
    }
}

/// One worker's models: the explicit --model file, or the installed ones (a `Codec` loads each
/// once), and the denoiser. Each worker has its own (networks keep per-call state), so no
/// locking.
final class ModelCache: @unchecked Sendable {
    let installed: Codec
    let file: String?
    let denoiserFile: String?
    private var explicit: CodecModel?
    private var explicitDenoiser: Denoiser?

    init(registry: ModelRegistry, file: String?, denoiserFile: String? = nil) {
        installed = Codec(registry: registry)
        self.file = file
        self.denoiserFile = denoiserFile
    }

    /// The denoiser file given, else the installed one.
    func denoiser() throws -> Denoiser {
        guard let denoiserFile else {
            do { return try installed.denoiser() } catch { throw CLIError("\(error)") }
        }
        if explicitDenoiser == nil { explicitDenoiser = try loadDenoiser(denoiserFile) }
        return explicitDenoiser!
    }

    /// The --model file, loaded once.
    private func explicitModel(_ file: String) throws -> CodecModel {
        if explicit == nil { explicit = try loadCodecModel(file) }
        return explicit!
    }

    /// The variable-rate model in use (the --model file, or the installed one when `installed`),
    /// or nil when the models are single-level.
    func variableRateModel(installed isInstalled: Bool) throws -> CodecModel? {
        if let file {
            let m = try explicitModel(file)
            return m.hyperprior == nil ? nil : m
        }
        return isInstalled ? try model(quality: 1.0) : nil
    }

    /// The --model file when given (a hyperprior at `quality`), else the installed model for
    /// `quality`.
    func model(quality: Double) throws -> CodecModel {
        if let file {
            let m = try explicitModel(file)
            return m.hyperprior == nil ? m : try m.atQuality(quality)
        }
        return try installed.model(quality: quality)
    }

    /// The installed model for level `quality`.
    func model(quality: UInt8) throws -> CodecModel { try model(quality: Double(quality)) }

    /// The --model file when given, else the installed model with this digest.
    func model(digest: [UInt8]) throws -> CodecModel {
        if let file { return try explicitModel(file) }
        return try installed.model(digest: digest)
    }
}
