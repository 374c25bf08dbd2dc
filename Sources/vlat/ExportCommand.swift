import ArgumentParser
import Foundation
import VlatCodec
import VlatFiles
import VlatFormat
import VlatImageIO
import VlatModels
import VlatTraining
import VlatEntropy

/// `vlat export`: a checkpoint or model file rewritten as a model ready to ship.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint or model as a compact model file (float16 weights, entropy tables).",
        discussion: """
        Reads a training checkpoint (.ckpt) or a model file and writes only what coding needs: \
        the architecture, the metadata (how it was trained) and the weights, stored as float16 \
        by default; rate-distortion models also get their integer entropy tables, computed once \
        here; with --fit-contexts, also the context coder's starting tables, fitted on that \
        folder's training split (the images `vlat train` trains on, never its held-out ones); \
        without it, a model file's fitted tables are kept. A hyperprior model also gets its \
        integer hyper-synthesis, whose activation scales are calibrated on the training split \
        of --calibrate (required for it). The file is zstd-compressed (model file version 4) \
        unless --uncompressed. \
        The result has its own digest: .vlat files made with the input model need the \
        input model to decode.

        Examples:
          vlat export runs/q4.ckpt -o q4.vlatmodel
          vlat export runs/q4.ckpt -o q4.vlatmodel --fit-contexts ../shared/corpus/train
          vlat export big.vlatmodel -o big-f32.vlatmodel --storage float32
          vlat export runs/hp.ckpt -o hyperprior.vlatmodel --calibrate ../shared/corpus/train
        """)

    @Argument(help: "A checkpoint or model file.") var input: String
    @Option(name: .shortAndLong, help: "The model file to write.") var output: String
    @Option(help: "Weight storage: float16 or float32.") var storage: ModelFile.Storage = .float16
    @Option(help: "Fit the context coder's starting tables on this training folder's training split.") var fitContexts: String?
    @Option(help: "Hyperprior: calibrate the integer hyper-synthesis on this training folder's training split.") var calibrate: String?
    @Option(help: "How many of those images (evenly spaced by name).") var fitImages: Int = 100
    @Flag(help: "Write model file version 2, not zstd-compressed (larger; readable by vlat releases from before compressed model files).") var uncompressed = false
    @Flag(help: "Replace an existing output file.") var force = false

    func validate() throws {
        if fitImages < 1 { throw ValidationError("--fit-images must be at least 1") }
    }

    func run() throws {
        let kind = storage
        let images = try contextImages()
        let file: ModelFile
        do {
            let bytes = try FileReader.read(input)
            let parsed = try ModelFile.parse(bytes)
            let origin = "\((input as NSString).lastPathComponent) (sha256 \(SHA256.hex(ModelFile.digest(of: bytes))))"
            let fitNeedsCodec = CLIError("--fit-contexts needs a rate-distortion model")
            // A model exported again keeps where its first export came from.
            func note(_ metadata: inout [String: String]) {
                metadata["exportedFrom"] = metadata["exportedFrom"].map { "\(origin), itself from \($0)" } ?? origin
            }
            let kindOfFile = try NetworkKind(of: parsed)
            if kindOfFile != .autoencoder && fitContexts != nil { throw fitNeedsCodec }
            if kindOfFile != .meanScaleHyperprior && calibrate != nil { throw CLIError("--calibrate is for hyperprior models") }
            switch kindOfFile {
            case .meanScaleHyperprior:
                guard let folder = calibrate else { throw CLIError("a hyperprior model needs --calibrate FOLDER (training images)") }
                let network = try MeanScaleHyperprior(modelFile: parsed)
                note(&network.metadata)
                let images = try trainingImages(folder)
                network.metadata["calibration"] = "\(images.count) training-split images of \((folder as NSString).lastPathComponent)"
                file = try HyperpriorCodecModel.export(network, calibration: images, storage: kind)
            case .denoiser:
                let network = try Denoiser(modelFile: parsed)
                note(&network.metadata)
                file = network.modelFile(extra: [], trainer: nil, storage: kind)
            case .autoencoder:
                let network = try Autoencoder(modelFile: parsed)
                note(&network.metadata)
                if network.config.objective == .rd {
                    let priors: ContextPriors?
                    if let folder = fitContexts {
                        priors = try CodecModel.fitContextPriors(network, on: images)
                        network.metadata["contextPriors"] = "fitted on \(images.count) training-split images of \((folder as NSString).lastPathComponent), weight \(ContextPriors.defaultTotal)"
                    } else {
                        // Exported again without refitting, a model keeps its fitted tables
                        // (its entropy tables come out the same from the same prior).
                        priors = try EntropyTables.readContextPriors(parsed, tables: CodecModel.entropyTables(of: network))
                    }
                    file = try CodecModel.export(network, storage: kind, contextPriors: priors)
                } else {
                    if fitContexts != nil { throw fitNeedsCodec }
                    file = network.modelFile(storage: kind)
                }
            }
        } catch { throw CLIError(file: input, error) }
        let out = file.serialized(compressionLevel: uncompressed ? nil : 19)
        do { try AtomicFile.write(out, to: output, overwrite: force, inputs: [input]) } catch { throw CLIError(file: output, error) }
        Terminal.note("\(input) -> \(output): \(out.count) bytes, sha256 \(SHA256.hex(ModelFile.digest(of: out)))")
    }

    /// `--fit-images` of the training split of `--fit-contexts`, evenly spaced by name; none without it.
    func contextImages() throws -> [Image] {
        guard let folder = fitContexts else { return [] }
        return try trainingImages(folder)
    }

    /// `--fit-images` of the training split of `folder`, evenly spaced by name.
    func trainingImages(_ folder: String) throws -> [Image] {
        let train: [RGBImage]
        do { train = try TrainingImages.load(folder: folder).train } catch { throw CLIError("\(error)") }
        let n = min(fitImages, train.count)
        return (0..<n).map { i in
            let image = train[i * train.count / n]
            return Image.assemble(width: image.width, height: image.height, rgb: image.pixels, alpha: nil, layout: .rgb)
        }
    }
}
