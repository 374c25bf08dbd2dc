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
        abstract: "Decompress .vlat files to PNG (or JPEG by the output's extension).",
        discussion: """
        The file names the model that encoded it by SHA-256. Without --model, that model is \
        looked up in --model-dir, $VLAT_MODELS and the shipped models; if it is not installed \
        the error names the digest. Decoding with another model is refused with both digests. \
        A damaged file gives one error line and no output. Folders given as inputs are \
        expanded to their .vlat files; -o names the output file (one input) or folder.

        Examples:
          vlat decompress photo.vlat
          vlat decompress holiday-vlat/ -o holiday-png/
          vlat decompress photo.vlat -o restored.png --model-dir ~/vlat-models
        """)

    @Argument(help: ".vlat files or folders of them ('-' for standard input).") var inputs: [String]
    @Option(name: .shortAndLong, help: "Output file (one input), or folder; '-' for standard output.") var output: String?
    @Option(help: "The model file that encoded the inputs (default: found by digest).") var model: String?
    @OptionGroup var search: ModelSearchOptions
    @OptionGroup var batch: BatchOptions
    @OptionGroup var memory: MemoryLimitOptions

    func validate() throws {
    }

    func run() throws {
        MemoryTuning.retainFreedMemory()
        let files = try BatchJobs.expand(inputs, extensions: ["vlat"])
        let destinations = try BatchJobs.destinations(for: files, output: output, extension: "png")
        if let model { _ = try loadCodecModel(model) }
        let workers = BatchJobs.workers(for: files.count, requested: batch.jobs)
        Parallel.threads = max(1, ProcessInfo.processInfo.activeProcessorCount / workers)
        let registry = search.registry
        let caches = (0..<workers).map { _ in ModelCache(registry: registry, file: model) }
        let (force, allInputs) = (batch.force, files)
        let memoryLimit = memory.perJob(workers)
        let failed = BatchJobs.run(count: files.count, jobs: workers, names: files) { index, worker in
            let (input, destination) = (files[index], destinations[index])
            let container = try Container.parse(FileReader.read(input))
            let codecModel = try caches[worker].model(digest: container.header.modelDigest)
            let image = try ImageCodec.decode(container, model: codecModel, memoryLimit: memoryLimit)
            try ImageFile.write(image, to: destination, format: destination == "-" ? .png : nil, overwrite: force, inputs: allInputs)
        }
        if failed > 0 {
            if files.count > 1 { Terminal.note("\(failed) of \(files.count) files failed") }
            throw ExitCode.failure
        }
    }
}
