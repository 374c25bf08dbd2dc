import ArgumentParser
import Foundation
import VlatCodec
import VlatFiles
import VlatFormat
import VlatImageIO
import VlatTensor

/// `vlat decompress`: .vlat -> PNG.
struct DecompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decompress",
        abstract: "Decompress .vlat files to PNG or JPEG images.",
        discussion: """
        Each input becomes INPUT.decoded.png beside it (INPUT.decoded.jpg with --format jpeg), \
        so a decode never lands on the image that was compressed; -o names the output file \
        (one input; .png, .jpg or .jpeg) or an output folder (several inputs, a folder input, or a folder that \
        exists). Folders given as inputs are expanded to their .vlat files (-r: subfolders too). \
        Outputs are written atomically and never replace an existing file without --force, \
        nor an input. The ICC profile, EXIF and XMP the file carries are written into the \
        image (--metadata chooses).

        The file names the model that encoded it by SHA-256. Without --model, that model is \
        looked up in --model-dir, $VLAT_MODELS and the installed models; if it is not installed \
        the error names the digest. Decoding with another model is refused with both digests. \
        A damaged file gives one error line and no output.

        Examples:
          vlat decompress photo.vlat                    # writes photo.decoded.png
          vlat decompress photo.vlat -o restored.jpg --jpeg-quality 95
          vlat decompress holiday-vlat/ -r -o holiday-png/
          vlat decompress photo.vlat -o - | display -
          vlat decompress old.vlat --model-dir ~/vlat-0.1-models
        """)

    @Argument(help: ".vlat files or folders of them ('-' for standard input).") var inputs: [String]
    @Option(name: .shortAndLong, help: "Output file (one input), or folder; '-' for standard output. Default: INPUT.decoded.png beside each input.") var output: String?
    @OptionGroup var imageOutput: ImageOutputOptions
    @OptionGroup var metadataOptions: MetadataOptions
    @Option(help: "The model file that encoded the inputs (default: found by digest).") var model: String?
    @OptionGroup var search: ModelSearchOptions
    @OptionGroup var batch: BatchOptions
    @OptionGroup var memory: MemoryLimitOptions

    func run() throws {
        batch.applyVerbosity()
        MemoryTuning.retainFreedMemory(largeBlocks: MemoryTuning.codecLargeBlocks)
        let found = try BatchJobs.expand(inputs, extensions: ["vlat"], recursive: batch.recursive)
        let files = found.map(\.path)
        let destinations = try BatchJobs.destinations(for: found, output: output, extension: imageOutput.defaultExtension(suffix: "decoded"))
        let formats = try destinations.map(imageOutput.format(for:))
        if let model { _ = try loadCodecModel(model) }
        let workers = BatchJobs.workers(for: files.count, requested: batch.jobs)
        Parallel.threads = max(1, ProcessInfo.processInfo.activeProcessorCount / workers)
        let registry = search.registry
        let caches = (0..<workers).map { _ in ModelCache(registry: registry, file: model) }
        let (force, allInputs, metadataOptions) = (batch.force, files, metadataOptions)
        let memoryLimit = memory.perJob(workers)
        let failed = BatchJobs.run(count: files.count, jobs: workers, names: files) { index, worker in
            let (input, destination) = (files[index], destinations[index])
            let start = ContinuousClock.now
            // Anything that does not start like a .vlat file is refused before the rest is read.
            let container = try Container.parse(FileReader.read(input, prefix: .init(count: Container.signature.count) { head in
                guard head.count < Container.signature.count || head == Container.signature else { throw ContainerError.notVlat }
            }))
            let codecModel = try caches[worker].model(digest: container.header.modelDigest)
            let image = metadataOptions.apply(to: try ImageCodec.decode(container, model: codecModel, memoryLimit: memoryLimit), name: input)
            try ImageFile.write(image, to: destination, format: formats[index], overwrite: force, inputs: allInputs)
            if destination != "-" {
                Terminal.note("\(BatchJobs.counter(index, of: files.count))\(input) -> \(destination): \(image.width)x\(image.height)")
            }
            Terminal.detail("\(input): model sha256:\(SHA256.hex(container.header.modelDigest).prefix(16)), \(BatchJobs.seconds(since: start))")
        }
        if failed > 0 {
            if files.count > 1 { Terminal.note("\(failed) of \(files.count) files failed") }
            throw ExitCode.failure
        }
    }
}
