import Foundation
import VlatFormat

/// What a model file holds, read from its architecture JSON's `kind`: the one place a file's
/// kind is decided.
///
/// ```swift
/// switch try NetworkKind(of: file) {
/// case .autoencoder: ...            // Autoencoder(modelFile: file)
/// case .denoiser: ...               // Denoiser(modelFile: file)
/// case .meanScaleHyperprior: ...    // MeanScaleHyperprior(modelFile: file)
/// }
/// ```
public enum NetworkKind: String, Sendable, CaseIterable {
    case autoencoder
    case denoiser
    case meanScaleHyperprior = "mean-scale-hyperprior"

    public init(of file: ModelFile) throws {
        struct Probe: Decodable { var kind: String }
        guard let probe = try? JSONDecoder().decode(Probe.self, from: Data(file.json.utf8)) else {
            throw ModelFileError.malformed("architecture JSON without a kind")
        }
        guard let kind = NetworkKind(rawValue: probe.kind) else {
            throw ModelFileError.incompatible("unknown model kind '\(probe.kind)' (a newer vlat may read it)")
        }
        self = kind
    }

    /// The network `file` holds, whatever its kind.
    public static func load(_ file: ModelFile) throws -> any TrainableNetwork {
        switch try NetworkKind(of: file) {
        case .autoencoder: return try Autoencoder(modelFile: file)
        case .denoiser: return try Denoiser(modelFile: file)
        case .meanScaleHyperprior: return try MeanScaleHyperprior(modelFile: file)
        }
    }

    /// A training checkpoint's trainer JSON, whatever its kind (nil for a plain model file).
    public static func trainerState(in file: ModelFile) -> String? {
        struct Probe: Decodable { var trainer: String? }
        return (try? JSONDecoder().decode(Probe.self, from: Data(file.json.utf8)))?.trainer
    }
}
