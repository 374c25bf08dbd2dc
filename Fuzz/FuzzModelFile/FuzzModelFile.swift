import FuzzSupport
import VlatCodec
import VlatFormat
import VlatModels

/// Fuzz target: the model-file loader (`ModelFile.parse`, every network kind, codec models with
/// their integer tables, integer hyper-synthesis and context; compressed files too), each input with its SHA-256 repaired.
/// Anything may be refused; nothing may crash.
@main
enum FuzzModelFile {
    static func main() {
        FuzzDriver.main(fuzzModelFile) {
            [("factorized.vlatmodel", FuzzModels.factorizedBytes), ("hyperprior.vlatmodel", FuzzModels.hyperpriorBytes),
             ("hyperprior-context.vlatmodel", FuzzModels.hyperpriorContextBytes)]
        }
    }
}

func fuzzModelFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    // With the digest repaired: a digest mismatch alone would stop nearly every mutation.
    let bytes = Checksums.modelWithFixedDigest(Array(UnsafeBufferPointer(start: data, count: size)))
    guard let file = try? ModelFile.parse(bytes) else { return 0 }
    _ = try? NetworkKind.load(file)
    _ = try? CodecModel(bytes: bytes)
    return 0
}
