import ArgumentParser
import Foundation
import VlatCodec
import VlatFiles
import VlatFormat
import VlatImageIO
import VlatModels

/// `vlat info`: every header field of a .vlat file, its size and bits per pixel.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show what a .vlat file or a model file holds.",
        discussion: """
        For a .vlat file: every header field, sizes and bits per pixel; the file is fully \
        verified (signature, every chunk checksum, chunk order, header limits) first. For a model \
        file (.vlatmodel, .ckpt): its SHA-256 digest, architecture, parameter count, \
        multiply-accumulates per pixel, and how it was trained.

        Examples:
          vlat info photo.vlat
          vlat info --json *.vlat
          vlat info Benchmarks/autoencoder/ae-n96-m128.vlatmodel
        """)

    @Argument(help: "One or more .vlat or model files.")
    var files: [String]

    @Flag(help: "Print JSON (an array with one object per file).")
    var json = false

    struct Info: Encodable {
        var file: String
        var formatVersion: String
        var width: Int
        var height: Int
        var sourceColorType: String
        var sourceBitDepth: Int
        var quality: Int
        var coder: String
        var paddingMultiple: Int
        var paddedWidth: Int
        var paddedHeight: Int
        var latentChannels: Int
        var latentHeight: Int
        var latentWidth: Int
        var downsampling: Int
        var modelDigest: String
        /// The ICC profile's size, and the bytes it takes in the file (compressed, or raw in a
        /// version 1.0 `iccp` chunk); the same for EXIF and XMP.
        var iccBytes: Int
        var iccStoredBytes: Int
        var exifBytes: Int
        var exifStoredBytes: Int
        var xmpBytes: Int
        var xmpStoredBytes: Int
        var alphaBytes: Int
        var payloadBytes: Int
        var fileBytes: Int
        var bitsPerPixel: Double
        var skippedChunks: [String]
        /// A hyperprior file's model level (1 = its lowest rate), read from its payload;
        /// fractional levels have header quality 0.
        var hyperpriorQuality: Double?
        /// The detail layer's step and bytes, when the file has one.
        var detailStep: Double?
        var detailBytes: Int = 0
    }

    func run() throws {
        var infos: [Info] = []
        var models: [ModelInfo] = []
        for file in files {
            do {
                let bytes = try FileReader.read(file)
                if bytes.starts(with: ModelFile.magic) {
                    models.append(try ModelInfo(file: file, bytes: bytes))
                    continue
                }
                let c = try Container.parse(bytes)
                let h = c.header
                let colour = ImageSource.ColorType(rawValue: h.sourceColorType)?.description ?? "code \(h.sourceColorType)"
                infos.append(Info(
                    file: file, formatVersion: "\(h.versionMajor).\(h.versionMinor)", width: h.width, height: h.height,
                    sourceColorType: colour, sourceBitDepth: Int(h.sourceBitDepth), quality: Int(h.quality),
                    coder: h.coder.description, paddingMultiple: h.paddingMultiple, paddedWidth: h.paddedWidth,
                    paddedHeight: h.paddedHeight, latentChannels: h.latentChannels, latentHeight: h.latentHeight,
                    latentWidth: h.latentWidth, downsampling: h.downsampling, modelDigest: SHA256.hex(h.modelDigest),
                    iccBytes: c.iccProfile?.count ?? c.compressedICC?.size ?? 0,
                    iccStoredBytes: c.iccProfile?.count ?? c.compressedICC?.data.count ?? 0,
                    exifBytes: c.exif?.size ?? 0, exifStoredBytes: c.exif?.data.count ?? 0,
                    xmpBytes: c.xmp?.size ?? 0, xmpStoredBytes: c.xmp?.data.count ?? 0, alphaBytes: c.alpha?.data.count ?? 0, payloadBytes: c.payload.count,
                    fileBytes: bytes.count, bitsPerPixel: Double(bytes.count * 8) / Double(h.width * h.height),
                    skippedChunks: c.skippedChunks,
                    hyperpriorQuality: h.coder.isHyperprior && c.payload.count >= 2
                        ? 1 + Double(Int(c.payload[0]) | Int(c.payload[1]) << 8) / 256 : nil,
                    detailStep: try c.detail.map { try DetailLayer.parameters($0).step }, detailBytes: c.detail?.count ?? 0))
            } catch {
                throw CLIError(file: file, error)
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            if !infos.isEmpty { print(String(decoding: try encoder.encode(infos), as: UTF8.self)) }
            if !models.isEmpty { print(String(decoding: try encoder.encode(models), as: UTF8.self)) }
            return
        }
        let texts = infos.map(Self.text) + models.map(\.text)
        print(texts.joined(separator: "\n\n"))
    }

    /// What `vlat info` shows about a model file.
    struct ModelInfo: Encodable {
        var file: String
        var sha256: String
        var fileBytes: Int
        var objective: String
        var channels: Int
        var latentChannels: Int
        var parameters: Int
        var kmacPerPixel: Double
        var isCheckpoint: Bool
        var metadata: [String: String]
        /// Denoising models: the network's shape (channels is its full-resolution width).
        var denoiser: DenoiserConfig?
        /// Hyperprior models: the network's shape and levels.
        var hyperprior: HyperpriorConfig?

        init(file: String, bytes: [UInt8]) throws {
            let model = try ModelFile.parse(bytes)
            self.file = file
            sha256 = SHA256.hex(ModelFile.digest(of: bytes))
            fileBytes = bytes.count
            isCheckpoint = NetworkKind.trainerState(in: model) != nil
            switch try NetworkKind(of: model) {
            case .denoiser:
                let network = try Denoiser(modelFile: model)
                objective = "denoise"
                channels = network.config.channels
                latentChannels = 0
                parameters = network.parameters.reduce(0) { $0 + $1.value.count }
                kmacPerPixel = network.config.macsPerPixel / 1000
                metadata = network.metadata
                denoiser = network.config
            case .meanScaleHyperprior:
                // An exported model stores its hyper-synthesis as integers: load it as the codec does.
                let network = isCheckpoint ? try MeanScaleHyperprior(modelFile: model) : try HyperpriorCodecModel(file: model).network
                let c = network.config
                objective = Objective.hyperprior.rawValue
                channels = c.channels
                latentChannels = c.latentChannels
                parameters = network.parameters.reduce(0) { $0 + $1.value.count }
                let macs = c.transforms.macsPerPixel, hyper = c.hyperMacsPerPixel
                kmacPerPixel = (macs.analysis + macs.synthesis + hyper.analysis + hyper.synthesis + c.tailMacsPerPixel) / 1000
                metadata = network.metadata
                hyperprior = c
            case .autoencoder:
                let network = try Autoencoder(modelFile: model)
                objective = network.config.objective.rawValue
                channels = network.config.channels
                latentChannels = network.config.latentChannels
                parameters = network.parameters.reduce(0) { $0 + $1.value.count }
                let macs = network.config.macsPerPixel
                kmacPerPixel = (macs.analysis + macs.synthesis) / 1000
                metadata = network.metadata
            }
        }

        var text: String {
            var rows: [(String, String)] = [("model sha256", sha256)]
            if let d = denoiser {
                rows += [("kind", "\(isCheckpoint ? "training checkpoint" : "model"), denoiser"),
                         ("architecture", "C=\(d.channels), \(d.levels) levels, \(d.blocks) blocks, skips \(d.skips ? "on" : "off"), residual \(d.residual ? "on" : "off")"),
                         ("parameters", "\(parameters) (\(fileBytes) bytes)"),
                         ("compute", String(format: "%.1f kMAC per pixel", kmacPerPixel))]
            } else if let h = hyperprior {
                rows += [("kind", "\(isCheckpoint ? "training checkpoint" : "model"), variable-rate mean-scale hyperprior, \(h.levels) levels"),
                         ("architecture", "\(h.widthsDescription), z \(h.hyperChannels) channels\(h.contextsDescription)\(h.tailDescription), 16x and 64x downsampling per side"),
                         ("lambdas", h.lambdas.map { "\($0)" }.joined(separator: ", ")),
                         ("parameters", "\(parameters) (\(fileBytes) bytes)"),
                         ("compute", String(format: "%.1f kMAC per pixel (all four transforms\(h.tailChannels == nil ? "" : " and the tail"))", kmacPerPixel))]
            } else {
                rows += [("kind", "\(isCheckpoint ? "training checkpoint" : "model"), \(objective) autoencoder"),
                         ("architecture", "N=\(channels), M=\(latentChannels), 16x downsampling per side"),
                         ("parameters", "\(parameters) (\(fileBytes) bytes)"),
                         ("compute", String(format: "%.1f kMAC per pixel (analysis + synthesis)", kmacPerPixel))]
            }
            for key in metadata.keys.sorted() where !(metadata[key] ?? "").isEmpty { rows.append((key, metadata[key]!)) }
            return InfoCommand.table(file, rows)
        }
    }

    /// "none", "3144 bytes" (stored raw) or "3144 bytes (1830 stored, zstd)".
    static func metadataSize(_ bytes: Int, stored: Int) -> String {
        bytes == 0 ? "none" : stored == bytes ? "\(bytes) bytes" : "\(bytes) bytes (\(stored) stored, zstd)"
    }

    static func text(_ i: Info) -> String {
        let quality = i.hyperpriorQuality.map { String(format: "model level %g (variable-rate model)", $0) + (i.quality > 0 ? ", quality \(i.quality) of 8" : "") }
            ?? (i.quality == 0 ? "custom model" : "\(i.quality) of 8")
        let rows: [(String, String)] = [
            ("format version", i.formatVersion),
            ("image", "\(i.width) x \(i.height), source \(i.sourceColorType) \(i.sourceBitDepth)-bit"),
            ("padded to", "\(i.paddedWidth) x \(i.paddedHeight) (multiple of \(i.paddingMultiple), edge replication)"),
            ("latent", "\(i.latentChannels) x \(i.latentHeight) x \(i.latentWidth) (downsampling \(i.downsampling))"),
            ("quality", quality),
            ("entropy coder", i.coder),
            ("model sha256", i.modelDigest),
            ("icc profile", Self.metadataSize(i.iccBytes, stored: i.iccStoredBytes)),
            ("exif", Self.metadataSize(i.exifBytes, stored: i.exifStoredBytes)),
            ("xmp", Self.metadataSize(i.xmpBytes, stored: i.xmpStoredBytes)),
            ("alpha", i.alphaBytes == 0 ? "none" : "\(i.alphaBytes) bytes (zstd)"),
            ("payload", "\(i.payloadBytes) bytes"),
            ("detail layer", i.detailStep.map { String(format: "%d bytes, step %g", i.detailBytes, $0) } ?? "none"),
            ("file size", "\(i.fileBytes) bytes"),
            ("bits per pixel", String(format: "%.4f", i.bitsPerPixel)),
        ] + (i.skippedChunks.isEmpty ? [] : [("skipped chunks", i.skippedChunks.joined(separator: ", "))])
        return table(i.file, rows)
    }

    /// `title`, then one indented row per pair, values aligned two spaces after the longest key.
    static func table(_ title: String, _ rows: [(String, String)]) -> String {
        let width = (rows.map(\.0.count).max() ?? 0) + 2
        return ([title] + rows.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + $0.1 }).joined(separator: "\n")
    }
}
