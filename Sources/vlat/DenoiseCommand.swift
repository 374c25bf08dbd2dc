import ArgumentParser
import Foundation
import VlatCodec
import VlatFiles
import VlatFormat
import VlatImageIO
import VlatModels
import VlatTensor

/// Loads a denoising model given on the command line, with errors that name the file.
func loadDenoiser(_ path: String) throws -> Denoiser {
    do { return try Denoiser(modelFile: ModelFile.parse(FileReader.read(path))) } catch { throw CLIError(file: path, error) }
}

/// `vlat denoise`: noisy or blurry PNG/JPEG -> clean PNG.
struct DenoiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "denoise",
        abstract: "Clean noisy or blurry photos with the denoising network.",
        discussion: """
        Blind: no noise level is needed. Each input becomes INPUT.denoised.png beside it \
        (INPUT.denoised.jpg with --format jpeg); -o names the output file (one input; .png, .jpg \
        or .jpeg) or an output folder. Folders given as inputs are expanded to their PNG/JPEG \
        files (-r: subfolders too), processed in parallel, one per core. Any \
        size works: the network runs in overlapping tiles whose margins cover its receptive \
        field, so there are no seams. Grey images stay grey; alpha, the ICC profile, EXIF and \
        XMP are kept (--metadata chooses), the EXIF orientation applied. The model is the installed denoise.vlatmodel (--model-dir, $VLAT_MODELS, the \
        shipped models) unless --model names one.

        Examples:
          vlat denoise noisy.png
          vlat denoise scans/ -o cleaned/
          vlat denoise photo.jpg -o photo-clean.png --model my-denoiser.vlatmodel
          vlat denoise grainy.jpg --strength 0.5      # halfway: keeps some grain
          vlat denoise precious.png --ensemble        # 8 orientations averaged: slower, cleaner
        """)

    @Argument(help: "PNG or JPEG files or folders of them ('-' for standard input).") var inputs: [String]
    @Option(name: .shortAndLong, help: "Output file (one input), or folder; '-' for standard output. Default: INPUT.denoised.png beside each input.") var output: String?
    @OptionGroup var imageOutput: ImageOutputOptions
    @OptionGroup var metadataOptions: MetadataOptions
    @Option(help: "Denoising model file (vlat train --objective denoise).") var model: String?
    @OptionGroup var search: ModelSearchOptions
    @Option(parsing: .unconditional, help: "Output pixels per tile side (memory grows with its square).") var tile: Int = ImageDenoiser.defaultTile
    @Option(parsing: .unconditional, help: "How much of the network's correction to apply: 1 all of it, 0 none (the input), 0.5 halfway.") var strength: Float = 1
    @Flag(help: "Average the network over the image's 8 rotations and flips: 8 times slower, a little cleaner.") var ensemble = false
    @OptionGroup var batch: BatchOptions
    @OptionGroup var imageLimits: ImageLimitOptions

    func validate() throws {
        if !(16...4096).contains(tile) { throw ValidationError("--tile must be in 16...4096") }
        if !ImageDenoiser.strengthRange.contains(strength) { throw ValidationError("--strength must be in 0...1") }
    }

    func run() throws {
        batch.applyVerbosity()
        MemoryTuning.retainFreedMemory(largeBlocks: MemoryTuning.codecLargeBlocks)
        let found = try BatchJobs.expand(inputs, extensions: ["png", "jpg", "jpeg"], recursive: batch.recursive)
        let files = found.map(\.path)
        let destinations = try BatchJobs.destinations(for: found, output: output, extension: imageOutput.defaultExtension(suffix: "denoised"))
        let formats = try destinations.map(imageOutput.format(for:))
        let registry = search.registry
        let workers = BatchJobs.workers(for: files.count, requested: batch.jobs)
        // Each worker loads its own copy; loading them now checks the model before any work.
        let models = (0..<workers).map { _ in ModelCache(registry: registry, file: nil, denoiserFile: model) }
        for m in models { _ = try m.denoiser() }
        Parallel.threads = max(1, ProcessInfo.processInfo.activeProcessorCount / workers)
        let limits = imageLimits.limits
        let (tile, strength, ensemble, force, allInputs, total) = (tile, strength, ensemble, batch.force, files, files.count)
        let metadataOptions = metadataOptions
        let failed = BatchJobs.run(count: files.count, jobs: workers, names: files) { index, worker in
            let (input, destination) = (files[index], destinations[index])
            let start = ContinuousClock.now
            let image = metadataOptions.apply(to: try ImageFile.read(input, limits: limits), name: input)
            let clean = ImageDenoiser.denoise(image, model: try models[worker].denoiser(), tile: tile, strength: strength, ensemble: ensemble)
            try ImageFile.write(clean, to: destination, format: formats[index], overwrite: force, inputs: allInputs)
            if destination != "-" { Terminal.note("\(BatchJobs.counter(index, of: total))\(input) -> \(destination)") }
            Terminal.detail("\(input): \(image.width)x\(image.height), \(BatchJobs.seconds(since: start))")
        }
        if failed > 0 {
            if files.count > 1 { Terminal.note("\(failed) of \(files.count) files failed") }
            throw ExitCode.failure
        }
    }
}
