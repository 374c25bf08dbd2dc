import VlatFormat
import VlatTensor

/// Warm-starting a hyperprior whose synthesis has more hidden channels than a trained one's,
/// so that the wider decoder starts as exactly the function the narrower one learned and only
/// has to learn what the extra width adds.
///
/// Every weight of the source is kept. In each of the synthesis' three hidden stages the new
/// channels are fresh features: their producer's filters and biases as a new network's, their
/// inverse GDN normalising them by themselves (a new GDN's beta and gamma rows) and their
/// level modulations the identity, while nothing reads them yet: the next transposed
/// convolution's weights from them are zero, and so is their share in the old channels'
/// normalisers (gamma columns at effective zero). So the output is the source's, exactly.
///
/// Fresh features rather than copies of old channels (Net2WiderNet, Chen et al. 2016): at a
/// trained network's stationary point a copy and its source get the same gradient to first
/// order whatever their readers' split, so they part only by noise; a fresh feature's readers
/// get the correlation of a new view of the latent with what the reconstruction still misses,
/// a first-order gradient from the first step, and once they read it, its filters learn too.
/// Everything outside the synthesis is copied as it is.
extension MeanScaleHyperprior {
    /// Copies `source` into this network as described above (this network's own initial values
    /// give the fresh features). Returns the names of the tensors it set (all of them). Throws
    /// when the two differ in anything but the synthesis' width.
    public func widenSynthesis(from source: MeanScaleHyperprior) throws -> [String] {
        let split = try SynthesisSplit(wide: self, source: source)
        let sourceValues = Dictionary(source.parameters.map { ($0.name, $0.value) }) { a, _ in a }
        for p in parameters {
            guard let old = sourceValues[p.name] else { throw ModelFileError.incompatible("the source model has no tensor '\(p.name)'") }
            p.value = Tensor(shape: p.value.shape, data: try split.map(old, to: p, fresh: p.value.data, newValue: nil))
        }
        return parameters.map(\.name)
    }

    /// Adam's moments for this network, widened from the source's the way `widenSynthesis`
    /// widens the weights: the source's for every old element; for the new ones a zero first
    /// moment and the tensor's mean second moment. (A zero second moment under the run's global
    /// step count, whose bias correction is then 1, would make their first steps several times
    /// the learning rate.) So a widened run goes on from a checkpoint's optimizer state. In the
    /// order of `parameters`.
    public func widenedSynthesisMoments(from source: MeanScaleHyperprior, firstMoments: [String: Tensor],
                                        secondMoments: [String: Tensor]) throws -> (first: [[Float]], second: [[Float]]) {
        let split = try SynthesisSplit(wide: self, source: source)
        var first: [[Float]] = [], second: [[Float]] = []
        for p in parameters {
            guard let m = firstMoments[p.name], let v = secondMoments[p.name] else {
                throw ModelFileError.incompatible("the source has no optimizer state for '\(p.name)'")
            }
            first.append(try split.map(m, to: p, fresh: nil, newValue: 0))
            let mean = v.data.isEmpty ? 0 : Float(v.data.reduce(0.0) { $0 + Double($1) } / Double(v.count))
            second.append(try split.map(v, to: p, fresh: nil, newValue: mean))
        }
        return (first, second)
    }
}

extension MeanScaleHyperprior {
    /// For each synthesis parameter (by name), whether each element belongs to a hidden channel
    /// beyond the first `oldWidth` of every stage (a channel a widening from `oldWidth` added:
    /// its own filters, GDN row and modulations, and its readers' weights), for training those
    /// alone while every weight the narrower network had stays as it is.
    public func newSynthesisElements(oldWidth: Int) -> [String: [Bool]] {
        let split = SynthesisSplit(network: self, n: oldWidth)
        return Dictionary(uniqueKeysWithValues: synthesis.parameters.map { p in
            (p.name, (0..<p.value.count).map { split.isNew($0, of: p) })
        })
    }
}

/// Which tensor elements of a widened synthesis are old (the source's) and which new.
private struct SynthesisSplit {
    /// What an axis of a synthesis tensor is: `producer` along a hidden stage's channels
    /// (a new channel's element is fresh), `reader` along the channels a layer reads (a new
    /// channel's element is zero), `gammaColumn` likewise in a GDN's normaliser.
    enum Axis { case same, producer, reader, gammaColumn }

    let n: Int
    /// The axes of each synthesis tensor, by name.
    let axes: [String: [Axis]]

    init(wide network: MeanScaleHyperprior, source: MeanScaleHyperprior) throws {
        let (n, wide) = (source.config.synthesisWidth, network.config.synthesisWidth)
        var expected = source.config
        expected.synthesisChannels = wide == expected.channels ? nil : wide
        expected.lambdas = network.config.lambdas
        guard wide > n, expected == network.config else {
            throw ModelFileError.incompatible("widening the synthesis needs the same architecture with a wider synthesis (source \(n), this \(wide))")
        }
        self.init(network: network, n: n)
    }

    /// The axes of `network`'s synthesis tensors, its first `n` hidden channels per stage old.
    init(network: MeanScaleHyperprior, n: Int) {
        self.n = n
        // Walk the synthesis: each transposed convolution reads the stage before it and
        // produces the next (the last produces the image); a GDN and a modulation belong to
        // the stage they follow.
        var axes: [String: [Axis]] = [:]
        let convs = network.synthesis.layers.compactMap { $0 as? ConvTranspose2d }
        for layer in network.synthesis.layers {
            switch layer {
            case let conv as ConvTranspose2d:
                let k = convs.firstIndex { $0 === conv }!
                let reads: Axis = k > 0 ? .reader : .same, makes: Axis = k < convs.count - 1 ? .producer : .same
                axes[conv.weight.name] = [reads, makes, .same, .same]
                axes[conv.bias.name] = [makes]
            case let gdn as GDN:
                axes[gdn.beta.name] = [.producer]
                axes[gdn.gamma.name] = [.producer, .gammaColumn]
            case let modulation as LevelModulation:
                axes[modulation.logScale.name] = [.same, .producer]
                axes[modulation.bias.name] = [.same, .producer]
            default:
                break
            }
        }
        self.axes = axes
    }

    /// Whether element `i` of `p` (a synthesis tensor) is a new channel's own or a reader's of one.
    func isNew(_ i: Int, of p: Parameter) -> Bool {
        guard let kinds = axes[p.name] else { return false }
        var rest = i
        let strides = Self.strides(p.value.shape)
        for (axis, kind) in kinds.enumerated() {
            let index = rest / strides[axis]
            rest %= strides[axis]
            if index >= n && kind != .same { return true }
        }
        return false
    }

    /// `old` (a source tensor of `p`'s name) laid out as `p`: old elements from `old`; a new
    /// element (along any widened axis) from `fresh` when it is a new channel's own (producer
    /// axes only), else zero (a reader of a new channel), or `newValue` for every new element
    /// when it is given (optimizer moments).
    func map(_ old: Tensor, to p: Parameter, fresh: [Float]?, newValue: Float?) throws -> [Float] {
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
        // A gamma column of a new channel in an old channel's row: zero in effective value.
        let unread = GDN.gammaParameter(effective: 0)
        var values = [Float](repeating: 0, count: p.value.count)
        for i in 0..<p.value.count {
            var rest = i, sourceIndex = 0, newOwn = false, newRead: Axis?
            for (axis, kind) in kinds.enumerated() {
                let index = rest / newStrides[axis]
                rest %= newStrides[axis]
                if index >= n && kind != .same {
                    if kind == .producer { newOwn = true } else { newRead = kind }
                }
                sourceIndex += min(index, old.shape[axis] - 1) * oldStrides[axis]
            }
            if newOwn || newRead != nil {
                if let newValue {
                    values[i] = newValue
                } else if newOwn {
                    values[i] = fresh![i]
                } else {
                    values[i] = newRead == .gammaColumn ? unread : 0
                }
            } else {
                values[i] = old.data[sourceIndex]
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
