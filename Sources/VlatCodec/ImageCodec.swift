import Foundation
import VlatFormat
import VlatImageIO
import VlatTensor

/// Compresses images into `.vlat` containers and back.
///
/// ```swift
/// let model = try CodecModel(bytes: FileReader.read("q4.vlatmodel"))
/// let container = try ImageCodec.encode(image, model: model)        // the smallest of the coders (defaultCoder)
/// let bytes = container.serialized()
/// let back = try ImageCodec.decode(Container.parse(bytes), model: model)
/// ```
///
/// Pipeline: 8-bit RGB (grey replicated) -> [0, 1] floats -> padded by edge replication to a
/// multiple of 16 -> analysis transform -> rounded to integers -> entropy-coded. A single-level
/// (factorized) model codes with rANS and its integer CDF tables, context-adaptive rANS, or
/// zstd planes (`CoderChoice`; `auto` keeps the smallest); a hyperprior model with its own coder
/// (coder 5: side information, then residuals under Gaussian tables the integer
/// hyper-synthesis picks). Decoding reverses it and crops, clamps and rounds. Alpha is kept
/// losslessly; the ICC profile, EXIF and XMP are carried (zstd); grey sources come back grey.
public enum ImageCodec {
    public static let paddingMultiple = 16

    /// Memory coding may use by default: three quarters of this machine's physical memory.
    public static var defaultMemoryLimit: Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && size > 0 ? pages / 4 * 3 * size : 4 << 30
    }

    /// Peak memory of coding a `width` x `height` image with `model`, in bytes (an upper
    /// estimate). The transforms run in bands of rows (`BandedTransforms`), so their float
    /// activations are bounded by the band, about `4 * BandedTransforms.bandBytes` with the
    /// column buffers, whatever the image (2N bytes a pixel for an image smaller than a band).
    /// What grows with the image is its 8-bit pixels and the latent-sized buffers (the latent,
    /// its symbols and, for a hyperprior, the hyper-synthesis' means and log-scales, the table
    /// indices and a transient gained copy; about 4.5 latents' worth at once): bounded by 8
    /// bytes a pixel plus 4 (factorized) or 10 (hyperprior) times the latent's 4M / 256 bytes a
    /// pixel, and for a hyperprior 3 more: a target-size search keeps the detail layer's base
    /// reconstruction (8-bit) beside the image (a plain encode streams it), and the layer's
    /// decoder one stripe of coefficients
    /// (`DetailLayer.stripeBytes`). `Scripts/evaluate_big_photos.sh` measures it
    /// (`Benchmarks/big-photos/`).
    ///
    /// `refining` (`LatentRefinement`) runs the synthesis transform whole-image in training
    /// mode, keeping its activations for the backward pass beside the backward's own buffers:
    /// 12N + 256 bytes per pixel. Measured: 4.82 GB for a 2000x2000 image at N = 96 (1205 bytes
    /// a pixel; this formula gives 5.7 GB). The latent-sized buffers (latents, Adam's moments,
    /// the noisy copy, the annealing's slopes: 4 bytes a latent each, M/64 bytes a pixel, 2 at
    /// M = 128) and the prior's caches are inside the constant; the measurement was without
    /// annealing, whose slope buffer adds 2 of the 203 bytes a pixel of margin.
    public static func requiredMemory(width: Int, height: Int, model: CodecModel, refining: Bool = false) -> Int {
        let pixels = padded(width) * padded(height)
        let n = max(model.network.config.channels, model.network.config.synthesisWidth), latentBytes = 4 * model.network.config.latentChannels / 256
        let perPixel = refining ? 12 * n + 256 + (model.hyperprior == nil ? 0 : 10 * latentBytes)
            : 8 + (model.hyperprior == nil ? 4 * max(1, latentBytes) : 3 + 10 * max(1, latentBytes))
        let (product, overflow) = pixels.multipliedReportingOverflow(by: perPixel)
        // A band is at most the whole image (two activations of N channels at half resolution,
        // 2N bytes a pixel), and at least `paddingMultiple` rows of it, however wide.
        let (whole, large) = pixels.multipliedReportingOverflow(by: 2 * n)
        let narrowest = paddingMultiple * padded(width) * 2 * n
        let bands = large ? max(4 * BandedTransforms.bandBytes, narrowest) : min(whole, max(4 * BandedTransforms.bandBytes, narrowest))
        return overflow ? Int.max : product + (64 << 20) + bands + DetailLayer.stripeBytes(width: width)
    }

    /// Throws `CodecError.needsMemory` when coding a `width` x `height` image with `model` would
    /// need more than `limit` bytes; callers run it on a file's declared size before decoding it.
    public static func checkMemory(width: Int, height: Int, model: CodecModel, limit: Int, refining: Bool = false) throws {
        let required = requiredMemory(width: width, height: height, model: model, refining: refining)
        if required > limit { throw CodecError.needsMemory(required: required, limit: limit) }
    }

    /// The coder choice when none is named: whichever of rANS, context-adaptive rANS and zstd
    /// codes this image's latents in fewer bytes (a hyperprior model: its own coder). None wins
    /// everywhere: the adaptive coders learn each image's statistics, the static prior knows the
    /// latents in advance (Benchmarks/kodak-codec).
    public static let defaultCoder: CoderChoice = .auto

    /// Images whose coding would need more than `memoryLimit` bytes are refused before any
    /// large allocation (`CodecError.needsMemory`).
    /// `refinement` (steps > 0) spends more time on the encode for a smaller rate-distortion
    /// loss (`LatentRefinement`); the file decodes the same way either way.
    public static func encode(_ image: Image, model: CodecModel, coder: CoderChoice = defaultCoder,
                              refinement: LatentRefinement? = nil, memoryLimit: Int = defaultMemoryLimit) throws -> Container {
        try encodeKeepingLatent(image, model: model, coder: coder, refinement: refinement, memoryLimit: memoryLimit).container
    }

    /// `encode`, also returning the rounded latent it coded (for rate estimates without running
    /// the analysis transform twice).
    public static func encodeKeepingLatent(_ image: Image, model: CodecModel, coder: CoderChoice = defaultCoder,
                                           refinement: LatentRefinement? = nil,
                                           memoryLimit: Int = defaultMemoryLimit) throws -> (container: Container, latent: Tensor) {
        // The header stores latent sizes as u16 and the image as at most 2^20 per side.
        let limits = ContainerLimits.default
        guard image.width <= limits.maxSide, image.height <= limits.maxSide,
              padded(image.width) / paddingMultiple <= Int(UInt16.max), padded(image.height) / paddingMultiple <= Int(UInt16.max) else {
            throw CodecError.tooLarge(width: image.width, height: image.height)
        }
        let refining = (refinement?.steps ?? 0) > 0
        try checkMemory(width: image.width, height: image.height, model: model, limit: memoryLimit, refining: refining)
        if let hyper = model.hyperprior {
            return try encodeHyperprior(image, model: model, hyper: hyper, coder: coder, refinement: refining ? refinement : nil)
        }
        let latent: Tensor
        if let refinement, refining {
            let lambda = try LatentRefinement.lambda(of: model)
            let x = paddedTensor(image)
            latent = refinement.refine(model.network.analysis.forward(x, training: false), image: x, height: image.height,
                                       width: image.width, network: model.network, lambda: lambda)
        } else {
            latent = try latents(of: image, model: model)
        }
        let (c, h, w) = (latent.c, latent.h, latent.w)
        let symbols = try symbols(of: latent)
        let coders = FactorizedLatentCoder.coders(for: coder, model: model)
        guard !coders.isEmpty else { throw CodecError.wrongCoder("--coder hyperprior needs a hyperprior model") }
        let candidates = try coders.map { (try $0.encode(symbols, channels: c, height: h, width: w), $0.header) }
        let (payload, used) = candidates.min { $0.0.count < $1.0.count }!  // the first of equals
        let header = ContainerHeader(
            width: image.width, height: image.height, sourceColorType: image.source.colorType.rawValue,
            sourceBitDepth: UInt8(image.source.bitDepth), quality: model.quality, coder: used,
            paddingMultiple: paddingMultiple, latentChannels: c, latentHeight: h, latentWidth: w, modelDigest: model.digest)
        return (container(header: header, image: image, payload: payload), latent)
    }

    /// A hyperprior model's encode: its own coder, at the model's quality.
    static func encodeHyperprior(_ image: Image, model: CodecModel, hyper: HyperpriorCodecModel, coder: CoderChoice,
                                 refinement: LatentRefinement?) throws -> (container: Container, latent: Tensor) {
        guard coder == .auto || coder == .hyperprior else {
            throw CodecError.wrongCoder("a hyperprior model codes with its own coder (--coder auto or hyperprior), not \(coder); \(coder) needs a factorized model (--model)")
        }
        let code = hyper.levelCode(model.hyperpriorLevel - 1)
        let y = StageTimes.measure("analysis") { hyper.analysis(image, levelCode: code) }
        var refine: HyperpriorCoding.Refine?
        if let refinement {
            let lambda = try LatentRefinement.lambda(of: model)
            let x = paddedTensor(image)
            refine = HyperpriorCoding.Refine { gained, gains, conditionsMove, conditions in
                try refinement.refineHyperprior(gained, gains: gains, conditionsMove: conditionsMove, conditions: conditions,
                                                image: x, height: image.height, width: image.width, synthesis: hyper.network.synthesis,
                                                lambda: lambda)
            }
        }
        // The refinement judges itself by the rate its Gaussians estimate; with a context, whose
        // conditions it held fixed within each step, only the real files tell for certain
        // whether it paid: keep the plain encode unless the refined one's loss is lower.
        // (Otherwise the latent is handed over, so that the coder dequantizes into its storage.)
        guard refine != nil, hyper.context != nil else {
            return try withDetail(hyperpriorContainer(image, y: consume y, model: model, hyper: hyper, levelCode: code, refine: refine),
                                  image: image, model: model, levelCode: code)
        }
        let coded = try hyperpriorContainer(image, y: y, model: model, hyper: hyper, levelCode: code, refine: refine)
        let plain = try hyperpriorContainer(image, y: consume y, model: model, hyper: hyper, levelCode: code)
        let lambda = Double(try LatentRefinement.lambda(of: model))
        func loss(_ c: (container: Container, latent: Tensor)) -> Double {
            hyper.network.setLevels([Double(code) / 256])
            let out = hyper.network.synthesis.forward(c.latent, training: false)
            let rgb = image.rgbSamples(), n = image.pixelCount, plane = out.h * out.w
            var se = 0.0
            for i in 0..<n {
                let (row, column) = (i / image.width, i % image.width)
                for k in 0..<3 {
                    let v = Double(PixelScale.sample(out.data[k * plane + row * out.w + column]))
                    se += (v - Double(rgb[3 * i + k])) * (v - Double(rgb[3 * i + k]))
                }
            }
            return lambda * se / Double(3 * n) + Double(c.container.serialized().count * 8) / Double(n)
        }
        return try withDetail(loss(coded) < loss(plain) ? coded : plain, image: image, model: model, levelCode: code)
    }

    /// `coded` with the detail layer of `model`'s quality (`QualitySchedule`) added, if it has one.
    static func withDetail(_ coded: (container: Container, latent: Tensor), image: Image, model: CodecModel,
                           levelCode: Int) throws -> (container: Container, latent: Tensor) {
        guard let step = model.detailStep else { return coded }
        return (try DetailEncoder.coded(image, container: coded.container, latent: coded.latent, model: model, levelCode: levelCode,
                                        step: step, quality: model.quality), coded.latent)
    }

    static func hyperpriorContainer(_ image: Image, y: consuming Tensor, model: CodecModel, hyper: HyperpriorCodecModel, levelCode: Int,
                                    refine: HyperpriorCoding.Refine? = nil) throws -> (container: Container, latent: Tensor) {
        let (payload, latent) = try HyperpriorCoding.encode(consume y, model: hyper, levelCode: levelCode, refine: refine)
        let isWhole = levelCode % 256 == 0 && levelCode / 256 < Int(QualitySchedule.top)
        let header = ContainerHeader(
            width: image.width, height: image.height, sourceColorType: image.source.colorType.rawValue,
            sourceBitDepth: UInt8(image.source.bitDepth), quality: isWhole ? UInt8(levelCode / 256 + 1) : 0,
            coder: hyper.coder,
            paddingMultiple: paddingMultiple, latentChannels: latent.c, latentHeight: latent.h, latentWidth: latent.w, modelDigest: model.digest)
        return (container(header: header, image: image, payload: payload), latent)
    }

    /// A hyperprior model's encode at the highest quality whose whole file stays at or under
    /// `bitsPerPixel` (the quality, 1...8 as `QualitySchedule` maps it, is searched in steps of
    /// 1/256; the analysis transform runs once per level, the base of the detail layer is
    /// synthesized once per level). Returns the file, its quality, and whether it fits: when even
    /// the lowest quality is over the target, that file is returned with `fits` false.
    public static func encode(_ image: Image, model: CodecModel, underBitsPerPixel target: Double,
                              memoryLimit: Int = defaultMemoryLimit) throws -> (container: Container, quality: Double, fits: Bool) {
        guard let hyper = model.hyperprior else { throw CodecError.wrongCoder("a target size needs a hyperprior model (or a choice of levels)") }
        try checkMemory(width: image.width, height: image.height, model: model, limit: memoryLimit)
        let schedule = QualitySchedule(levels: hyper.levels)
        // Without modulations the analysis does not depend on the level: run it once.
        let shared = hyper.network.modulations.isEmpty ? hyper.analysis(image, levelCode: 0) : nil
        let budget = target * Double(image.pixelCount) / 8
        var layers: (code: Int, encoder: DetailEncoder)?
        func attempt(_ k: Int) throws -> Container {
            let q = 1 + Double(k) / 256
            let (level, step) = schedule.point(q)
            let code = hyper.levelCode(level - 1)
            let coded = { try hyperpriorContainer(image, y: shared ?? hyper.analysis(image, levelCode: code), model: model, hyper: hyper, levelCode: code) }
            guard let step else { return try coded().container }
            if layers?.code != code {
                layers = nil  // one base at a time
                let c = try coded()
                layers = (code, try DetailEncoder(image: image, container: c.container, latent: c.latent, model: model, levelCode: code))
            }
            return try layers!.encoder.container(step: step, quality: k % 256 == 0 ? UInt8(q) : 0)
        }
        var lo = 0, hi = Int(QualitySchedule.top - 1) * 256
        let lowest = try attempt(lo)
        guard Double(lowest.serialized().count) <= budget else { return (lowest, 1, false) }
        var best = (lowest, lo)
        // The rate grows with the quality; bisect for the last one that fits.
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            let c = try attempt(mid)
            if Double(c.serialized().count) <= budget { best = (c, mid); lo = mid } else { hi = mid - 1 }
        }
        return (best.0, 1 + Double(best.1) / 256, true)
    }

    /// A rounded latent as the integers the coders take. A broken model can produce NaN or
    /// huge latents; refuse rather than trap.
    static func symbols(of latent: Tensor) throws -> [Int32] {
        try latent.data.map { v -> Int32 in
            guard let s = Int32(exactly: v) else { throw CodecError.notACodecModel("the model produced a non-finite or out-of-range latent (\(v))") }
            return s
        }
    }

    /// The rounded latent of an image: `[1, M, ceil(H/16), ceil(W/16)]`, integer-valued floats.
    public static func latents(of image: Image, model: CodecModel) throws -> Tensor {
        let net = model.network
        guard net.config.objective == .rd else { return net.latent(paddedTensor(image)) }
        var y = BandedTransforms.analyze(image, with: net.analysis, channels: net.config.channels)
        for i in 0..<y.count { y.data[i] = y.data[i].rounded() }
        return y
    }

    /// The image as a [1, 3, H, W] tensor in [0, 1], padded by edge replication to multiples of 16.
    static func paddedTensor(_ image: Image) -> Tensor {
        TensorOps.padReplicate(ImageTensor.tensor(from: image), toHeight: padded(image.height), width: padded(image.width))
    }

    public static func decode(_ container: Container, model: CodecModel, memoryLimit: Int = defaultMemoryLimit) throws -> Image {
        let h = container.header
        guard h.modelDigest == model.digest else {
            throw CodecError.wrongModel(fileDigest: SHA256.hex(h.modelDigest), modelDigest: SHA256.hex(model.digest))
        }
        guard h.latentChannels == model.network.config.latentChannels, h.downsampling == paddingMultiple else {
            throw CodecError.corruptPayload("latent shape \(h.latentChannels)x\(h.latentHeight)x\(h.latentWidth) does not fit the model")
        }
        try checkMemory(width: h.width, height: h.height, model: model, limit: memoryLimit)
        guard h.coder.isHyperprior == (model.hyperprior != nil), model.hyperprior.map({ $0.coder == h.coder }) ?? true else {
            throw CodecError.corruptPayload("coder \(h.coder) does not fit the model's kind")
        }
        let latent: Tensor
        if let hyper = model.hyperprior {
            latent = try HyperpriorCoding.decode(container.payload, model: hyper, height: h.latentHeight, width: h.latentWidth)
            hyper.network.setLevels([Double(try HyperpriorCoding.levelCode(container.payload)) / 256])
        } else {
        guard let coder = FactorizedLatentCoder.coder(for: h.coder, model: model) else {
            throw CodecError.corruptPayload(h.coder == .ctxFitted ? "the file's coder needs fitted context tables that the model does not have"
                                                                 : "coder \(h.coder) does not fit the model's kind")
        }
        let symbols: [Int32]
        do { symbols = try coder.decode(container.payload, channels: h.latentChannels, height: h.latentHeight, width: h.latentWidth) } catch {
            throw (error as? CodecError) ?? CodecError.corruptPayload("\(error)")
        }
        latent = Tensor(shape: [1, h.latentChannels, h.latentHeight, h.latentWidth], data: symbols.map { Float($0) })
        }
        let synthesis = model.hyperprior?.network.synthesis ?? model.network.synthesis
        let n = h.width * h.height
        let grey = decodesGrey(h)
        var rgb = StageTimes.measure("synthesis") {
            BandedTransforms.synthesize(latent, with: synthesis, channels: model.network.config.synthesisWidth,
                                        width: h.width, height: h.height, grey: grey)
        }
        if let detail = container.detail {
            try StageTimes.measure("detail layer") { try DetailLayer.apply(detail, to: &rgb, width: h.width, height: h.height, grey: grey) }
        }
        var alpha: [UInt8]?
        if let plane = container.alpha {
            do { alpha = try Zstd.decompress(plane.data, expectedSize: n) } catch {
                throw CodecError.corruptPayload("alpha plane: \(error)")
            }
        }
        let layout: PixelLayout = grey ? (alpha == nil ? .grey : .greyAlpha) : (alpha == nil ? .rgb : .rgba)
        var image = Image.assemble(width: h.width, height: h.height, rgb: rgb, alpha: alpha, layout: layout)
        (image.iccProfile, image.exif, image.xmp) = try metadata(of: container)
        return image
    }

    /// The file for `payload`: the header, and the image's alpha plane, ICC profile, EXIF and
    /// XMP, each compressed with zstd.
    static func container(header: ContainerHeader, image: Image, payload: [UInt8]) -> Container {
        func compressed(_ bytes: [UInt8]?) -> Container.CompressedBlob? {
            bytes.map { Container.CompressedBlob(method: 0, size: $0.count, data: Zstd.compress($0, level: 19)) }
        }
        let alpha = image.alphaPlane().map { Container.AlphaPlane(method: 0, data: Zstd.compress($0, level: 19)) }
        return Container(header: header, compressedICC: compressed(image.iccProfile), exif: compressed(image.exif),
                         xmp: compressed(image.xmp), alpha: alpha, payload: payload)
    }

    /// The metadata of `container`, decompressed: ICC profile (raw `iccp` or `iccz`), EXIF, XMP.
    public static func metadata(of container: Container) throws -> (icc: [UInt8]?, exif: [UInt8]?, xmp: [UInt8]?) {
        func expand(_ blob: Container.CompressedBlob?, _ name: String) throws -> [UInt8]? {
            guard let blob else { return nil }
            do { return try Zstd.decompress(blob.data, expectedSize: blob.size) } catch {
                throw CodecError.corruptPayload("\(name): \(error)")
            }
        }
        return (try container.iccProfile ?? expand(container.compressedICC, "ICC profile"),
                try expand(container.exif, "EXIF"), try expand(container.xmp, "XMP"))
    }

    /// Whether a file decodes to grey (its source was grey): the synthesis' output and the
    /// detail layer's planes follow it, in the encoder as in the decoder.
    static func decodesGrey(_ header: ContainerHeader) -> Bool {
        let source = ImageSource.ColorType(rawValue: header.sourceColorType) ?? .rgb
        return source == .grey || source == .greyAlpha
    }

    static func padded(_ side: Int) -> Int { (side + paddingMultiple - 1) / paddingMultiple * paddingMultiple }

}
