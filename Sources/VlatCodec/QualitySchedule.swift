import Foundation

/// What `--quality` means for a variable-rate model: the scale 1...8 that users and presets
/// see, mapped to one of the model's levels and, above `detailFrom`, a detail layer.
///
/// Up to `detailFrom` (level 5, or the model's top level if it has fewer), a quality is the
/// model's own level (fractional values interpolate the gains). Above it the model's level stays
/// at `detailFrom` and the detail layer (`DetailLayer`) codes the residual with a step that
/// shrinks geometrically from `firstStep` just above `detailFrom` to `topStep` at quality 8:
/// past the middle levels the network's synthesis saturates, and the layer buys more quality
/// for the same bits than the model's top levels (`CodecBench detail`, measured on the training
/// run's held-out images; `Benchmarks/codec/detail.md`).
///
/// ```swift
/// let point = QualitySchedule(levels: 8).point(6.5)   // (level: 5, detailStep: 22.6...)
/// ```
public struct QualitySchedule: Sendable, Equatable {
    /// The top of the scale.
    public static let top = 8.0
    /// The level the detail layer builds on, and the qualities at and below it are the model's own.
    public let detailFrom: Double
    /// The detail step just above `detailFrom`, and at quality 8 (sample levels).
    public let firstStep: Double, topStep: Double

    public static let defaultDetailFrom = 5.0
    public static let defaultFirstStep = 64.0
    public static let defaultTopStep = 16.0

    public init(levels: Int, detailFrom: Double = defaultDetailFrom, firstStep: Double = defaultFirstStep, topStep: Double = defaultTopStep) {
        self.detailFrom = min(detailFrom, Double(levels))
        self.firstStep = firstStep
        self.topStep = topStep
    }

    /// The model level (1-based) and the detail step (nil: no layer) of quality `q` in 1...8.
    public func point(_ q: Double) -> (level: Double, detailStep: Double?) {
        guard q > detailFrom else { return (q, nil) }
        let t = (q - detailFrom) / (Self.top - detailFrom)
        return (detailFrom, firstStep * pow(topStep / firstStep, t))
    }
}
