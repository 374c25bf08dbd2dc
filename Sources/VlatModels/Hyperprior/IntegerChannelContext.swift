import Foundation
import VlatFormat
import VlatTensor

/// The channel context (`ChannelContext`) in exact integer arithmetic, so that the corrected
/// means and scales of every group after the first are the same integers on every machine.
///
/// The conditions are the hyper-synthesis' output (possibly corrected already), `[2M, h, w]`
/// integers in units of `2^-f`. For group g at a position of one half it gathers a column of
/// `S g + 2 M` integers: the decoded values of groups `0 ..< g` there, `(k << f) + mean` (k the
/// residual symbol, mean the channel's current integer mean), then the `2 M` conditions there,
/// each shifted down by `inputShift` bits (rounded: `(v + 2^(s-1)) >> s`, in Int64, then clamped
/// to `IntegerHyperSynthesis.limit`). The half's network for group g (three 1x1 integer layers,
/// `IntegerHyperSynthesis`) turns the column into a correction of the group's S means and S
/// log-scales in units of `2^-outputFraction`; shifted up by `f - outputFraction` bits it is
/// added to the conditions (then clamped to the limit again).
public struct IntegerChannelContext: Sendable, Equatable {
    /// For groups 1 ..< G (index g - 1).
    public var anchorNetworks: [IntegerHyperSynthesis]
    public var otherNetworks: [IntegerHyperSynthesis]
    public var latentChannels: Int
    public var groups: Int
    /// The gathered values enter the networks divided by `2^inputShift`.
    public var inputShift: Int

    public static let prefix = "integer_channel_context"
    /// Fraction bits of the values as the networks read them.
    public static let inputFraction = 4

    public init(anchorNetworks: [IntegerHyperSynthesis], otherNetworks: [IntegerHyperSynthesis], latentChannels m: Int, groups: Int,
                inputShift: Int) throws {
        guard groups >= 2, m % groups == 0, anchorNetworks.count == groups - 1, otherNetworks.count == groups - 1 else {
            throw IntegerNetworkError.invalid("the channel context's networks do not match its groups")
        }
        let s = m / groups
        for (k, net) in (anchorNetworks + otherNetworks).enumerated() {
            let g = k % (groups - 1) + 1, l = net.layers
            guard l.count == 3, l.allSatisfy({ $0.spec.kind == .conv && $0.spec.kernel == 1 && $0.spec.stride == 1 && $0.spec.padding == 0 }),
                  l[0].spec.inChannels == s * g + 2 * m, l[2].spec.outChannels == 2 * s, l[0].relu, l[1].relu, !l[2].relu else {
                throw IntegerNetworkError.invalid("the channel context's layers do not have its shape")
            }
        }
        guard (0...30).contains(inputShift) else { throw IntegerNetworkError.invalid("bad channel context shift") }
        self.anchorNetworks = anchorNetworks
        self.otherNetworks = otherNetworks
        self.latentChannels = m
        self.groups = groups
        self.inputShift = inputShift
    }

    public var groupSize: Int { latentChannels / groups }
    public var hiddenChannels: Int { anchorNetworks[0].layers[0].spec.outChannels }

    /// Positions per pass: a pass's gathered columns are bounded, whatever the image (results do
    /// not depend on it: every position is computed on its own).
    public static let positionsPerPass = 2048

    /// Corrects group `group`'s (1 ..< G) conditions at one half's positions (`anchors`), from
    /// the symbols of the earlier groups there and the current conditions (`[2M, h, w]`, units
    /// `2^-fraction`). `symbols` is `[M, h, w]`; only earlier groups' entries at this half are read.
    public func correct(group g: Int, anchors: Bool, conditions: inout [Int32], symbols: [Int32], height h: Int, width w: Int,
                        fraction: Int, positionsPerPass: Int = Self.positionsPerPass) {
        precondition((1..<groups).contains(g))
        Self.correct((anchors ? anchorNetworks : otherNetworks)[g - 1], group: g, anchors: anchors, groupSize: groupSize, conditions: &conditions,
                     symbols: symbols, height: h, width: w, fraction: fraction, inputShift: inputShift, positionsPerPass: positionsPerPass)
    }

    /// What `correct` does with one network `net` (group g's of one half), for groups of `s` channels.
    public static func correct(_ net: IntegerHyperSynthesis, group g: Int, anchors: Bool, groupSize s: Int, conditions: inout [Int32],
                               symbols: [Int32], height h: Int, width w: Int, fraction: Int, inputShift: Int,
                               positionsPerPass: Int = Self.positionsPerPass) {
        let plane = h * w, m = symbols.count / max(1, plane), limit = IntegerHyperSynthesis.limit
        precondition(conditions.count == 2 * m * plane && symbols.count == m * plane && g >= 1 && s * (g + 1) <= m)
        let outputShift = Int64(fraction - net.outputFraction)
        let positions = CheckerboardContext.positions(anchors: anchors, height: h, width: w)
        let rows = s * g + 2 * m
        var column = [Int32](repeating: 0, count: rows * min(positionsPerPass, max(1, positions.count)))
        for first in stride(from: 0, to: positions.count, by: positionsPerPass) {
            let batch = positions[first..<min(positions.count, first + positionsPerPass)]
            let n = batch.count
            gather(batch, group: g, symbols: symbols, conditions: conditions, plane: plane, latentChannels: m, groupSize: s,
                   fraction: fraction, shift: inputShift, into: &column)
            let out = net.run(Array(column[0..<(rows * n)]), height: 1, width: n)
            for o in 0..<(2 * s) {
                let channel = o < s ? g * s + o : m + g * s + (o - s)
                for (k, p) in batch.enumerated() {
                    let v = Int64(conditions[channel * plane + p]) + Int64(out.values[o * n + k]) << outputShift
                    conditions[channel * plane + p] = Int32(min(max(v, -limit), limit))
                }
            }
        }
    }

    /// The shift of the gathered values for conditions in units of `2^-conditionFraction`.
    public static func inputShift(conditionFraction f: Int) -> Int { f - min(f, inputFraction) }

    /// The integer network for group g's float network `net` of one half (a `ChannelContext`'s),
    /// its activations calibrated on `calibration`: each item's integer conditions (`[2M, h, w]`,
    /// units `2^-conditionFraction`, the earlier groups' corrections in them) and symbols, as
    /// the codec would have them before correcting group g.
    public static func quantize(_ net: Sequential, group g: Int, anchors: Bool, groupSize s: Int, conditionFraction f: Int,
                                calibration: [(symbols: [Int32], conditions: [Int32], height: Int, width: Int)]) throws -> IntegerHyperSynthesis {
        let shift = inputShift(conditionFraction: f)
        let columns = calibration.compactMap { item -> Tensor? in
            let plane = item.height * item.width, m = item.symbols.count / max(1, plane), rows = s * g + 2 * m
            let positions = CheckerboardContext.positions(anchors: anchors, height: item.height, width: item.width)
            guard !positions.isEmpty else { return nil }
            var column = [Int32](repeating: 0, count: rows * positions.count)
            gather(positions[...], group: g, symbols: item.symbols, conditions: item.conditions, plane: plane, latentChannels: m, groupSize: s,
                   fraction: f, shift: shift, into: &column)
            return Tensor(shape: [1, rows, 1, positions.count], data: column.map(Float.init))
        }
        return try IntegerHyperSynthesis.quantize(columnNetwork(net, inputFraction: f - shift), calibration: columns, maxOutputFraction: f)
    }

    /// Writes group g's columns for `positions` into `column` (`[S g + 2M, positions.count]`).
    static func gather(_ positions: ArraySlice<Int>, group g: Int, symbols: [Int32], conditions: [Int32], plane: Int, latentChannels m: Int,
                       groupSize s: Int, fraction: Int, shift: Int, into column: inout [Int32]) {
        let limit = IntegerHyperSynthesis.limit, n = positions.count, at = Array(positions)
        let half: Int64 = shift > 0 ? 1 << Int64(shift - 1) : 0, sh = Int64(shift), f = Int64(fraction)
        @inline(__always) func scaled(_ v: Int64) -> Int32 { Int32(min(max((v + half) >> sh, -limit), limit)) }
        column.withUnsafeMutableBufferPointer { out in
            for c in 0..<(s * g) {
                let dst = out.baseAddress! + c * n
                for k in 0..<n {
                    let i = c * plane + at[k]
                    dst[k] = scaled(Int64(symbols[i]) << f + Int64(conditions[i]))
                }
            }
            for j in 0..<(2 * m) {
                let dst = out.baseAddress! + (s * g + j) * n
                for k in 0..<n { dst[k] = scaled(Int64(conditions[j * plane + at[k]])) }
            }
        }
    }

    // MARK: - From and to the float context

    /// The float network on gathered columns equivalent to `net` (one of a `ChannelContext`'s),
    /// its inputs arriving multiplied by `2^inputFraction`.
    public static func columnNetwork(_ net: Sequential, inputFraction: Int) -> Sequential {
        var g = SeededGenerator(seed: 0)
        let copy = Sequential(name: "channel_context_columns", specs: net.layers.map(\.spec), generator: &g)
        for (a, b) in zip(copy.parameters, net.parameters) { a.value = b.value }
        let w = copy.layers[0].parameters[0]
        let scale = Float(exp2(Double(-inputFraction)))
        for i in 0..<w.value.count { w.value.data[i] *= scale }
        return copy
    }

    /// The float parameters (by name) of the `ChannelContext` whose integer form this is, for
    /// conditions in units of `2^-conditionFraction`, up to rounding (what a model file that
    /// stores only the integers trains on from).
    public func floatParameters(conditionFraction: Int) -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        let scale = Float(exp2(Double(conditionFraction - inputShift)))
        for (half, nets) in [("anchors", anchorNetworks), ("others", otherNetworks)] {
            for (k, net) in nets.enumerated() {
                let f = net.floatParameters
                for (layer, index) in zip(f, [0, 2, 4]) {
                    let name = "channel_context.\(half).\(k + 1).\(index)"
                    out["\(name).weight"] = index == 0 ? layer.weight.map { $0 * scale } : layer.weight
                    out["\(name).bias"] = layer.bias
                }
            }
        }
        return out
    }
}

// MARK: - Model files

extension IntegerChannelContext {
    /// The tensors that store the context: each network as `IntegerHyperSynthesis.entries` under
    /// `integer_channel_context.anchors.<g>` and `.others.<g>`, and
    /// `integer_channel_context.input_shift`.
    public var entries: [ModelFile.Entry] {
        var out: [ModelFile.Entry] = []
        for (k, net) in anchorNetworks.enumerated() { out += net.entries(prefix: "\(Self.prefix).anchors.\(k + 1)") }
        for (k, net) in otherNetworks.enumerated() { out += net.entries(prefix: "\(Self.prefix).others.\(k + 1)") }
        return out + [.init(name: "\(Self.prefix).input_shift", shape: [1], values: [Float(inputShift)])]
    }

    /// The context stored in `file` for `config`'s channel groups, or nil when the file has
    /// none. Every value is checked: a damaged file is an error.
    public init?(file: ModelFile, latentChannels m: Int, groups: Int, hiddenChannels h: Int) throws {
        guard let shift = file["\(Self.prefix).input_shift"] else { return nil }
        guard shift.values.count == 1, let s = Int(exactly: shift.values[0]) else {
            throw IntegerNetworkError.invalid("the channel context's shift is missing or not an integer")
        }
        func networks(_ half: String) throws -> [IntegerHyperSynthesis] {
            try (1..<groups).map { g in
                let specs = ChannelContext.specs(group: g, latentChannels: m, groups: groups, hiddenChannels: h)
                guard let net = try IntegerHyperSynthesis(file: file, specs: specs, prefix: "\(Self.prefix).\(half).\(g)") else {
                    throw IntegerNetworkError.invalid("the channel context has no network for group \(g) of the \(half)")
                }
                return net
            }
        }
        try self.init(anchorNetworks: networks("anchors"), otherNetworks: networks("others"), latentChannels: m, groups: groups, inputShift: s)
    }
}
