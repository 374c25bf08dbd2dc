import VlatFormat
import VlatImageIO
import VlatTensor

/// The detail layer's encoder for one image over one coded base: the base reconstruction is
/// synthesized once, as the decoder will, and kept, so that several steps can be tried (a
/// target size, or `CodecBench detail`). A plain encode at one step streams instead
/// (`coded(_:container:latent:model:levelCode:step:quality:)`), keeping no whole reconstruction.
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

    /// `latent` is the coded latent `container` decodes to (what the hyperprior coder returns),
    /// at level code `levelCode`.
    init(image: Image, container: Container, latent: Tensor, model: CodecModel, levelCode: Int) throws {
        base = container
        (width, height, grey) = Self.geometry(container)
        var rgb = [UInt8](repeating: 0, count: 3 * container.header.width * container.header.height)
        let rowBytes = 3 * container.header.width
        StageTimes.measure("synthesis") {
            Self.synthesizeBase(latent, container: container, model: model, levelCode: levelCode) { rows, pixels in
                rgb.replaceSubrange((rows.lowerBound * rowBytes)..<(rows.upperBound * rowBytes), with: pixels)
            }
        }
        reconstruction = rgb
        original = image.rgbSamples()
    }

    /// The base file with a detail layer of step `step` (sample levels), its header's quality
    /// byte `quality` (nil: the base's).
    public func container(step: Double, quality: UInt8? = nil, rounding: Double = DetailLayer.defaultRounding,
                          trim: Double = DetailLayer.defaultTrim) throws -> Container {
        var c = base
        c.detail = try StageTimes.measure("detail layer") {
            try DetailLayer.encode(original: original, base: reconstruction, width: width, height: height, grey: grey, step: step,
                                   rounding: rounding, trim: trim)
        }
        if let quality { c.header.quality = quality }
        return c
    }

    /// `container` with a detail layer of step `step`, coded stripe by stripe as the base's
    /// synthesis makes its rows.
    static func coded(_ image: Image, container: Container, latent: Tensor, model: CodecModel, levelCode: Int,
                      step: Double, quality: UInt8) throws -> Container {
        let (width, height, grey) = geometry(container)
        var encoder = DetailLayer.StreamEncoder(original: image.rgbSamples(), width: width, height: height, grey: grey, step: step)
        // The base's synthesis and the layer's coding interleave; each is timed on its own.
        try StageTimes.measure("synthesis") {
            try synthesizeBase(latent, container: container, model: model, levelCode: levelCode) { _, pixels in
                try StageTimes.measure("detail layer") { try encoder.append(pixels[...]) }
            }
        }
        var c = container
        c.detail = try encoder.finish()
        c.header.quality = quality
        return c
    }

    /// The image's size, and whether it decodes grey (as `ImageCodec.decode` decides).
    static func geometry(_ container: Container) -> (width: Int, height: Int, grey: Bool) {
        let h = container.header
        return (h.width, h.height, ImageCodec.decodesGrey(h))
    }

    /// The base's 8-bit reconstruction, band by band, as the decoder makes it.
    static func synthesizeBase(_ latent: Tensor, container: Container, model: CodecModel, levelCode: Int,
                               _ body: (_ rows: Range<Int>, _ pixels: [UInt8]) throws -> Void) rethrows {
        let (width, height, grey) = geometry(container)
        model.hyperprior?.network.setLevels([Double(levelCode) / 256])
        let synthesis = model.hyperprior?.network.synthesis ?? model.network.synthesis
        try BandedTransforms.synthesizeBands(latent, with: synthesis, channels: model.network.config.synthesisWidth,
                                             width: width, height: height, grey: grey, body)
    }
}
