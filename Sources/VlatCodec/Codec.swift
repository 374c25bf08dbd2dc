import VlatFiles
import VlatFormat
import VlatImageIO
import VlatModels

/// The common jobs in a few lines, with the installed models: compress an image or a file at a
/// quality or under a size, decompress `.vlat` bytes, denoise. Models are found as the command
/// line finds them (`ModelRegistry`) and loaded once.
///
/// ```swift
/// import Vlat
///
/// let codec = Codec()                                                // the installed models
/// let bytes = try codec.compress(file: "photo.jpg", quality: 6)     // a .vlat file's bytes
/// let small = try codec.compress(ImageFile.read("photo.png"), underBitsPerPixel: 0.5)
/// let image = try codec.decompress(bytes)                            // the model is found by digest
/// let clean = try codec.denoise(ImageFile.read("noisy.png"))
/// ```
///
/// One `Codec` is for one thread at a time (networks keep per-call scratch state); give each
/// thread its own.
public final class Codec {
    public let registry: ModelRegistry
    /// The entropy coder for single-level models (a hyperprior model uses its own).
    public var coder: CoderChoice = ImageCodec.defaultCoder
    /// Images whose coding would need more memory than this are refused before any large
    /// allocation.
    public var memoryLimit: Int = ImageCodec.defaultMemoryLimit
    private var byPath: [String: CodecModel] = [:]
    private var byDigest: [[UInt8]: CodecModel] = [:]
    private var loadedDenoiser: Denoiser?

    /// Models from `modelFolders` first, then `$VLAT_MODELS`, then the installed ones.
    public convenience init(modelFolders: [String] = []) {
        self.init(registry: ModelRegistry(folders: modelFolders))
    }

    /// Models from `registry`.
    public init(registry: ModelRegistry) {
        self.registry = registry
    }

    /// The model for `quality` (1...8; fractional with a variable-rate model).
    public func model(quality: Double) throws -> CodecModel {
        let entry = try registry.entry(quality: quality)
        let base: CodecModel
        if let m = byPath[entry.path] { base = m } else {
            base = try ModelRegistry.load(entry, quality: Double(entry.variableRate ? 1 : entry.quality))
            byPath[entry.path] = base
        }
        return base.hyperprior == nil ? base : try base.atQuality(quality)
    }

    /// `image` as `.vlat` bytes at `quality`.
    public func compress(_ image: Image, quality: Double = Double(ModelRegistry.defaultQuality),
                         refinement: LatentRefinement? = nil) throws -> [UInt8] {
        let model = try model(quality: quality)
        return try ImageCodec.encode(image, model: model, coder: model.hyperprior == nil ? coder : .auto,
                                     refinement: refinement, memoryLimit: memoryLimit).serialized()
    }

    /// The file at `path` (PNG or JPEG, turned upright, its metadata kept) as `.vlat` bytes.
    public func compress(file path: String, quality: Double = Double(ModelRegistry.defaultQuality)) throws -> [UInt8] {
        let model = try model(quality: quality)
        let limit = memoryLimit
        let image = try ImageFile.read(path) { width, height in
            try ImageCodec.checkMemory(width: width, height: height, model: model, limit: limit)
        }
        return try compress(image, quality: quality)
    }

    /// `image` as `.vlat` bytes of at most `target` bits per pixel, at the highest quality that
    /// fits; `fits` is false when even the lowest quality is over (its bytes are returned).
    public func compress(_ image: Image, underBitsPerPixel target: Double) throws -> (bytes: [UInt8], quality: Double, fits: Bool) {
        if let entry = try? registry.entry(quality: 1), entry.variableRate {
            let pick = try ImageCodec.encode(image, model: model(quality: 1), underBitsPerPixel: target, memoryLimit: memoryLimit)
            return (pick.container.serialized(), pick.quality, pick.fits)
        }
        let levels = registry.qualities
        guard !levels.isEmpty else { throw RegistryError.noQuality(1, searched: registry.folders) }
        let pick = try ImageCodec.encode(image, underBitsPerPixel: target, levels: levels, coder: coder, memoryLimit: memoryLimit) {
            try self.model(quality: Double($0))
        }
        return (pick.bytes, Double(pick.quality), pick.fits)
    }

    /// The installed model with `digest` (what a `.vlat` header names).
    public func model(digest: [UInt8]) throws -> CodecModel {
        if let m = byDigest[digest] { return m }
        let m = try registry.model(digest: digest)
        byDigest[digest] = m
        return m
    }

    /// The image in `.vlat` bytes, decoded with the installed model whose digest the file names.
    public func decompress(_ bytes: [UInt8]) throws -> Image {
        let container = try Container.parse(bytes)
        return try ImageCodec.decode(container, model: model(digest: container.header.modelDigest), memoryLimit: memoryLimit)
    }

    /// The installed denoising network, loaded once.
    public func denoiser() throws -> Denoiser {
        if loadedDenoiser == nil { loadedDenoiser = try registry.denoiser() }
        return loadedDenoiser!
    }

    /// `image` cleaned by the installed denoising network (`strength` 1: all of its correction).
    public func denoise(_ image: Image, strength: Float = 1) throws -> Image {
        ImageDenoiser.denoise(image, model: try denoiser(), strength: strength)
    }
}

extension ImageCodec {
    /// The highest of `levels` (single-level models, ascending) whose file is at most `target`
    /// bits per pixel, found by binary search (rate grows with the level), or the lowest level
    /// with `fits` false when none is. `model` loads a level's model.
    public static func encode(_ image: Image, underBitsPerPixel target: Double, levels: [UInt8], coder: CoderChoice = defaultCoder,
                              refinement: LatentRefinement? = nil, memoryLimit: Int = defaultMemoryLimit,
                              model: (UInt8) throws -> CodecModel) throws -> (bytes: [UInt8], quality: UInt8, fits: Bool) {
        var lo = 0, hi = levels.count - 1
        var best: (bytes: [UInt8], quality: UInt8)?
        var lowest: [UInt8] = []
        while lo <= hi {
            let mid = (lo + hi) / 2
            let bytes = try encode(image, model: model(levels[mid]), coder: coder, refinement: refinement,
                                   memoryLimit: memoryLimit).serialized()
            if mid == 0 { lowest = bytes }
            if Double(bytes.count * 8) / Double(image.pixelCount) <= target {
                best = (bytes, levels[mid])
                lo = mid + 1
            } else {
                hi = mid - 1
            }
        }
        if let best { return (best.bytes, best.quality, true) }
        // Nothing fitted: every probe went lower, so the last one was the lowest level.
        return (lowest, levels[0], false)
    }
}
