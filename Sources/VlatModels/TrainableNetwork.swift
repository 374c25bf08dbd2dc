import VlatFormat
import VlatTensor

/// A network the trainer optimises and saves: its parameters, free-form metadata and its file.
public protocol TrainableNetwork: AnyObject {
    var parameters: [Parameter] { get }
    var metadata: [String: String] { get set }
    func modelFile(extra: [ModelFile.Entry], trainer: String?, storage: ModelFile.Storage) -> ModelFile
}

extension Autoencoder: TrainableNetwork {}
