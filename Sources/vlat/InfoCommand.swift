import ArgumentParser
import Foundation
import VlatFiles
import VlatFormat
import VlatImageIO

/// `vlat info`: every header field of a .vlat file, its size and bits per pixel.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show what a .vlat file holds: header fields, sizes, bits per pixel.",
        discussion: """
        The file is fully verified (signature, every chunk checksum, chunk order, header limits) \
        before anything is printed.

        Examples:
          vlat info photo.vlat
          vlat info --json *.vlat
        """)

    @Argument(help: "One or more .vlat files.")
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
        var iccBytes: Int
        var alphaBytes: Int
        var payloadBytes: Int
        var fileBytes: Int
        var bitsPerPixel: Double
        var skippedChunks: [String]
    }

    func run() throws {
        var infos: [Info] = []
        for file in files {
            do {
                let bytes = try FileReader.read(file)
                let c = try Container.parse(bytes)
                let h = c.header
                let colour = ImageSource.ColorType(rawValue: h.sourceColorType)?.description ?? "code \(h.sourceColorType)"
                infos.append(Info(
                    file: file, formatVersion: "\(h.versionMajor).\(h.versionMinor)", width: h.width, height: h.height,
                    sourceColorType: colour, sourceBitDepth: Int(h.sourceBitDepth), quality: Int(h.quality),
                    coder: h.coder.description, paddingMultiple: h.paddingMultiple, paddedWidth: h.paddedWidth,
                    paddedHeight: h.paddedHeight, latentChannels: h.latentChannels, latentHeight: h.latentHeight,
                    latentWidth: h.latentWidth, downsampling: h.downsampling, modelDigest: SHA256.hex(h.modelDigest),
                    iccBytes: c.iccProfile?.count ?? 0, alphaBytes: c.alpha?.data.count ?? 0, payloadBytes: c.payload.count,
                    fileBytes: bytes.count, bitsPerPixel: Double(bytes.count * 8) / Double(h.width * h.height),
                    skippedChunks: c.skippedChunks))
            } catch {
                throw CLIError(file: file, error)
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(infos), as: UTF8.self))
            return
        }
        for (i, info) in infos.enumerated() {
            if i > 0 { print("") }
            print(Self.text(info))
        }
    }

    static func text(_ i: Info) -> String {
        let quality = i.quality == 0 ? "custom model" : "\(i.quality) of 8"
        let rows: [(String, String)] = [
            ("format version", i.formatVersion),
            ("image", "\(i.width) x \(i.height), source \(i.sourceColorType) \(i.sourceBitDepth)-bit"),
            ("padded to", "\(i.paddedWidth) x \(i.paddedHeight) (multiple of \(i.paddingMultiple), edge replication)"),
            ("latent", "\(i.latentChannels) x \(i.latentHeight) x \(i.latentWidth) (downsampling \(i.downsampling))"),
            ("quality", quality),
            ("entropy coder", i.coder),
            ("model sha256", i.modelDigest),
            ("icc profile", i.iccBytes == 0 ? "none" : "\(i.iccBytes) bytes"),
            ("alpha", i.alphaBytes == 0 ? "none" : "\(i.alphaBytes) bytes (zstd)"),
            ("payload", "\(i.payloadBytes) bytes"),
            ("file size", "\(i.fileBytes) bytes"),
            ("bits per pixel", String(format: "%.4f", i.bitsPerPixel)),
        ] + (i.skippedChunks.isEmpty ? [] : [("skipped chunks", i.skippedChunks.joined(separator: ", "))])
        return ([i.file] + rows.map { "  " + $0.0.padding(toLength: 16, withPad: " ", startingAt: 0) + $0.1 })
            .joined(separator: "\n")
    }
}
