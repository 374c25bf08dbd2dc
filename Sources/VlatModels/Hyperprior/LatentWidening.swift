import VlatFormat
import VlatTensor

/// Warm-starting a hyperprior with more latent channels M from a trained one with fewer
/// (function-preserving widening, as in Net2Net, Chen et al. 2016): the latent is the
/// bottleneck that bounds the transforms' quality at unbounded rate, and widening it keeps
/// everything the narrower model learned.
///
/// Every tensor keeps the source's values at the source's channels; along each axis that is M
/// (or 2M: the hyper-synthesis' means, then log-scales) the new channels are inserted after the
/// source's own (after each half of a 2M axis). The new channels start so that the widened
/// network computes what the source did, up to their small analysis outputs:
/// - the analysis' new output filters keep their fresh initialisation, scaled by
///   `analysisScale`, so that they see the image from the first step;
/// - every weight that reads a latent channel (synthesis, hyper-analysis, context) is zero for
///   the new ones, so they change nothing until training gives them a use;
/// - the hyper-synthesis predicts a zero mean and a log-scale of `logScale` for them (narrow:
///   their near-zero symbols cost almost nothing; wide enough that an occasional nonzero one is
///   not ruinous);
/// - their gain at each level is the mean of the source's log gains at that level.
extension MeanScaleHyperprior {
    /// The fresh analysis filters' scale for new latent channels.
    public static let wideningAnalysisScale: Float = 0.5
    /// The natural-log scale predicted for new latent channels at first.
    public static let wideningLogScale: Float = -1.5

    /// Copies `source` into this network as described above and returns the names of the
    /// tensors it set (all of them). Throws when the two differ in anything but M, or when this
    /// network's M is not larger.
    public func widenLatent(from source: MeanScaleHyperprior) throws -> [String] {
        let (m, wide) = (source.config.latentChannels, config.latentChannels)
        var expected = source.config
        expected.latentChannels = wide
        expected.lambdas = config.lambdas
        guard wide > m, expected == config else {
            throw ModelFileError.incompatible("widening needs the same architecture with more latent channels (source M=\(m), this M=\(wide))")
        }
        let sourceValues = Dictionary(source.parameters.map { ($0.name, $0.value) }) { a, _ in a }
        let lastAnalysis = analysis.layers.last { !$0.parameters.isEmpty }
        let lastHyperSynthesis = hyperSynthesis.layers.last { !$0.parameters.isEmpty }
        for p in parameters {
            guard let old = sourceValues[p.name], old.shape.count == p.value.shape.count else {
                throw ModelFileError.incompatible("the source model has no tensor '\(p.name)' of rank \(p.value.shape.count)")
            }
            // Each axis: identical, M -> wide, or 2M -> 2 wide (two halves).
            var maps: [(Int) -> Int] = []
            for (a, b) in zip(old.shape, p.value.shape) {
                if a == b { maps.append { $0 } }
                else if a == m && b == wide { maps.append { $0 } }
                else if a == 2 * m && b == 2 * wide { maps.append { $0 < m ? $0 : $0 - m + wide } }
                else { throw ModelFileError.incompatible("tensor '\(p.name)' of shape \(old.shape) does not widen to \(p.value.shape)") }
            }
            let isNewAnalysisFilter = lastAnalysis?.parameters.contains { $0 === p } ?? false
            var values = isNewAnalysisFilter ? p.value.data.map { $0 * Self.wideningAnalysisScale } : [Float](repeating: 0, count: p.value.count)
            if p === gains {
                for l in 0..<config.levels {
                    let mean = (0..<m).reduce(Float(0)) { $0 + old.data[l * m + $1] } / Float(m)
                    for c in m..<wide { values[l * wide + c] = mean }
                }
            }
            if let bias = lastHyperSynthesis?.parameters.last, bias === p {
                for c in (wide + m)..<(2 * wide) { values[c] = Self.wideningLogScale }
            }
            // Scatter the old values.
            let oldStrides = Self.strides(old.shape), newStrides = Self.strides(p.value.shape)
            for i in 0..<old.count {
                var rest = i, target = 0
                for axis in 0..<old.shape.count {
                    let index = rest / oldStrides[axis]
                    rest %= oldStrides[axis]
                    target += maps[axis](index) * newStrides[axis]
                }
                values[target] = old.data[i]
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
