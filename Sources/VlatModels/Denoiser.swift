import Foundation
import VlatFormat
import VlatTensor

/// The shape of a denoising network: an encoder-decoder on 3x3 convolutions (a small U-Net).
///
/// Level 0 works at full resolution with `channels` channels; each further level halves the
/// resolution (3x3 stride-2 convolution) and doubles the channels, down to the bottleneck at
/// level `levels`. The decoder climbs back with 3x3 stride-2 transposed convolutions. With
/// `skips`, each decoder level adds the encoder's features of the same level (U-Net skips, by
/// addition); with `residual`, the network predicts the correction and the output is the input
/// plus it (residual learning, as DnCNN). Both can be switched off to measure what they bring.
public struct DenoiserConfig: Codable, Sendable, Equatable {
    public var channels: Int
    public var levels: Int
    /// 3x3 convolutions per level on each side (at least 1).
    public var blocks: Int
    public var skips: Bool
    public var residual: Bool

    public init(channels: Int = 32, levels: Int = 2, blocks: Int = 2, skips: Bool = true, residual: Bool = true) {
        self.channels = channels
        self.levels = levels
        self.blocks = blocks
        self.skips = skips
        self.residual = residual
    }

    /// Bounds a model file may declare (checked before anything is built).
    public static let maxChannels = 512, maxLevels = 4, maxBlocks = 8

    public var isValid: Bool {
        (1...Self.maxChannels).contains(channels) && (0...Self.maxLevels).contains(levels) && (1...Self.maxBlocks).contains(blocks)
            && channels << levels <= 4 * Self.maxChannels
    }

    /// Image sides are padded to a multiple of this.
    public var multiple: Int { 1 << levels }

    func width(_ level: Int) -> Int { channels << level }

    func conv(_ i: Int, _ o: Int, stride: Int = 1) -> LayerSpec {
        LayerSpec(kind: .conv, inChannels: i, outChannels: o, kernel: 3, stride: stride, padding: 1)
    }

    /// Encoder level `i`: (level > 0: stride-2 entry), then 3x3 convolutions, each with ReLU.
    func encoderSpecs(_ i: Int) -> [LayerSpec] {
        let c = width(i)
        var specs = [i == 0 ? conv(3, c) : conv(width(i - 1), c, stride: 2), LayerSpec(kind: .relu)]
        for _ in 1..<blocks { specs += [conv(c, c), LayerSpec(kind: .relu)] }
        return specs
    }

    /// Up-step from level `i + 1` to level `i`.
    func upSpecs(_ i: Int) -> [LayerSpec] {
        [LayerSpec(kind: .convTranspose, inChannels: width(i + 1), outChannels: width(i), kernel: 3, stride: 2, padding: 1, outputPadding: 1),
         LayerSpec(kind: .relu)]
    }

    /// Decoder level `i` after the up-step (and the skip).
    func decoderSpecs(_ i: Int) -> [LayerSpec] {
        let c = width(i)
        return (1..<blocks).flatMap { _ in [conv(c, c), LayerSpec(kind: .relu)] }
    }

    var headSpecs: [LayerSpec] { [conv(channels, 3)] }

    var allSpecs: [LayerSpec] {
        (0...levels).flatMap(encoderSpecs) + (0..<levels).flatMap { upSpecs($0) + decoderSpecs($0) } + headSpecs
    }

    /// Multiply-accumulates per image pixel for one forward pass.
    public var macsPerPixel: Double {
        var total = 0.0
        for level in 0...levels {
            let area = 1 / Double(1 << (2 * level))
            let convs = encoderSpecs(level) + (level < levels ? upSpecs(level) + decoderSpecs(level) : [])
            for s in convs where s.kind == .conv || s.kind == .convTranspose {
                // A transposed convolution's cost is counted at its (larger) output.
                total += Double(s.inChannels * s.outChannels * 9) * area
            }
        }
        return total + Double(channels * 3 * 9)
    }

    /// How far (in pixels) an output pixel can see: tiles overlap by at least this much.
    public var receptiveRadius: Int {
        var radius = 0, stride = 1
        for level in 0...levels {
            radius += stride * blocks
            if level < levels { stride *= 2 }
        }
        for level in (0..<levels).reversed() {
            radius += stride // the up-step
            stride /= 2
            radius += stride * (blocks - 1)
            _ = level
        }
        return radius + 1
    }

    public var parameterCount: Int {
        allSpecs.reduce(0) { $0 + (($1.kind == .conv || $1.kind == .convTranspose) ? $1.inChannels * $1.outChannels * 9 + $1.outChannels : 0) }
    }
}

/// A denoising (and deblurring) network trained on corrupted -> clean pairs: see
/// `DenoiserConfig` for its shape. Inputs are `[N, 3, H, W]` in [0, 1] with H and W multiples of
/// `config.multiple`; `denoise(_:)` takes any size and works in tiles.
public final class Denoiser: TrainableNetwork {
    public let config: DenoiserConfig
    let encoder: [Sequential]
    let up: [Sequential]
    let decoder: [Sequential]
    let head: Sequential
    public var metadata: [String: String]

    public init(config: DenoiserConfig, seed: UInt64, metadata: [String: String] = [:]) {
        precondition(config.isValid, "invalid denoiser configuration \(config)")
        self.config = config
        var g = SeededGenerator(seed: seed)
        encoder = (0...config.levels).map { Sequential(name: "encoder.\($0)", specs: config.encoderSpecs($0), generator: &g) }
        up = (0..<config.levels).map { Sequential(name: "up.\($0)", specs: config.upSpecs($0), generator: &g) }
        decoder = (0..<config.levels).map { Sequential(name: "decoder.\($0)", specs: config.decoderSpecs($0), generator: &g) }
        head = Sequential(name: "head", specs: config.headSpecs, generator: &g)
        if config.residual {
            // Start as (almost) the identity: a residual network whose last layer is small
            // outputs about its input, so training improves on doing nothing from the first
            // step instead of first undoing a random correction.
            for p in head.parameters { p.value.scale(by: 0.01) }
        }
        self.metadata = metadata
    }

    public var parameters: [Parameter] {
        encoder.flatMap(\.parameters) + up.flatMap(\.parameters) + decoder.flatMap(\.parameters) + head.parameters
    }

    /// The network on a batch whose sides are multiples of `config.multiple`.
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.h % config.multiple == 0 && x.w % config.multiple == 0, "Denoiser input sides must be multiples of \(config.multiple)")
        var features = [encoder[0].forward(x, training: training)]
        for level in 1...max(1, config.levels) where level <= config.levels {
            features.append(encoder[level].forward(features[level - 1], training: training))
        }
        var h = features[config.levels]
        for level in (0..<config.levels).reversed() {
            h = up[level].forward(h, training: training)
            if config.skips { h.add(features[level]) }
            h = decoder[level].forward(h, training: training)
        }
        var out = head.forward(h, training: training)
        if config.residual { out.add(x) }
        return out
    }

    /// Backward of the last training forward: accumulates parameter gradients.
    public func backward(_ dy: Tensor) {
        var g = head.backward(dy)
        var skipGradients: [Tensor] = []
        for level in 0..<config.levels {
            g = decoder[level].backward(g)
            if config.skips { skipGradients.append(g) }
            g = up[level].backward(g)
        }
        for level in stride(from: config.levels, through: 1, by: -1) {
            g = encoder[level].backward(g)
            if config.skips { g.add(skipGradients[level - 1]) }
        }
        _ = encoder[0].backward(g)
    }

    /// `denoise` averaged over the eight orientations of `x` (`Dihedral`: rotations, flips and
    /// transposes), each turned back before averaging: a self-ensemble. Eight times the work for
    /// a better estimate, since the network's errors differ between orientations more than
    /// the photo's statistics do.
    public func denoiseSelfEnsemble(_ x: Tensor, tile: Int = 256) -> Tensor {
        var sum = Tensor(zeros: x.shape)
        for g in Dihedral.allCases { sum.add(g.invert(denoise(g.apply(x), tile: tile))) }
        sum.scale(by: 1 / Float(Dihedral.allCases.count))
        return sum
    }

    /// Cleans one image `[1, 3, H, W]` of any size: edges replicated up to the network's
    /// multiple, then tiles of `tile` x `tile` output pixels, each computed with a margin of at
    /// least the receptive radius, so the result equals one whole-image pass (no seams) up to
    /// float rounding, in bounded memory.
    public func denoise(_ x: Tensor, tile: Int = 256) -> Tensor {
        precondition(x.n == 1 && x.c == 3)
        let m = config.multiple
        let H = (x.h + m - 1) / m * m, W = (x.w + m - 1) / m * m
        let padded = TensorOps.padReplicate(x, toHeight: H, width: W)
        let tile = max(m, tile / m * m)
        let margin = (config.receptiveRadius + m - 1) / m * m
        var out = Tensor(zeros: [1, 3, H, W])
        if H <= tile + 2 * margin && W <= tile + 2 * margin {
            out = forward(padded, training: false)
        } else {
            for ty in stride(from: 0, to: H, by: tile) {
                for tx in stride(from: 0, to: W, by: tile) {
                    let y0 = max(0, ty - margin), y1 = min(H, ty + tile + margin)
                    let x0 = max(0, tx - margin), x1 = min(W, tx + tile + margin)
                    let part = forward(Self.region(padded, y0, y1, x0, x1), training: false)
                    let (ph, pw) = (y1 - y0, x1 - x0)
                    for c in 0..<3 {
                        for y in ty..<min(H, ty + tile) {
                            let src = (c * ph + (y - y0)) * pw + (tx - x0), dst = (c * H + y) * W + tx
                            for i in 0..<(min(W, tx + tile) - tx) { out.data[dst + i] = part.data[src + i] }
                        }
                    }
                }
            }
        }
        return TensorOps.crop(out, height: x.h, width: x.w)
    }

    /// Rows y0..<y1 and columns x0..<x1 of a `[1, C, H, W]` tensor.
    static func region(_ x: Tensor, _ y0: Int, _ y1: Int, _ x0: Int, _ x1: Int) -> Tensor {
        var r = Tensor(zeros: [1, x.c, y1 - y0, x1 - x0])
        for c in 0..<x.c {
            for y in y0..<y1 {
                let src = (c * x.h + y) * x.w + x0, dst = (c * (y1 - y0) + (y - y0)) * (x1 - x0)
                for i in 0..<(x1 - x0) { r.data[dst + i] = x.data[src + i] }
            }
        }
        return r
    }

    struct Description: Codable {
        var kind: String
        var denoiser: DenoiserConfig
        var metadata: [String: String]
        var trainer: String?
    }

    /// The model file: JSON `{kind: "denoiser", denoiser: config, metadata, trainer?}` and the
    /// weights.
    public func modelFile(extra: [ModelFile.Entry] = [], trainer: String? = nil, storage: ModelFile.Storage = .float32) -> ModelFile {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try! encoder.encode(Description(kind: "denoiser", denoiser: config, metadata: metadata, trainer: trainer)), as: UTF8.self)
        let weights = parameters.map { ModelFile.Entry(name: $0.name, shape: $0.value.shape, values: $0.value.data, storage: storage) }
        return ModelFile(json: json, tensors: weights + extra)
    }

    /// Rebuilds a denoiser from its model file, checking the configuration's bounds before
    /// building and every tensor's name and shape.
    public convenience init(modelFile file: ModelFile) throws {
        let description: Description
        do { description = try JSONDecoder().decode(Description.self, from: Data(file.json.utf8)) } catch {
            throw ModelFileError.incompatible("not a denoising model (vlat train --objective denoise makes them)")
        }
        guard description.kind == "denoiser" else { throw ModelFileError.incompatible("model kind '\(description.kind)' is not a denoiser") }
        guard description.denoiser.isValid else { throw ModelFileError.malformed("denoiser configuration out of bounds: \(description.denoiser)") }
        let present = file.tensors.reduce(0) { $0 + $1.values.count }
        guard present >= description.denoiser.parameterCount else {
            throw ModelFileError.incompatible("the file holds \(present) values but the architecture needs \(description.denoiser.parameterCount)")
        }
        self.init(config: description.denoiser, seed: 0, metadata: description.metadata)
        for p in parameters {
            guard let entry = file[p.name], entry.shape == p.value.shape else {
                throw ModelFileError.incompatible("model file has no tensor '\(p.name)' of shape \(p.value.shape)")
            }
            p.value = Tensor(shape: entry.shape, data: entry.values)
        }
    }
}
