import Foundation
import VlatFiles
import VlatFormat
import VlatModels

/// Finds codec models on disk by quality level or by digest, so a receiver can decode a `.vlat`
/// file with the model that made it without being told where it is.
///
/// Folders are searched in order: those given explicitly (`--model-dir`), those in the
/// `VLAT_MODELS` environment variable (colon-separated), then `shippedFolder` (the installed
/// models). A quality is
/// served by the first model in that order that has it: `hyperprior.vlatmodel` (a
/// variable-rate model: every quality 1...8, fractional ones too) or `q<N>.vlatmodel` (one
/// level, N = 1...8). Any `*.vlatmodel` is found by digest.
public struct ModelRegistry: Sendable {
    public struct Entry: Sendable, Equatable {
        public var path: String
        public var digest: [UInt8]
        /// 1...8 for `q<N>.vlatmodel`, 0 otherwise.
        public var quality: UInt8
        /// `hyperprior.vlatmodel`: one model for every quality.
        public var variableRate: Bool
    }

    /// The file name of a variable-rate model.
    public static let variableRateName = "hyperprior.vlatmodel"
    /// The qualities a variable-rate model serves by name.
    public static let variableRateQualities: [UInt8] = Array(1...8)

    public var folders: [String]
    public private(set) var entries: [Entry] = []

    /// The models that ship with vlat, found from where the running executable is:
    /// `PREFIX/share/vlat/models` for an executable installed in `PREFIX/bin`
    /// (`Scripts/install.sh`), else this module's `Models` resource in the SwiftPM build folder
    /// beside the executable. Nothing else is consulted (in particular not the folder the
    /// package was built in), so a copied binary without its models says where it looked
    /// instead of using whatever build happens to be on the machine.
    public static var shippedFolder: String { shippedFolder(executable: executableURL) }

    /// `shippedFolder` for an executable at `executable` (the first candidate that exists,
    /// else the install location, so that errors name it).
    public static func shippedFolder(executable: URL) -> String {
        let dir = executable.deletingLastPathComponent()
        let installed = dir.deletingLastPathComponent().appendingPathComponent("share/vlat/models").standardizedFileURL.path
        let built = dir.appendingPathComponent("vlat_VlatCodec.resources/Models").path
        var isDirectory: ObjCBool = false
        for candidate in [installed, built] where FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory) && isDirectory.boolValue {
            return candidate
        }
        return installed
    }

    /// The running executable, symbolic links resolved (a link on the PATH to an installed
    /// copy finds that copy's models).
    static var executableURL: URL {
        (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).resolvingSymlinksInPath()
    }

    /// The level `vlat compress` uses when given none.
    public static let defaultQuality: UInt8 = 4

    /// `includeShipped: false` leaves out the package's own models (for tests).
    public init(folders: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
                includeShipped: Bool = true) {
        let fromEnvironment = (environment["VLAT_MODELS"] ?? "").split(separator: ":").map(String.init)
        self.folders = folders + fromEnvironment + (includeShipped ? [Self.shippedFolder] : [])
        for folder in self.folders {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".vlatmodel") }.sorted()
            for name in names {
                let path = "\(folder)/\(name)"
                // The digest is the file's last 32 bytes: no need to read the whole model.
                guard let handle = FileHandle(forReadingAtPath: path) else { continue }
                defer { try? handle.close() }
                guard let size = try? handle.seekToEnd(), size > 32 else { continue }
                try? handle.seek(toOffset: size - 32)
                guard let digest = try? handle.read(upToCount: 32), digest.count == 32 else { continue }
                var quality: UInt8 = 0
                if name.hasPrefix("q"), let n = UInt8(name.dropFirst().dropLast(".vlatmodel".count)), (1...8).contains(n) { quality = n }
                entries.append(Entry(path: path, digest: Array(digest), quality: quality, variableRate: name == Self.variableRateName))
            }
        }
    }

    /// The quality levels installed, ascending.
    public var qualities: [UInt8] {
        Set(entries.map(\.quality).filter { $0 > 0 } + (entries.contains { $0.variableRate } ? Self.variableRateQualities : [])).sorted()
    }

    /// The first model in search order that serves quality `q` (fractional qualities: a
    /// variable-rate model only).
    public func entry(quality q: Double) throws -> Entry {
        let whole = q == q.rounded() ? UInt8(exactly: q) : nil
        guard let entry = entries.first(where: { $0.variableRate || (whole != nil && $0.quality == whole) }) else {
            throw RegistryError.noQuality(q, searched: folders)
        }
        return entry
    }

    /// The model for quality `q`: the first in search order that serves it, set to it.
    public func model(quality q: Double) throws -> CodecModel {
        try Self.load(entry(quality: q), quality: q)
    }

    /// `entry`'s model at quality `q` (a single-level model is its own quality).
    public static func load(_ entry: Entry, quality q: Double) throws -> CodecModel {
        let model = try CodecModel(bytes: FileReader.read(entry.path), quality: entry.quality)
        return entry.variableRate ? try model.atQuality(q) : model
    }

    /// The name of the shipped denoising model.
    public static let denoiserName = "denoise.vlatmodel"

    /// The first `denoise.vlatmodel` in search order.
    public func denoiser() throws -> Denoiser {
        guard let path = folders.map({ "\($0)/\(Self.denoiserName)" }).first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw RegistryError.noDenoiser(searched: folders)
        }
        do { return try Denoiser(modelFile: ModelFile.parse(FileReader.read(path))) } catch {
            throw RegistryError.unusable(path: path, reason: "\(error)")
        }
    }

    /// The model with `digest`, verified by loading it (its whole-file SHA-256 is checked).
    public func model(digest: [UInt8]) throws -> CodecModel {
        guard let entry = entries.first(where: { $0.digest == digest }) else {
            throw RegistryError.noDigest(SHA256.hex(digest), searched: folders)
        }
        return try CodecModel(bytes: FileReader.read(entry.path), quality: entry.quality)
    }
}

/// Why no model was found.
public enum RegistryError: Error, Equatable, CustomStringConvertible {
    case noQuality(Double, searched: [String])
    case noDigest(String, searched: [String])
    case noDenoiser(searched: [String])
    case unusable(path: String, reason: String)

    public var description: String {
        switch self {
        case .noQuality(let q, let folders):
            let n = q == q.rounded() ? "\(Int(q))" : "\(q)"
            let names = q == q.rounded() ? "\(ModelRegistry.variableRateName) or q\(n).vlatmodel" : ModelRegistry.variableRateName
            return "no model for quality \(n) (looked for \(names) in \(folders.joined(separator: ", "))); give one with --model"
        case .noDigest(let digest, let folders):
            return "this file needs model sha256:\(digest), which is not installed (searched \(folders.joined(separator: ", "))); give it with --model or --model-dir"
        case .noDenoiser(let folders):
            return "no denoising model installed (looked for \(ModelRegistry.denoiserName) in \(folders.joined(separator: ", "))); give one with --model, or train one with vlat train --objective denoise"
        case .unusable(let path, let reason):
            return "\(path): \(reason)"
        }
    }
}
