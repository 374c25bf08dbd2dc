import ArgumentParser
import Foundation
import VlatCodec
import VlatImageIO

/// `--model-dir`: where to look for models before `$VLAT_MODELS` and the shipped ones.
struct ModelSearchOptions: ParsableArguments {
    @Option(help: "Extra folder to search for models (before $VLAT_MODELS and the shipped ones; repeatable).") var modelDir: [String] = []

    var registry: ModelRegistry { ModelRegistry(folders: modelDir) }
}

/// The options of commands that turn many files into many outputs.
struct BatchOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Files processed at once (default: one per core).") var jobs: Int?
    @Flag(help: "Replace existing output files (never an input).") var force = false
    @Flag(name: .shortAndLong, help: "Take the files in the subfolders of folder inputs too; outputs in an output folder keep the subfolders.") var recursive = false
    @Flag(help: "Print errors only.") var quiet = false
    @Flag(help: "Print more: the model, coder and time of each file.") var verbose = false

    func validate() throws {
        if let jobs, !(1...64).contains(jobs) { throw ValidationError("--jobs must be in 1...64") }
        if quiet && verbose { throw ValidationError("give one of --quiet and --verbose") }
    }

    /// Sets how much the command prints.
    func applyVerbosity() { Terminal.verbosity = quiet ? .quiet : verbose ? .verbose : .normal }
}

/// The image format of decoded outputs: from `-o`'s extension, or `--format`.
struct ImageOutputOptions: ParsableArguments {
    enum Format: String, CaseIterable, ExpressibleByArgument { case png, jpeg }

    @Option(help: "Format of the images written (default: from -o's extension, else png).") var format: Format?
    @Option(parsing: .unconditional, help: "JPEG quality 1...100 of JPEG outputs.") var jpegQuality: Int = 90

    func validate() throws {
        if !(1...100).contains(jpegQuality) { throw ValidationError("--jpeg-quality must be in 1...100") }
    }

    /// Extensions an output image may have, by format.
    static let extensions: [Format: Set<String>] = [.png: ["png"], .jpeg: ["jpg", "jpeg"]]
    /// Extensions of image formats that vlat reads or other tools write: a .vlat output with one
    /// of these names, or a decoded output named for a format vlat does not write, is refused.
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "webp", "avif", "jxl", "heic", "tif", "tiff", "gif", "bmp", "ppm", "pgm", "pnm", "exr", "jp2", "qoi"]

    /// The default output file name's extension (after `suffix`, e.g. "decoded").
    func defaultExtension(suffix: String) -> String { "\(suffix).\(format == .jpeg ? "jpg" : "png")" }

    /// The format of `destination`: `--format` if given (which must agree with the file's own
    /// image extension), else the extension's; standard output is PNG unless `--format jpeg`.
    func format(for destination: String) throws -> ImageFile.OutputFormat {
        let ext = destination == "-" ? "" : (destination as NSString).pathExtension.lowercased()
        let byName = Self.extensions.first { $0.value.contains(ext) }?.key
        if byName == nil && Self.imageExtensions.contains(ext) {
            throw CLIError("\(destination): vlat writes PNG (.png) or JPEG (.jpg, .jpeg), not .\(ext)")
        }
        if let format, let byName, format != byName {
            throw CLIError("\(destination): the name says \(byName.rawValue) but --format is \(format.rawValue)")
        }
        switch format ?? byName ?? .png {
        case .png: return .png
        case .jpeg: return .jpeg(quality: jpegQuality)
        }
    }
}

/// `--max-pixels`: the largest image read, checked from the header before decoding.
struct ImageLimitOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Refuse images with more pixels than this (checked before decoding).") var maxPixels: Int = ImageLimits.default.maxPixels

    func validate() throws {
        if maxPixels < 1 { throw ValidationError("--max-pixels must be at least 1") }
    }

    var limits: ImageLimits { ImageLimits(maxPixels: maxPixels) }
}

/// `--max-memory`: the memory coding may take, shared by the parallel jobs.
struct MemoryLimitOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Refuse images whose coding would need more memory than this, in MiB (default: 3/4 of this machine's).") var maxMemory: Int?

    func validate() throws {
        if let maxMemory, maxMemory < 1 { throw ValidationError("--max-memory must be at least 1 (MiB)") }
    }

    /// Bytes each of `workers` jobs may use.
    func perJob(_ workers: Int) -> Int { (maxMemory.map { $0 << 20 } ?? ImageCodec.defaultMemoryLimit) / workers }
}

/// `--metadata`: which of the input's ICC profile, EXIF and XMP the output keeps.
struct MetadataOptions: ParsableArguments {
    @Option(help: "Metadata to keep: all, none, or a comma-separated list of icc, exif, xmp. EXIF orientation is always applied to the pixels.")
    var metadata: MetadataSelection = .all

    /// `image` with the selection applied, and a note for an ICC profile the reader refused.
    func apply(to image: Image, name: String) -> Image {
        if let reason = image.source.droppedICCReason, metadata.contains(.icc) {
            Terminal.note("\(name): ICC profile not kept: \(reason)")
        }
        if let o = image.source.appliedOrientation { Terminal.detail("\(name): turned upright (EXIF orientation \(o))") }
        return metadata.apply(to: image)
    }
}
