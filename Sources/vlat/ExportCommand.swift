import ArgumentParser
import Foundation
import VlatCodec
import VlatFiles
import VlatFormat
import VlatModels

/// `vlat export`: a checkpoint or model file rewritten as a model ready to ship.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint or model as a compact model file (float16 weights, entropy tables).",
        discussion: """
        Reads a training checkpoint (.ckpt) or a model file and writes only what coding needs: \
        the architecture, the metadata (how it was trained) and the weights, stored as float16 \
        by default; rate-distortion models also get their integer entropy tables, computed once \
        here. The result has its own digest: .vlat files made with the input model need the \
        input model to decode.

        Examples:
          vlat export runs/q4.ckpt -o q4.vlatmodel
          vlat export big.vlatmodel -o big-f32.vlatmodel --storage float32
        """)

    @Argument(help: "A checkpoint or model file.") var input: String
    @Option(name: .shortAndLong, help: "The model file to write.") var output: String
    @Option(help: "Weight storage: float16 or float32.") var storage: String = "float16"
    @Flag(help: "Replace an existing output file.") var force = false

    func validate() throws {
        if !["float16", "float32"].contains(storage) { throw ValidationError("--storage must be float16 or float32") }
    }

    func run() throws {
        let kind: ModelFile.Storage = storage == "float16" ? .float16 : .float32
        let file: ModelFile
        do {
            let bytes = try FileReader.read(input)
            let parsed = try ModelFile.parse(bytes)
            let origin = "\((input as NSString).lastPathComponent) (sha256 \(SHA256.hex(ModelFile.digest(of: bytes))))"
            if Denoiser.isDenoiser(parsed) {
                let network = try Denoiser(modelFile: parsed)
                network.metadata["exportedFrom"] = origin
                file = network.modelFile(extra: [], trainer: nil, storage: kind)
            } else {
                let network = try Autoencoder(modelFile: parsed)
                network.metadata["exportedFrom"] = origin
                file = network.config.objective == .rd ? try CodecModel.export(network, storage: kind) : network.modelFile(storage: kind)
            }
        } catch { throw CLIError(file: input, error) }
        let out = file.serialized()
        do { try AtomicFile.write(out, to: output, overwrite: force, inputs: [input]) } catch { throw CLIError(file: output, error) }
        Terminal.note("\(input) -> \(output): \(out.count) bytes, sha256 \(SHA256.hex(ModelFile.digest(of: out)))")
    }
}
