import VlatFormat
import VlatImageIO
import VlatTensor

/// The detail layer's encoder for one image over one coded base: the base reconstruction is
/// synthesized once, as the decoder will, so that several steps can be tried (a target size,
/// or `CodecBench detail`).
///
/// ```swift
/// let layers = try DetailEncoder(image, model: model, level: 5)     // a hyperprior model
/// let file = try layers.container(step: 16).serialized()
/// ```
public struct DetailEncoder {
    /// The file without a detail layer.
    public let base: Container
    /// The image's samples and the base's reconstruction: interleaved RGB, grey replicated.
    public let original: [UInt8], reconstruction: [UInt8]
    let width: Int, height: Int, grey: Bool

    /// Codes `image` with hyperprior `model` at model level `level` (1-based, fractional values
    /// interpolate) as the base.
    public init(_ image: Image, model: CodecModel, level: Double) throws {
        guard let hyper = model.hyperprior else { throw CodecError.wrongCoder("the detail layer's encoder takes a hyperprior model") }
        guard level >= 1, level <= Double(hyper.levels) else { throw CodecError.notACodecModel("level \(level) is outside 1...\(hyper.levels)") }
        let code = hyper.levelCode(level - 1)
        let coded = try ImageCodec.hyperpriorContainer(image, y: hyper.analysis(image, levelCode: code), model: model, hyper: hyper, levelCode: code)
        try self.init(image: image, container: coded.container, latent: coded.latent, model: model, levelCode: code)
    }

    /// `latent` is the coded latent `base` decodes to (what the hyperprior coder returns), at
    /// level code `levelCode`.
    init(image: Image, container: Container, latent: Tensor, model: CodecModel, levelCode: Int) throws {
        base = container
        let h = container.header
        let source = ImageSource.ColorType(rawValue: h.sourceColorType) ?? .rgb
        grey = source == .grey || source == .greyAlpha
        let (width, height, grey) = (h.width, h.height, grey)
        (self.width, self.height) = (width, height)
        model.hyperprior?.network.setLevels([Double(levelCode) / 256])
        let synthesis = model.hyperprior?.network.synthesis ?? model.network.synthesis
        reconstruction = StageTimes.measure("detail base") {
            BandedTransforms.synthesize(latent, with: synthesis, channels: model.network.config.synthesisWidth,
                                        width: width, height: height, grey: grey)
        }
        original = image.rgbSamples()
    }

    /// The base file with a detail layer of step `step` (sample levels), its header's quality
    /// byte `quality` (nil: the base's).
    public func container(step: Double, quality: UInt8? = nil, rounding: Double = DetailLayer.defaultRounding) throws -> Container {
        var c = base
        c.detail = try StageTimes.measure("detail layer") {
            try DetailLayer.encode(original: original, base: reconstruction, width: width, height: height, grey: grey, step: step,
                                   rounding: rounding)
        }
        if let quality { c.header.quality = quality }
        return c
    }
}
