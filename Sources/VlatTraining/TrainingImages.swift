import Dispatch
import Foundation
import VlatImageIO
import VlatTensor

/// An RGB image held in memory for cropping: 8-bit, interleaved.
public struct RGBImage: Sendable {
    public var name: String
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]
}

/// Why a folder cannot be trained on.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    case noSuchFolder(String)
    case noImages(String)
    case tooFewImages(String, Int)
    case incompatibleCheckpoint(String)
    case invalidOption(String)

    public var description: String {
        switch self {
        case .noSuchFolder(let p): return "\(p): no such folder"
        case .noImages(let p): return "\(p): no readable PNG or JPEG images"
        case .tooFewImages(let p, let n): return "\(p): \(n) readable image(s); training needs at least 2 (one is held out for validation)"
        case .incompatibleCheckpoint(let s): return s
        case .invalidOption(let s): return s
        }
    }
}

/// A folder of images decoded once into memory and split into training and validation sets.
///
/// The split is fixed: file names are sorted, shuffled with a constant seed, and the first
/// `validationCount` are held out. Unreadable files are skipped and reported, not fatal.
public struct TrainingImages: Sendable {
    public var train: [RGBImage]
    public var validation: [RGBImage]
    /// (file, reason) for every file that could not be decoded.
    public var skipped: [(String, String)]

    /// The seed of the validation split: part of the definition, so that runs compare.
    public static let splitSeed: UInt64 = 0x5EED_0F_DA7A

    public static func load(folder: String, validationFraction: Double = 0.05, limits: ImageLimits = .default) throws -> TrainingImages {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingError.noSuchFolder(folder)
        }
        let names = (try FileManager.default.contentsOfDirectory(atPath: folder)).filter {
            ["png", "jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased())
        }.sorted()
        guard !names.isEmpty else { throw TrainingError.noImages(folder) }
        // Decode on all cores; results land in their own slots, so order is fixed.
        final class Slots: @unchecked Sendable { var items: [Result<RGBImage, Error>?] ; init(_ n: Int) { items = Array(repeating: nil, count: n) } }
        let slots = Slots(names.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: names.count) { i in
            let result = Result { () throws -> RGBImage in
                let image = try ImageFile.read("\(folder)/\(names[i])", limits: limits)
                return RGBImage(name: names[i], width: image.width, height: image.height, pixels: image.rgbSamples())
            }
            lock.lock(); slots.items[i] = result; lock.unlock()
        }
        var images: [RGBImage] = []
        var skipped: [(String, String)] = []
        for (i, slot) in slots.items.enumerated() {
            switch slot! {
            case .success(let image): images.append(image)
            case .failure(let error): skipped.append((names[i], "\(error)"))
            }
        }
        guard !images.isEmpty else { throw TrainingError.noImages(folder) }
        guard images.count >= 2 else { throw TrainingError.tooFewImages(folder, images.count) }
        var g = SeededGenerator(seed: splitSeed)
        images.shuffle(using: &g)
        let held = min(images.count - 1, max(1, Int((Double(images.count) * validationFraction).rounded())))
        return TrainingImages(train: Array(images[held...]).sorted { $0.name < $1.name },
                              validation: Array(images[..<held]).sorted { $0.name < $1.name }, skipped: skipped)
    }

    /// Several folders, each split on its own as `load(folder:)` splits it (so every folder
    /// gives validation images, and a folder's split does not depend on the others). Training
    /// images are joined in the order given; validation images are interleaved one from each
    /// folder in turn, so that a run validating on the first few sees every folder. Image names
    /// are prefixed by their folder's last component.
    public static func load(folders: [String], validationFraction: Double = 0.05, limits: ImageLimits = .default) throws -> TrainingImages {
        if folders.count == 1 { return try load(folder: folders[0], validationFraction: validationFraction, limits: limits) }
        var all = TrainingImages(train: [], validation: [], skipped: [])
        var held: [[RGBImage]] = []
        for folder in folders {
            let part = try load(folder: folder, validationFraction: validationFraction, limits: limits)
            let prefix = (folder as NSString).lastPathComponent + "/"
            func named(_ images: [RGBImage]) -> [RGBImage] { images.map { var i = $0; i.name = prefix + i.name; return i } }
            all.train += named(part.train)
            held.append(named(part.validation))
            all.skipped += part.skipped.map { (prefix + $0.0, $0.1) }
        }
        for k in 0..<(held.map(\.count).max() ?? 0) {
            for part in held where k < part.count { all.validation.append(part[k]) }
        }
        return all
    }
}
