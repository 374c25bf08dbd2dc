import VlatFormat
import VlatTensor

/// Warm-starting a hyperprior with more latent channels M from a trained one with fewer, by
/// splitting channels (Net2WiderNet, Chen et al. 2016, "Net2Net"), so that the wider model
/// starts from everything the narrower one learned.
///
/// Each new channel splits one source channel `c` (`splitting` names them). The analysis
/// computes `c` with its filter minus a random direction `d` and the copy with the filter plus
/// `d`, so that their sum is twice `c` and their difference is new: a random view of the image
/// that nothing has learned to use yet. Every layer that reads the latent (synthesis,
/// hyper-analysis, context) reads `c` and its copy with half of `c`'s weights each (a third for
/// a channel split twice), so on the unquantized latent the synthesis and the hyper-analysis
/// compute exactly what the source's did (the context, which reads rounded symbols, nearly); the
/// copy has `c`'s gains, and the hyper-synthesis and context predict `c`'s means and scales
/// for it. Training then has a gradient that tells the halves apart from the first step: that of
/// their readers' difference, the correlation of the new view with what the reconstruction
/// still misses.
///
/// A split without `d` is a saddle: the two halves see the same values, get the same gradients
/// and stay copies, paying their bits twice. New channels that start unused are worse: nothing
/// reads them, so they get no distortion gradient (d loss / d y_new = W_reader^T d x = 0), while
/// the rate term shrinks them.
extension MeanScaleHyperprior {
    /// The length of a split's direction `d`, relative to the split filter's own.
    public static let splitPerturbation: Float = 0.5

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
        let split = try Split(wide: self, source: source, splitting: splitting)
        let sourceValues = Dictionary(source.parameters.map { ($0.name, $0.value) }) { a, _ in a }
        let lastAnalysis = analysis.layers.last { !$0.parameters.isEmpty }
        let (m, wide) = (split.m, split.wide)
        for p in parameters {
            guard let old = sourceValues[p.name] else { throw ModelFileError.incompatible("the source model has no tensor '\(p.name)'") }
            var values = try split.map(old, to: p, readerPower: 1)
            if lastAnalysis?.parameters.first === p {
                // The split directions: each copy's fresh filter, scaled to `splitPerturbation`
                // of its source's length, added to the copy and taken from the source.
                let size = p.value.count / wide
                for (k, c) in splitting.enumerated() {
                    let copy = (m + k) * size
                    let direction = p.value.data[copy..<(copy + size)]
                    let length = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    let target = old.data[(c * size)..<((c + 1) * size)].reduce(0) { $0 + $1 * $1 }.squareRoot()
                    guard length > 0 else { continue }
                    let scale = Self.splitPerturbation * target / length
                    for (e, d) in direction.enumerated() {
                        values[copy + e] += scale * d
                        values[c * size + e] -= scale * d
                    }
                }
            }
            p.value = Tensor(shape: p.value.shape, data: values)
        }
        return parameters.map(\.name)
    }

    /// Adam's moments for this network, widened from the source's (`firstMoments` and
    /// `secondMoments` by parameter name) the way `widenLatent` widens the weights: a copy has
    /// its source's moments, and a shared reader weight the share of its first moment and the
    /// share squared of its second, as its gradients would be. So a widened run can go on from a
    /// checkpoint's optimizer state instead of restarting it, which moves every weight by about
    /// the learning rate in its first steps. In the order of `parameters`.
    public func widenedMoments(from source: MeanScaleHyperprior, splitting: [Int], firstMoments: [String: Tensor],
                               secondMoments: [String: Tensor]) throws -> (first: [[Float]], second: [[Float]]) {
        let split = try Split(wide: self, source: source, splitting: splitting)
        var first: [[Float]] = [], second: [[Float]] = []
        for p in parameters {
            guard let m = firstMoments[p.name], let v = secondMoments[p.name] else {
                throw ModelFileError.incompatible("the source has no optimizer state for '\(p.name)'")
            }
            first.append(try split.map(m, to: p, readerPower: 1))
            second.append(try split.map(v, to: p, readerPower: 2))
        }
        return (first, second)
    }

    /// Where each tensor element of the widened network comes from.
    private struct Split {
        let m: Int, wide: Int
        /// The source channel of each wide channel.
        let origin: [Int]
        /// Readers take a channel split k times and its copies with 1 / (k + 1) of its weights each.
        let share: [Float]
        /// Weights laid out `[in, out, k, k]` (transposed convolutions; a convolution's is `[out, in, k, k]`).
        let transposed: Set<ObjectIdentifier>

        init(wide network: MeanScaleHyperprior, source: MeanScaleHyperprior, splitting: [Int]) throws {
            let (m, wide) = (source.config.latentChannels, network.config.latentChannels)
            (self.m, self.wide) = (m, wide)
            var expected = source.config
            expected.latentChannels = wide
            expected.lambdas = network.config.lambdas
            guard wide > m, expected == network.config else {
                throw ModelFileError.incompatible("widening needs the same architecture with more latent channels (source M=\(m), this M=\(wide))")
            }
            guard splitting.count == wide - m, splitting.allSatisfy({ (0..<m).contains($0) }) else {
                throw ModelFileError.incompatible("widening from M=\(m) to \(wide) splits \(wide - m) source channels, not \(splitting)")
            }
            origin = Array(0..<m) + splitting
            var counts = [Float](repeating: 1, count: m)
            for c in splitting { counts[c] += 1 }
            share = counts.map { 1 / $0 }
            let layers = network.analysis.layers + network.synthesis.layers + network.hyperAnalysis.layers + network.hyperSynthesis.layers
                + (network.context.map { [$0.symbols, $0.conditions] + $0.head.layers } ?? [])
            transposed = Set(layers.compactMap { ($0 as? ConvTranspose2d)?.weight }.map(ObjectIdentifier.init))
        }

        /// `old` (a source tensor of `p`'s name) laid out as `p`: along each axis that widens
        /// (M, or 2M in two halves), element `i` comes from its source channel, times the share
        /// to the power `readerPower` where the axis is a reader's input.
        func map(_ old: Tensor, to p: Parameter, readerPower: Int) throws -> [Float] {
            guard old.shape.count == p.value.shape.count else {
                throw ModelFileError.incompatible("the source model has no tensor '\(p.name)' of rank \(p.value.shape.count)")
            }
            let readerAxis = p.value.shape.count == 4 ? (transposed.contains(ObjectIdentifier(p)) ? 0 : 1) : -1
            let (m, wide, origin) = (self.m, self.wide, self.origin)
            let factor = share.map { readerPower == 1 ? $0 : $0 * $0 }
            var maps: [(Int) -> (index: Int, factor: Float)] = []
            for (axis, (a, b)) in zip(old.shape, p.value.shape).enumerated() {
                if a == b { maps.append { ($0, 1) }; continue }
                guard (a == m && b == wide) || (a == 2 * m && b == 2 * wide) else {
                    throw ModelFileError.incompatible("tensor '\(p.name)' of shape \(old.shape) does not widen to \(p.value.shape)")
                }
                let isReader = axis == readerAxis
                maps.append { i in
                    let (half, c) = (i / wide, i % wide)
                    return (half * m + origin[c], isReader ? factor[origin[c]] : 1)
                }
            }
            let oldStrides = MeanScaleHyperprior.strides(old.shape), newStrides = MeanScaleHyperprior.strides(p.value.shape)
            var values = [Float](repeating: 0, count: p.value.count)
            for i in 0..<p.value.count {
                var rest = i, source = 0, f: Float = 1
                for axis in 0..<p.value.shape.count {
                    let index = rest / newStrides[axis]
                    rest %= newStrides[axis]
                    let (o, g) = maps[axis](index)
                    source += o * oldStrides[axis]
                    f *= g
                }
                values[i] = old.data[source] * f
            }
            return values
        }
    }

    fileprivate static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { s[axis] = s[axis + 1] * shape[axis + 1] }
        return s
    }
}
