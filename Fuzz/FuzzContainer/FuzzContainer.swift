import FuzzSupport
import VlatCodec
import VlatFormat

/// Fuzz target: the `.vlat` container parser, then the whole decode (entropy decoders of every
/// coder, alpha, metadata, synthesis) with the small models of `FuzzModels`, each input as
/// given and with its chunk CRCs repaired. Anything may be
/// refused; nothing may crash, and a file that parses must serialise back to a file that parses
/// to the same container.
@main
enum FuzzContainer {
    static func main() {
        FuzzDriver.main(fuzzContainer) {
            // Every coder, both model kinds, every layout, metadata.
            var seeds: [(String, [UInt8])] = []
            for (i, image) in FuzzModels.images.enumerated() {
                for coder in [CoderChoice.rans, .ctx, .zstd] {
                    if let c = try? ImageCodec.encode(image, model: FuzzModels.factorized, coder: coder) { seeds.append(("f\(i)-\(coder).vlat", c.serialized())) }
                }
                for quality in [1.0, 2.5] {
                    for (name, model) in [("h", FuzzModels.hyperprior), ("hc", FuzzModels.hyperpriorContext)] {
                        if let m = try? model.atQuality(quality), let c = try? ImageCodec.encode(image, model: m) {
                            seeds.append(("\(name)\(i)-\(quality).vlat", c.serialized()))
                        }
                    }
                }
            }
            return seeds
        }
    }
}

func fuzzContainer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // As given, and with the CRCs repaired, so that damage reaches the decoders too.
    decode(bytes)
    decode(Checksums.containerWithFixedCRCs(bytes))
    return 0
}

func decode(_ bytes: [UInt8]) {
    guard let container = try? Container.parse(bytes) else { return }
    // Unknown ancillary chunks are skipped on reading and not written again.
    var known = container
    known.skippedChunks = []
    precondition((try? Container.parse(container.serialized())) == known, "a parsed container does not survive serialisation")
    let model = switch container.header.coder {
    case .hyperprior: FuzzModels.hyperprior
    case .hyperpriorContext: FuzzModels.hyperpriorContext
    default: FuzzModels.factorized
    }
    if let image = try? ImageCodec.decode(container, model: model, memoryLimit: 256 << 20) {
        precondition(image.width == container.header.width && image.height == container.header.height)
    }
}
