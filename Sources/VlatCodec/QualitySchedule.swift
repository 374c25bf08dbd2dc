import Foundation

/// What `--quality` means for a variable-rate model: the scale 1...8 that users and presets
/// see, mapped to one of the model's levels and, above `detailFrom`, a detail layer.
///
/// Up to `detailFrom`, a quality is the model's own level (fractional values interpolate the
/// gains). Above it, the detail layer (`DetailLayer`) codes the residual over a base whose level
/// rises evenly from `detailFrom` to `baseLevel` at quality 8, with a step that shrinks
/// geometrically from `firstStep` just above `detailFrom` to `topStep` at quality 8. Past the
/// middle levels the network's synthesis saturates, and the layer buys more quality for the same
/// bits than the model's own higher levels; over a middle base it does best, the lower the rate
/// the lower the base (`CodecBench detail` on the training run's held-out images,
/// `Benchmarks/codec/detail/README.md`).
///
/// ```swift
/// let point = QualitySchedule(levels: 8).point(6)   // (level: 4.5, detailStep: 37.9)
/// ```
public struct QualitySchedule: Sendable, Equatable {
    /// The top of the scale.
    public static let top = 8.0
    /// The quality (and level) above which the detail layer is added.
    public let detailFrom: Double
    /// The base level the layer builds on at the top of the scale.
    public let baseLevel: Double
    /// The detail step just above `detailFrom`, and at quality 8 (sample levels).
    public let firstStep: Double, topStep: Double

    public static let defaultDetailFrom = 4.0
    public static let defaultBaseLevel = 5.0
    public static let defaultFirstStep = 90.0
    public static let defaultTopStep = 16.0

    /// The schedule for a model of `levels` levels (one with fewer builds on its top level).
    public init(levels: Int, detailFrom: Double = defaultDetailFrom, baseLevel: Double = defaultBaseLevel,
                firstStep: Double = defaultFirstStep, topStep: Double = defaultTopStep) {
        self.detailFrom = min(detailFrom, Double(levels))
        self.baseLevel = min(max(baseLevel, detailFrom), Double(levels))
        self.firstStep = firstStep
        self.topStep = topStep
    }

    /// The model level (1-based) and the detail step (nil: no layer) of quality `q` in 1...8.
    public func point(_ q: Double) -> (level: Double, detailStep: Double?) {
        guard q > detailFrom else { return (q, nil) }
        let t = (q - detailFrom) / (Self.top - detailFrom)
        return (detailFrom + t * (baseLevel - detailFrom), firstStep * pow(topStep / firstStep, t))
    }
}
