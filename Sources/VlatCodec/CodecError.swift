/// Why an image could not be compressed or decompressed.
public enum CodecError: Error, Equatable, CustomStringConvertible {
    case notACodecModel(String)
    case missingTables
    case wrongModel(fileDigest: String, modelDigest: String)
    case corruptPayload(String)
    case tooLarge(width: Int, height: Int)
    case needsMemory(required: Int, limit: Int)
    /// Latent refinement needs the lambda a model was trained with, and this one does not record it.
    case noTrainingLambda
    /// The coder asked for does not go with the model's kind.
    case wrongCoder(String)

    public var description: String {
        switch self {
        case .notACodecModel(let s): return "not a codec model: \(s)"
        case .missingTables: return "the model file has no entropy tables (train with --objective rd; tables are written with the model)"
        case .wrongModel(let file, let model):
            return "encoded with model sha256:\(file), but the model given is sha256:\(model); decode with the model that encoded it"
        case .corruptPayload(let s): return "corrupt payload: \(s)"
        case .tooLarge(let w, let h): return "a \(w)x\(h) image is too large for a .vlat file (at most 65535 x 16 = 1048560 pixels per side)"
        case .needsMemory(let required, let limit):
            return "coding this image needs about \(required >> 20) MiB of memory, over the limit of \(limit >> 20) MiB (--max-memory; the default is 3/4 of this machine's memory)"
        case .wrongCoder(let s): return s
        case .noTrainingLambda:
            return "the model records no training lambda (its 'lambda' metadata), which --refine needs; encode without --refine"
        }
    }
}
