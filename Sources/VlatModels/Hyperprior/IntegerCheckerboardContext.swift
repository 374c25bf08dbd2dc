import Foundation
import VlatFormat
import VlatTensor

/// The checkerboard context (`CheckerboardContext`) in exact integer arithmetic, so that the
/// corrected means and scales of the second half of the latents, like the hyper-synthesis'
/// (`IntegerHyperSynthesis`), are the same integers on every machine.
///
/// For each non-anchor latent position it gathers a column of `14 M` integers: the anchors'
/// residual symbols at the 12 anchor taps of the 5x5 window (`CheckerboardContext.taps`), channel
/// by channel (0 outside the latent, clamped to `IntegerHyperSynthesis.limit`), then the
/// hyper-synthesis' `2 M` outputs at the position, shifted down by `conditionShift` bits
/// (rounded: `(v + 2^(s-1)) >> s`). Three 1x1 integer layers (`network`: `14 M -> H` with ReLU,
/// `H -> H` with ReLU, `H -> 2 M`) turn the column into a correction, in units of
/// `2^-network.outputFraction`; shifted up by `outputShift` bits it is in the hyper-synthesis'
/// units and is added to its output at that position (then clamped to the limit again).
public struct IntegerCheckerboardContext: Sendable, Equatable {
    public var network: IntegerHyperSynthesis
    public var latentChannels: Int
    /// The hyper-synthesis outputs enter the context divided by `2^conditionShift`.
    public var conditionShift: Int
    /// The correction is multiplied by `2^outputShift` before it is added.
    public var outputShift: Int

    public static let prefix = "integer_context"

    public init(network: IntegerHyperSynthesis, latentChannels m: Int, conditionShift: Int, outputShift: Int) throws {
        let l = network.layers
        guard l.count == 3, l.allSatisfy({ $0.spec.kind == .conv && $0.spec.kernel == 1 && $0.spec.stride == 1 && $0.spec.padding == 0 }),
              l[0].spec.inChannels == (CheckerboardContext.taps.count + 2) * m, l[2].spec.outChannels == 2 * m,
              l[0].relu, l[1].relu, !l[2].relu else {
            throw IntegerNetworkError.invalid("the context's layers do not have the context's shape")
        }
        guard (0...30).contains(conditionShift), (0...30).contains(outputShift) else { throw IntegerNetworkError.invalid("bad context shifts") }
        self.network = network
        self.latentChannels = m
        self.conditionShift = conditionShift
        self.outputShift = outputShift
    }

    /// Hidden channels H.
    public var hiddenChannels: Int { network.layers[0].spec.outChannels }
    /// Rows of the gathered column.
    var columnRows: Int { (CheckerboardContext.taps.count + 2) * latentChannels }

    /// The float layers the integers run as (1x1 convolutions over gathered columns).
    public static func specs(latentChannels m: Int, hiddenChannels h: Int) -> [LayerSpec] {
        [LayerSpec(kind: .conv, inChannels: (CheckerboardContext.taps.count + 2) * m, outChannels: h, kernel: 1),
         LayerSpec(kind: .relu),
         LayerSpec(kind: .conv, inChannels: h, outChannels: h, kernel: 1),
         LayerSpec(kind: .relu),
         LayerSpec(kind: .conv, inChannels: h, outChannels: 2 * m, kernel: 1)]
    }

    /// Non-anchor positions per pass: the gathered columns of a pass are bounded, whatever the
    /// image (results do not depend on it: every position is computed on its own).
    public static let positionsPerPass = 2048

    /// Adds the context's correction to the hyper-synthesis output `conditions` (`[2M, h, w]`)
    /// at every non-anchor position, from the anchors' residual symbols `symbols` (`[M, h, w]`;
    /// only anchors are read).
    public func correct(_ conditions: inout [Int32], symbols: [Int32], height h: Int, width w: Int,
                        positionsPerPass: Int = Self.positionsPerPass) {
        let m = latentChannels, plane = h * w, limit = IntegerHyperSynthesis.limit
        precondition(conditions.count == 2 * m * plane && symbols.count == m * plane)
        let positions = Self.nonAnchors(height: h, width: w)
        var column = [Int32](repeating: 0, count: columnRows * min(positionsPerPass, max(1, positions.count)))
        for first in stride(from: 0, to: positions.count, by: positionsPerPass) {
            let batch = positions[first..<min(positions.count, first + positionsPerPass)]
            let n = batch.count
            Self.gather(batch, symbols: symbols, conditions: conditions, height: h, width: w, latentChannels: m,
                        conditionShift: conditionShift, into: &column)
            let out = network.run(Array(column[0..<(columnRows * n)]), height: 1, width: n)
            for j in 0..<(2 * m) {
                for (k, p) in batch.enumerated() {
                    let v = Int64(conditions[j * plane + p]) + Int64(out.values[j * n + k]) << Int64(outputShift)
                    conditions[j * plane + p] = Int32(min(max(v, -limit), limit))
                }
            }
        }
    }

    static func nonAnchors(height h: Int, width w: Int) -> [Int] { CheckerboardContext.positions(anchors: false, height: h, width: w) }

    /// Writes the columns of `positions` into `column` (`[14 M, positions.count]`), row by row
    /// (each row's writes contiguous), the rows shared among the threads.
    static func gather(_ positions: ArraySlice<Int>, symbols: [Int32], conditions: [Int32], height h: Int, width w: Int,
                       latentChannels m: Int, conditionShift: Int, into column: inout [Int32]) {
        let plane = h * w, taps = CheckerboardContext.taps, limit = Int32(IntegerHyperSynthesis.limit), n = positions.count
        let half: Int64 = conditionShift > 0 ? 1 << (conditionShift - 1) : 0, shift = Int64(conditionShift)
        let rows = positions.map { $0 / w }, cols = positions.map { $0 % w }, at = Array(positions)
        let tapRows = taps.count * m
        symbols.withUnsafeBufferPointer { sp in
        conditions.withUnsafeBufferPointer { cp in
        column.withUnsafeMutableBufferPointer { out in
            Parallel.forRanges(tapRows + 2 * m, minimumPerThread: 64) { range in
                for row in range {
                    let dst = out.baseAddress! + row * n
                    if row < tapRows {
                        let c = row / taps.count, tap = taps[row % taps.count], src = sp.baseAddress! + c * plane
                        for k in 0..<n {
                            let rr = rows[k] + tap.dy, xx = cols[k] + tap.dx
                            let v = rr >= 0 && rr < h && xx >= 0 && xx < w ? src[rr * w + xx] : 0
                            dst[k] = min(max(v, -limit), limit)
                        }
                    } else {
                        let src = cp.baseAddress! + (row - tapRows) * plane
                        for k in 0..<n { dst[k] = Int32((Int64(src[at[k]]) + half) >> shift) }
                    }
                }
            }
        }
        }
        }
    }

    // MARK: - From and to the float context

    /// The integer context for a trained float `context`, reading a hyper-synthesis whose output
    /// is in units of `2^-conditionFraction`, with activation scales calibrated on `calibration`:
    /// pairs of anchors' symbols `[M, h, w]` and hyper-synthesis outputs `[2M, h, w]` (integers,
    /// as the codec computes them) of training images.
    public static func quantize(_ context: CheckerboardContext, conditionFraction: Int,
                                calibration: [(symbols: [Int32], conditions: [Int32], height: Int, width: Int)]) throws -> IntegerCheckerboardContext {
        let m = context.symbols.inChannels, hidden = context.hiddenChannels
        // The conditions enter with `inputFraction` fraction bits: enough for the correction's
        // features, few enough that their weights keep their precision beside the symbols'.
        let inputFraction = min(conditionFraction, Self.conditionInputFraction)
        let conditionShift = conditionFraction - inputFraction
        let float = Self.floatNetwork(context, conditionScale: exp2(Double(-inputFraction)))
        let rows = (CheckerboardContext.taps.count + 2) * m
        // (A latent of one position has no non-anchor to calibrate on.)
        let columns = calibration.filter { $0.height * $0.width > 1 }.map { item -> Tensor in
            let positions = nonAnchors(height: item.height, width: item.width)
            var column = [Int32](repeating: 0, count: rows * positions.count)
            gather(positions[...], symbols: item.symbols, conditions: item.conditions, height: item.height, width: item.width,
                   latentChannels: m, conditionShift: conditionShift, into: &column)
            return Tensor(shape: [1, rows, 1, positions.count], data: column.map(Float.init))
        }
        let network = try IntegerHyperSynthesis.quantize(float, calibration: columns, maxOutputFraction: conditionFraction)
        guard network.layers[0].spec.outChannels == hidden else { throw IntegerNetworkError.invalid("context of another shape") }
        return try IntegerCheckerboardContext(network: network, latentChannels: m, conditionShift: conditionShift,
                                              outputShift: conditionFraction - network.outputFraction)
    }

    /// Fraction bits of the conditions as the context reads them.
    public static let conditionInputFraction = 4

    /// The float network on gathered columns (`14 M` rows) equivalent to `context`, the
    /// conditions' rows scaled by `conditionScale` (they arrive multiplied by its inverse).
    static func floatNetwork(_ context: CheckerboardContext, conditionScale: Double) -> Sequential {
        let m = context.symbols.inChannels, hidden = context.hiddenChannels, taps = CheckerboardContext.taps
        var g = SeededGenerator(seed: 0)
        let specs = Self.specs(latentChannels: m, hiddenChannels: hidden)
        let net = Sequential(name: "context_columns", specs: specs, generator: &g)
        let rows = (taps.count + 2) * m
        var w = [Float](repeating: 0, count: hidden * rows)
        let ws = context.symbols.weight.value.data, wc = context.conditions.weight.value.data
        for o in 0..<hidden {
            for c in 0..<m {
                for (t, tap) in taps.enumerated() {
                    w[o * rows + c * taps.count + t] = ws[((o * m + c) * 5 + tap.dy + 2) * 5 + tap.dx + 2]
                }
            }
            for j in 0..<(2 * m) { w[o * rows + taps.count * m + j] = Float(Double(wc[o * 2 * m + j]) * conditionScale) }
        }
        let first = net.layers[0].parameters
        first[0].value = Tensor(shape: first[0].value.shape, data: w)
        first[1].value = Tensor(shape: [hidden], data: zip(context.symbols.bias.value.data, context.conditions.bias.value.data).map { $0 + $1 })
        for (k, layer) in [(2, context.head.layers[1]), (4, context.head.layers[3])] {
            for (a, b) in zip(net.layers[k].parameters, layer.parameters) { a.value = b.value }
        }
        return net
    }

    /// The float context whose integer form this is, up to rounding: its weights read back (what
    /// a model file that stores only the integers trains on from).
    public func floatParameters(conditionFraction: Int) -> [String: [Float]] {
        let m = latentChannels, hidden = hiddenChannels, taps = CheckerboardContext.taps, rows = columnRows
        let f = network.floatParameters
        let inputFraction = conditionFraction - conditionShift
        var ws = [Float](repeating: 0, count: hidden * m * 25), wc = [Float](repeating: 0, count: hidden * 2 * m)
        for o in 0..<hidden {
            for c in 0..<m {
                for (t, tap) in taps.enumerated() { ws[((o * m + c) * 5 + tap.dy + 2) * 5 + tap.dx + 2] = f[0].weight[o * rows + c * taps.count + t] }
            }
            for j in 0..<(2 * m) { wc[o * 2 * m + j] = Float(Double(f[0].weight[o * rows + taps.count * m + j]) * exp2(Double(inputFraction))) }
        }
        return ["context.symbols.weight": ws, "context.symbols.bias": f[0].bias,
                "context.conditions.weight": wc, "context.conditions.bias": [Float](repeating: 0, count: hidden),
                "context.head.1.weight": f[1].weight, "context.head.1.bias": f[1].bias,
                "context.head.3.weight": f[2].weight, "context.head.3.bias": f[2].bias]
    }
}

// MARK: - Model files

extension IntegerCheckerboardContext {
    /// The tensors that store the context: its three layers as `IntegerHyperSynthesis.entries`
    /// under `integer_context`, and `integer_context.io_shifts` (`conditionShift`, `outputShift`).
    public var entries: [ModelFile.Entry] {
        network.entries(prefix: Self.prefix)
            + [.init(name: "\(Self.prefix).io_shifts", shape: [2], values: [Float(conditionShift), Float(outputShift)])]
    }

    /// The context stored in `file` for `latentChannels` M and `hiddenChannels` H, or nil when
    /// the file has none. Every value is checked: a damaged file is an error.
    public init?(file: ModelFile, latentChannels m: Int, hiddenChannels h: Int) throws {
        guard let network = try IntegerHyperSynthesis(file: file, specs: Self.specs(latentChannels: m, hiddenChannels: h), prefix: Self.prefix) else {
            return nil
        }
        guard let io = file["\(Self.prefix).io_shifts"], io.values.count == 2,
              let c = Int(exactly: io.values[0]), let o = Int(exactly: io.values[1]) else {
            throw IntegerNetworkError.invalid("the context's shifts are missing or not integers")
        }
        try self.init(network: network, latentChannels: m, conditionShift: c, outputShift: o)
    }
}
