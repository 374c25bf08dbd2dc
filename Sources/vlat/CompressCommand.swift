import ArgumentParser
import Foundation
import VlatCodec
import VlatFiles
import VlatFormat
import VlatImageIO
import VlatTensor

/// Loads a codec model given on the command line, with errors that name the file.
func loadCodecModel(_ path: String) throws -> CodecModel {
    do { return try CodecModel(bytes: FileReader.read(path)) } catch { throw CLIError(file: path, error) }
}

/// The output path for `input` when none is given: same folder and stem, new extension.
func defaultOutput(for input: String, extension ext: String) -> String {
    if input == "-" { return "-" }
    let url = URL(fileURLWithPath: input)
    return url.deletingPathExtension().appendingPathExtension(ext).relativePath
}

/// `vlat compress`: PNG/JPEG -> .vlat.
struct CompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Compress PNG/JPEG images into .vlat files with a rate-distortion model.",
        discussion: """
        Each input becomes INPUT.vlat beside it unless -o names the output (one input only). \
        '-' reads standard input or writes standard output. Alpha is kept losslessly, the ICC \
        profile is carried, grey images stay grey. Outputs are written atomically and never \
        replace an existing file without --force, nor an input.

        Examples:
          vlat compress photo.png --quality 4
          vlat compress photo.png --model mine.vlatmodel
          vlat compress photo.jpg -o small.vlat --model q4.vlatmodel --coder zstd
          cat photo.png | vlat compress - -o - --model q4.vlatmodel > photo.vlat
        """)

    @Argument(help: "PNG or JPEG files ('-' for standard input).") var inputs: [String]
    @Option(name: .shortAndLong, help: "Output file (only with one input; '-' for standard output).") var output: String?
    @Option(help: "Model file (.vlatmodel) trained with --objective rd; overrides --quality.") var model: String?
    @Option(help: "Quality level 1...8: uses the installed model qN.vlatmodel.") var quality: UInt8 = 4
    @Option(help: "Extra folder to search for models (before $VLAT_MODELS and the shipped ones).") var modelDir: [String] = []
    @Option(help: "Entropy coder: rans or zstd.") var coder: String = "rans"
    @Option(help: "Refuse images with more pixels than this (checked before decoding).") var maxPixels: Int = ImageLimits.default.maxPixels
    @Flag(help: "Replace existing output files.") var force = false

    func validate() throws {
        if output != nil && inputs.count > 1 { throw ValidationError("-o works with one input; without it each input gets INPUT.vlat") }
        if ContainerHeader.Coder.allCases.first(where: { $0.description == coder }) == nil { throw ValidationError("--coder must be rans or zstd") }
        if maxPixels < 1 { throw ValidationError("--max-pixels must be at least 1") }
        if !(1...8).contains(quality) { throw ValidationError("--quality must be in 1...8") }
    }

    func run() throws {
        MemoryTuning.retainFreedMemory()
        let codecModel: CodecModel
        if let model {
            codecModel = try loadCodecModel(model)
        } else {
            do { codecModel = try ModelRegistry(folders: modelDir).model(quality: quality) } catch { throw CLIError("\(error)") }
        }
        let chosen = ContainerHeader.Coder.allCases.first { $0.description == coder }!
        for input in inputs {
            let destination = output ?? defaultOutput(for: input, extension: "vlat")
            do {
                let image = try ImageFile.read(input, limits: ImageLimits(maxPixels: maxPixels))
                if image.source.wasReducedTo8Bit { Terminal.note("\(input): \(image.source.bitDepth)-bit samples reduced to 8 bits") }
                let bytes = try ImageCodec.encode(image, model: codecModel, coder: chosen).serialized()
                try AtomicFile.write(bytes, to: destination, overwrite: force, inputs: inputs)
                if destination != "-" {
                    Terminal.note(String(format: "%@ -> %@: %d bytes, %.4f bpp", input, destination, bytes.count,
                                         Double(bytes.count * 8) / Double(image.pixelCount)))
                }
            } catch {
                throw CLIError(file: input, error)
            }
        }
    }
}

/// `vlat decompress`: .vlat -> PNG.
struct DecompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decompress",
        abstract: "Decompress .vlat files to PNG (or JPEG by the output's extension).",
        discussion: """
        The file names the model that encoded it by SHA-256. Without --model, that model is \
        looked up in --model-dir, $VLAT_MODELS and the shipped models; if it is not installed \
        the error names the digest. Decoding with another model is refused with both digests. \
        A damaged file gives one error line and no output.

        Examples:
          vlat decompress photo.vlat
          vlat decompress photo.vlat -o restored.png --model-dir ~/vlat-models
        """)

    @Argument(help: ".vlat files ('-' for standard input).") var inputs: [String]
    @Option(name: .shortAndLong, help: "Output file (only with one input; '-' for standard output).") var output: String?
    @Option(help: "The model file that encoded the inputs (default: found by digest).") var model: String?
    @Option(help: "Extra folder to search for models (before $VLAT_MODELS and the shipped ones).") var modelDir: [String] = []
    @Flag(help: "Replace existing output files.") var force = false

    func validate() throws {
        if output != nil && inputs.count > 1 { throw ValidationError("-o works with one input; without it each input gets INPUT.png") }
    }

    func run() throws {
        MemoryTuning.retainFreedMemory()
        let given = try model.map(loadCodecModel)
        let registry = ModelRegistry(folders: modelDir)
        var loaded: [[UInt8]: CodecModel] = [:]
        for input in inputs {
            let destination = output ?? defaultOutput(for: input, extension: "png")
            do {
                let container = try Container.parse(FileReader.read(input))
                let digest = container.header.modelDigest
                let codecModel = try given ?? loaded[digest] ?? registry.model(digest: digest)
                loaded[digest] = codecModel
                let image = try ImageCodec.decode(container, model: codecModel)
                try ImageFile.write(image, to: destination, format: destination == "-" ? .png : nil, overwrite: force, inputs: inputs)
            } catch {
                throw CLIError(file: input, error)
            }
        }
    }
}
