import VlatFormat
import VlatTensor

/// Warm-starting a hyperprior whose synthesis has more hidden channels than a trained one's,
/// by splitting channels (Net2WiderNet, Chen et al. 2016), so that the wider decoder starts as
/// exactly the function the narrower one learned and only has to learn what the extra width
/// adds.
///
/// In each of the synthesis' three hidden stages, each new channel copies one source channel
/// `c` (`SynthesisSplit.stages` names them): its producer's filter and bias, its inverse GDN's
/// beta and gamma row, its level modulations. Whatever reads the stage reads `c` and its copy
/// with half of `c`'s weights each, so the output is unchanged: the next transposed
/// convolution's input weights, and the inverse GDN's gamma column (halved in its effective
/// value, `max(p, bound)^2 - pedestal`, since the normaliser sums `gamma_ij x_j^2` and `x_j` is
/// now there twice).
///
/// Equal halves would be a saddle: the copies would get equal gradients and stay copies. So
/// the reading weights are split unevenly, `w (1 + e) / 2` and `w (1 - e) / 2` with `e` a
/// random number of spread `splitAsymmetry` per weight: the sum, and so the output, is still
/// exact, while the two copies' gradients differ from the first step. Everything outside the
/// synthesis is copied as it is.
extension MeanScaleHyperprior {
    /// The spread of the uneven split of a reading weight between a channel and its copy.
    public static let splitAsymmetry: Float = 0.5

    /// For each hidden stage of this (narrower) network's synthesis, the `count` channels whose
    /// reading weights (the next layer's input weights) are largest: the channels the
    /// reconstruction leans on most, which a split gives twice the room.
    public func mostReadSynthesisChannels(_ count: Int) -> [[Int]] {
        let convs = synthesis.layers.compactMap { $0 as? ConvTranspose2d }
        return (1..<convs.count).map { k in
            let w = convs[k].weight.value, n = w.shape[0], size = w.count / n
            let norms = (0..<n).map { c in w.data[(c * size)..<((c + 1) * size)].reduce(0) { $0 + $1 * $1 } }
            return Array((0..<n).sorted { (norms[$0], $1) > (norms[$1], $0) }.prefix(count))
        }
    }

    /// Copies `source` into this network as described above: in hidden stage `s`, new channel
    /// `N_source + i` splits source channel `stages[s][i]`. Returns the names of the tensors it
    /// set (all of them). Throws when the two differ in anything but the synthesis' width, or
    /// when `stages` does not name distinct source channels for each new one.
    public func widenSynthesis(from source: MeanScaleHyperprior, stages: [[Int]], seed: UInt64) throws -> [String] {
        let split = try SynthesisSplit(wide: self, source: source, stages: stages)
        var generator = SeededGenerator(seed: seed)
        let sourceValues = Dictionary(source.parameters.map { ($0.name, $0.value) }) { a, _ in a }
        for p in parameters {
            guard let old = sourceValues[p.name] else { throw ModelFileError.incompatible("the source model has no tensor '\(p.name)'") }
            p.value = Tensor(shape: p.value.shape, data: try split.map(old, to: p, as: .weights, generator: &generator))
        }
        return parameters.map(\.name)
    }

    /// Adam's moments for this network, widened from the source's the way `widenSynthesis`
    /// widens the weights (a copy has its source's moments, a halved reading weight half of
    /// its first moment and a quarter of its second), so that a widened run goes on from a
    /// checkpoint's optimizer state. In the order of `parameters`.
    public func widenedSynthesisMoments(from source: MeanScaleHyperprior, stages: [[Int]], firstMoments: [String: Tensor],
                                        secondMoments: [String: Tensor]) throws -> (first: [[Float]], second: [[Float]]) {
        let split = try SynthesisSplit(wide: self, source: source, stages: stages)
        var generator = SeededGenerator(seed: 0)
        var first: [[Float]] = [], second: [[Float]] = []
        for p in parameters {
            guard let m = firstMoments[p.name], let v = secondMoments[p.name] else {
                throw ModelFileError.incompatible("the source has no optimizer state for '\(p.name)'")
            }
            first.append(try split.map(m, to: p, as: .firstMoments, generator: &generator))
            second.append(try split.map(v, to: p, as: .secondMoments, generator: &generator))
        }
        return (first, second)
    }
}

/// Where each tensor element of a widened synthesis comes from.
private struct SynthesisSplit {
    /// What an axis of a synthesis tensor is, for the stage it belongs to.
    enum Axis { case same, producer(Int), reader(Int), gammaColumn(Int) }

    let n: Int, wide: Int
    /// The source channel of each wide channel, per stage.
    let origin: [[Int]]
    /// The source channels that are split, per stage.
    let split: [Set<Int>]
    /// The axes of each synthesis tensor, by name.
    let axes: [String: [Axis]]

    init(wide network: MeanScaleHyperprior, source: MeanScaleHyperprior, stages: [[Int]]) throws {
        let (n, wide) = (source.config.transforms.synthesisWidth, network.config.transforms.synthesisWidth)
        (self.n, self.wide) = (n, wide)
        var expected = source.config
        expected.synthesisChannels = wide == expected.channels ? nil : wide
        expected.lambdas = network.config.lambdas
        guard wide > n, expected == network.config else {
            throw ModelFileError.incompatible("widening the synthesis needs the same architecture with a wider synthesis (source \(n), this \(wide))")
        }
        guard wide <= 2 * n, stages.count == 3,
              stages.allSatisfy({ $0.count == wide - n && Set($0).count == $0.count && $0.allSatisfy { (0..<n).contains($0) } }) else {
            throw ModelFileError.incompatible("widening the synthesis from \(n) to \(wide) splits \(wide - n) distinct channels in each of its 3 stages, not \(stages)")
        }
        origin = stages.map { Array(0..<n) + $0 }
        split = stages.map(Set.init)
        // Walk the synthesis: each transposed convolution reads the stage before it and
        // produces the next; a GDN and a modulation belong to the stage they follow.
        var axes: [String: [Axis]] = [:]
        var stage = -1
        for layer in network.synthesis.layers {
            switch layer {
            case let conv as ConvTranspose2d:
                let produces = stage + 1 < 3
                let reads: Axis = stage >= 0 ? .reader(stage) : .same, makes: Axis = produces ? .producer(stage + 1) : .same
                axes[conv.weight.name] = [reads, makes, .same, .same]
                axes[conv.bias.name] = [makes]
                stage += 1
            case let gdn as GDN:
                axes[gdn.beta.name] = [.producer(stage)]
                axes[gdn.gamma.name] = [.producer(stage), .gammaColumn(stage)]
            case let modulation as LevelModulation:
                axes[modulation.logScale.name] = [.same, .producer(stage)]
                axes[modulation.bias.name] = [.same, .producer(stage)]
            default:
                break
            }
        }
        self.axes = axes
    }

    enum Contents { case weights, firstMoments, secondMoments }

    /// `old` (a source tensor of `p`'s name) laid out as `p`: weights (a reading weight split
    /// unevenly with `generator`) or Adam's moments of them.
    func map(_ old: Tensor, to p: Parameter, as contents: Contents, generator: inout SeededGenerator) throws -> [Float] {
        guard let kinds = axes[p.name] else {
            guard old.shape == p.value.shape else {
                throw ModelFileError.incompatible("tensor '\(p.name)' of shape \(old.shape) is not \(p.value.shape) outside the synthesis")
            }
            return old.data
        }
        guard old.shape.count == p.value.shape.count, kinds.count == p.value.shape.count else {
            throw ModelFileError.incompatible("the source model has no tensor '\(p.name)' of rank \(p.value.shape.count)")
        }
        let oldStrides = Self.strides(old.shape), newStrides = Self.strides(p.value.shape)
        let isGamma = kinds.contains { if case .gammaColumn = $0 { return true } else { return false } }
        var values = [Float](repeating: 0, count: p.value.count)
        // One uneven split per source reading weight, shared by the channel and its copy.
        var asymmetry: [Int: Float] = [:]
        for i in 0..<p.value.count {
            var rest = i, sourceIndex = 0, halved = false, copy = false
            for (axis, kind) in kinds.enumerated() {
                let index = rest / newStrides[axis]
                rest %= newStrides[axis]
                var o = index
                switch kind {
                case .same: break
                case .producer(let s): o = origin[s][index]
                case .reader(let s), .gammaColumn(let s):
                    o = origin[s][index]
                    if split[s].contains(o) { halved = true }
                    if index >= n { copy = true }
                }
                sourceIndex += o * oldStrides[axis]
            }
            let v = old.data[sourceIndex]
            guard halved else { values[i] = v; continue }
            switch contents {
            case .weights where isGamma:
                // Half of the effective gamma: the parameter is its square root, bounded.
                values[i] = GDN.gammaParameter(effective: GDN.effective(v, bound: GDN.gammaBound) / 2)
            case .weights:
                if asymmetry[sourceIndex] == nil { asymmetry[sourceIndex] = MeanScaleHyperprior.splitAsymmetry * generator.normal() }
                let e = asymmetry[sourceIndex]!
                values[i] = v * (copy ? 1 - e : 1 + e) / 2
            case .firstMoments: values[i] = v / 2
            case .secondMoments: values[i] = v / 4
            }
        }
        return values
    }

    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { s[axis] = s[axis + 1] * shape[axis + 1] }
        return s
    }
}
