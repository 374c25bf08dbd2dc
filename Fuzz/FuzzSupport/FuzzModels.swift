import VlatCodec
import VlatImageIO
import VlatModels
import VlatTensor

/// Small untrained models and images, made the same way in every run, for the targets that
/// decode `.vlat` files and load model files. Seeds made with them carry their digests, so
/// mutations of those seeds reach the entropy decoders instead of stopping at the digest check.
public enum FuzzModels {
    /// A factorized-prior model (coders rans, ctx, zstd).
    public static let factorizedBytes: [UInt8] = {
        let network = Autoencoder(config: AutoencoderConfig(objective: .rd, channels: 8, latentChannels: 6), seed: 11)
        return try! CodecModel.export(network).serialized()
    }()

    /// A variable-rate hyperprior (coder 5), calibrated on `images`.
    public static let hyperpriorBytes: [UInt8] = hyperprior(context: false)
    /// The same with a checkerboard context (coder 6), as a compressed model file (version 4).
    public static let hyperpriorContextBytes: [UInt8] = hyperprior(context: true)

    static func hyperprior(context: Bool) -> [UInt8] {
        let net = MeanScaleHyperprior(config: HyperpriorConfig(channels: 8, latentChannels: 6, hyperChannels: 4,
                                                               lambdas: [0.003, 0.03, 0.3], levelModulation: true,
                                                               contextChannels: context ? 5 : nil), seed: 21)
        // Larger gains than an untrained model has, for a spread of symbols, scales and escapes.
        for l in 0..<3 { for c in 0..<6 { net.gains.value.data[l * 6 + c] = Float(2 + 2 * l + c % 2) / MeanScaleHyperprior.gainScale } }
        // A context that corrects (its output layer starts at zero).
        var g = SeededGenerator(seed: 5)
        for p in net.context?.head.layers[3].parameters ?? [] { for i in 0..<p.value.count { p.value.data[i] = (g.uniform() - 0.5) * 0.5 } }
        return try! HyperpriorCodecModel.export(net, calibration: images).serialized(compressionLevel: context ? 19 : nil)
    }

    /// Fuzz targets run one input at a time on one thread.
    nonisolated(unsafe) public static let factorized = try! CodecModel(bytes: factorizedBytes)
    nonisolated(unsafe) public static let hyperprior = try! CodecModel(bytes: hyperpriorBytes)
    nonisolated(unsafe) public static let hyperpriorContext = try! CodecModel(bytes: hyperpriorContextBytes)

    /// Small synthetic photos-to-be: smooth gradients with edges, in every layout, one with
    /// metadata.
    public static let images: [Image] = {
        func pixels(_ w: Int, _ h: Int, _ c: Int) -> [UInt8] {
            (0..<(w * h * c)).map { i in
                let p = i / c, x = p % w, y = p / w, k = i % c
                return UInt8((x * 5 + y * 3 + k * 70 + (x > w / 2 ? 90 : 0)) % 256)
            }
        }
        var tagged = Image(width: 40, height: 24, layout: .rgb, pixels: pixels(40, 24, 3))
        tagged.iccProfile = [UInt8](repeating: 3, count: 200)
        tagged.exif = [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
        tagged.xmp = Array("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>".utf8)
        return [
            Image(width: 33, height: 17, layout: .rgb, pixels: pixels(33, 17, 3)),
            Image(width: 16, height: 16, layout: .grey, pixels: pixels(16, 16, 1)),
            Image(width: 20, height: 12, layout: .rgba, pixels: pixels(20, 12, 4)),
            Image(width: 9, height: 30, layout: .greyAlpha, pixels: pixels(9, 30, 2)),
            tagged,
        ]
    }()
}
