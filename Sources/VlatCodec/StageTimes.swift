import Foundation

/// Wall time spent in each stage of encoding and decoding, summed while `isEnabled` (off by
/// default: a benchmark turns it on to say where the time goes).
///
/// ```swift
/// StageTimes.isEnabled = true
/// _ = try ImageCodec.decode(container, model: model)
/// for (stage, seconds) in StageTimes.take() { print(stage, seconds) }
/// ```
/// Per thread: the switch and the totals belong to the thread that sets them, and the stages
/// are timed on the thread that calls the codec (around work that may itself use every
/// thread), so codec calls on other threads neither add to them nor see them.
public enum StageTimes {
    private final class Totals {
        var stages: [(stage: String, seconds: Double)] = []
        /// For each stage running now, innermost last: the time of the stages nested in it.
        var nested: [Double] = []
    }
    private static let key = "vlat.StageTimes"
    private static var current: Totals? { Thread.current.threadDictionary[key] as? Totals }

    /// Whether this thread's codec calls are timed.
    public static var isEnabled: Bool {
        get { current != nil }
        set {
            if newValue { if current == nil { Thread.current.threadDictionary[key] = Totals() } }
            else { Thread.current.threadDictionary[key] = nil }
        }
    }

    /// Runs `body`, adding its wall time to `stage` when enabled on this thread. A stage measured
    /// inside another one counts for itself only: the enclosing stage gets its own time without
    /// it, so stages never overlap (the base's synthesis while its rows are handed to the detail
    /// layer's coder, say).
    @inline(__always)
    static func measure<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
        guard let totals = current else { return try body() }
        totals.nested.append(0)
        let start = ContinuousClock.now
        defer {
            let d = (ContinuousClock.now - start).components
            let seconds = Double(d.seconds) + Double(d.attoseconds) * 1e-18
            let own = seconds - totals.nested.removeLast()
            if !totals.nested.isEmpty { totals.nested[totals.nested.count - 1] += seconds }
            if let i = totals.stages.firstIndex(where: { $0.stage == stage }) { totals.stages[i].seconds += own }
            else { totals.stages.append((stage, own)) }
        }
        return try body()
    }

    /// This thread's stages timed since the last call, in the order they first ran, and starts
    /// over (empty when not enabled).
    public static func take() -> [(stage: String, seconds: Double)] {
        guard let totals = current else { return [] }
        defer { totals.stages = [] }
        return totals.stages
    }
}
