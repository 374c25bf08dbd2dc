import VlatFormat
import VlatTensor

/// Warm-starting a hyperprior with more latent channels M from a trained one with fewer, by
/// splitting channels (Net2WiderNet, Chen et al. 2016, "Net2Net"): the latent is the bottleneck
/// that bounds the transforms' quality at unbounded rate, and widening it keeps everything the
/// narrower model learned.
///
/// Each new channel is a copy of one source channel `c` (`splitting` names them): the analysis
/// computes it with `c`'s filter (plus a small perturbation that breaks the tie), it has `c`'s
/// gains, and the hyper-synthesis and context predict `c`'s means and scales for it. The
/// synthesis reads `c` and its copy with half of `c`'s weights each (a third for a channel split
/// twice), and nothing else reads the copy at first (the hyper-analysis and the context's inputs: zero weights). So the widened
/// network reconstructs what the source did, up to the perturbation, and spends `c`'s bits
/// twice; with independent quantization noise on the two halves, both get a distortion gradient
/// from the first step and training can make them differ.
///
/// Splitting instead of adding fresh channels with zero readers: a fresh channel gets no
/// distortion gradient while nothing reads it (d loss / d y_new = W_reader^T d x = 0), while
/// the rate term shrinks it at once, so it dies before the readers learn.
extension MeanScaleHyperprior {
    /// The perturbation of a copy's analysis filter, relative to a fresh filter's scale.
    public static let splitPerturbation: Float = 0.1

    /// The `count` channels of the latent whose gained values at the top level spread least
    /// over `images` (`[1, 3, H, W]` each, sides multiples of 16): the cheapest to split, as a
    /// copy costs what its source does.
    public func leastSpreadChannels(_ count: Int, on images: [Tensor]) -> [Int] {
        let m = config.latentChannels, top = Double(config.levels - 1)
        let gains = gainValues(level: top)
        var spread = [Double](repeating: 0, count: m)
        setLevels([top])
        for x in images {
            let y = analysis.forward(x, training: false), plane = y.h * y.w
            for c in 0..<m {
                let values = y.data[(c * plane)..<((c + 1) * plane)].map(Double.init)
                let mean = values.reduce(0, +) / Double(plane)
                spread[c] += values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } * gains[c] * gains[c] / Double(plane)
            }
        }
        return Array((0..<m).sorted { (spread[$0], $0) < (spread[$1], $1) }.prefix(count))
    }

    /// Copies `source` into this network as described above, new channel `M_source + i` splitting
    /// source channel `splitting[i]`, and returns the names of the tensors it set (all of them).
    /// Throws when the two differ in anything but M, or when `splitting` does not name one
    /// source channel for each new one.
    public func widenLatent(from source: MeanScaleHyperprior, splitting: [Int]) throws -> [String] {
        let (m, wide) = (source.config.latentChannels, config.latentChannels)
        var expected = source.config
        expected.latentChannels = wide
        expected.lambdas = config.lambdas
        guard wide > m, expected == config else {
            throw ModelFileError.incompatible("widening needs the same architecture with more latent channels (source M=\(m), this M=\(wide))")
        }
        guard splitting.count == wide - m, splitting.allSatisfy({ (0..<m).contains($0) }) else {
            throw ModelFileError.incompatible("widening from M=\(m) to \(wide) splits \(wide - m) source channels, not \(splitting)")
        }
        // Where each channel of the wide latent comes from.
        let origin = Array(0..<m) + splitting
        // The synthesis reads a channel split k times and its copies with 1 / (k + 1) of its weights each.
        var share = [Float](repeating: 1, count: m)
        for c in splitting { share[c] += 1 }
        share = share.map { 1 / $0 }
        let sourceValues = Dictionary(source.parameters.map { ($0.name, $0.value) }) { a, _ in a }
        let allLayers = analysis.layers + synthesis.layers + hyperAnalysis.layers + hyperSynthesis.layers
            + (context.map { [$0.symbols, $0.conditions] + $0.head.layers } ?? [])
        // A transposed convolution's weight is [in, out, k, k], a convolution's [out, in, k, k].
        let transposed = Set(allLayers.compactMap { ($0 as? ConvTranspose2d)?.weight }.map(ObjectIdentifier.init))
        let lastAnalysis = analysis.layers.last { !$0.parameters.isEmpty }
        let firstSynthesis = synthesis.layers.first { !$0.parameters.isEmpty }
        for p in parameters {
            guard let old = sourceValues[p.name], old.shape.count == p.value.shape.count else {
                throw ModelFileError.incompatible("the source model has no tensor '\(p.name)' of rank \(p.value.shape.count)")
            }
            // Along each axis that widens: where a wide index comes from (nil: a new reader,
            // zero) and the factor on the value.
            let readerAxis = p.value.shape.count == 4 ? (transposed.contains(ObjectIdentifier(p)) ? 0 : 1) : -1
            let halvesReaders = firstSynthesis?.parameters.first === p
            var maps: [(Int) -> (index: Int, factor: Float)?] = []
            for (axis, (a, b)) in zip(old.shape, p.value.shape).enumerated() {
                if a == b { maps.append { ($0, 1) }; continue }
                guard (a == m && b == wide) || (a == 2 * m && b == 2 * wide) else {
                    throw ModelFileError.incompatible("tensor '\(p.name)' of shape \(old.shape) does not widen to \(p.value.shape)")
                }
                if axis == readerAxis {
                    // A copy is read by the synthesis with a share of its source's weights (the source
                    // keeps the rest); by nothing else.
                    maps.append { i in
                        let (half, c) = (i / wide, i % wide)
                        if halvesReaders { return (half * m + origin[c], share[origin[c]]) }
                        return c < m ? (half * m + c, 1) : nil
                    }
                } else {
                    maps.append { i in (i / wide * m + origin[i % wide], 1) }
                }
            }
            let oldStrides = Self.strides(old.shape), newStrides = Self.strides(p.value.shape)
            let fresh = p.value.data
            var values = [Float](repeating: 0, count: p.value.count)
            for i in 0..<p.value.count {
                var rest = i, source = 0, factor: Float = 1, isNew = false
                var found = true
                for axis in 0..<p.value.shape.count {
                    let index = rest / newStrides[axis]
                    rest %= newStrides[axis]
                    guard let (o, f) = maps[axis](index) else { found = false; break }
                    if p.value.shape[axis] != old.shape[axis] && index % wide >= m { isNew = true }
                    source += o * oldStrides[axis]
                    factor *= f
                }
                guard found else { continue }
                values[i] = old.data[source] * factor
                // Break the tie between a copy and its source where the image first enters it.
                if isNew && lastAnalysis?.parameters.first === p { values[i] += Self.splitPerturbation * fresh[i] }
            }
            p.value = Tensor(shape: p.value.shape, data: values)
        }
        return parameters.map(\.name)
    }

    private static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { s[axis] = s[axis + 1] * shape[axis + 1] }
        return s
    }
}
