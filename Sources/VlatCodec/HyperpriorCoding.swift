import Foundation
import VlatEntropy
import VlatFormat
import VlatModels
import VlatTensor

/// The payload of header coders 5, 6 and 7: a mean-scale hyperprior's side information and
/// latents.
///
/// ```
/// coder 5:  u16 level code (level * 256, level 0-based)   u32 z stream bytes   z stream   y stream
/// coder 6:  u16 level code   u32 z stream bytes   z stream   u32 anchor stream bytes   anchor stream   non-anchor stream
/// coder 7:  as coder 6
/// ```
/// Every stream is a `RANSCoder` stream. With `g` the level's per-channel gains, z
/// (`[hyperChannels, ceil(h/4), ceil(w/4)]` for an `h x w` latent) is `round(h_a(g * y))`,
/// coded channel-major with channel c's table of `zTables`. The integer hyper-synthesis turns
/// z into integer means and log-scales of `g * y`; each latent's table is the scale index of
/// its log-scale, and its symbol is `round(g * y - mean)`. The decoder inverts:
/// `y^ = (symbol + mean) / g`. Coder 6 (a model with a checkerboard context) codes the anchors
/// (`(row + column)` even) first, channel-major, then corrects the other positions' means and
/// log-scales from the anchors' symbols (`IntegerCheckerboardContext`) and codes them, also
/// channel-major. Coder 7 (a channel context besides) codes each half in channel groups, and
/// corrects every group after the first from the earlier groups' symbols at the same position
/// (`IntegerChannelContext`) before coding it. Only the float reconstruction depends on the machine's arithmetic, never
/// which symbols are read.
public enum HyperpriorCoding {
    /// The conditions of a latent `[M, h, w]` from integer z `[hyperChannels, zh, zw]`: the
    /// (possibly context-corrected) integer hyper-synthesis output `raw` (`[2M, h, w]`, means
    /// then log-scales, in units of `unit`: `mean = Double(raw[i]) * unit`, exact) and each
    /// symbol's table index. Held once, corrected in place: a large image's conditions take 9
    /// bytes a latent.
    struct Conditions {
        private(set) var raw: [Int32]
        private(set) var indices: [UInt8]
        let unit: Double
        let latents: Int
        let fraction: Int

        /// Takes the hyper-synthesis output `raw` and computes every table index.
        init(_ raw: consuming [Int32], latents: Int, model: HyperpriorCodecModel) {
            self.raw = raw
            self.latents = latents
            fraction = model.hyperSynthesis.outputFraction
            unit = 1 / exp2(Double(fraction))
            indices = [UInt8](repeating: 0, count: latents)
            updateIndices()
        }

        @inline(__always) func mean(_ i: Int) -> Double { Double(raw[i]) * unit }

        /// Corrects the non-anchors' means and log-scales from the anchors' `symbols` and
        /// recomputes the table indices.
        mutating func correct(with context: IntegerCheckerboardContext, symbols: [Int32], height: Int, width: Int) {
            context.correct(&raw, symbols: symbols, height: height, width: width)
            updateIndices()
        }

        /// Corrects channel group `group`'s means and log-scales at one half's positions from the
        /// earlier groups' `symbols` there, and recomputes the group's table indices.
        mutating func correct(with context: IntegerChannelContext, group: Int, anchors: Bool, symbols: [Int32], height: Int, width: Int) {
            context.correct(group: group, anchors: anchors, conditions: &raw, symbols: symbols, height: height, width: width, fraction: fraction)
            let span = context.groupSize * height * width
            updateIndices(group * span..<(group + 1) * span)
        }

        private mutating func updateIndices(_ range: Range<Int>? = nil) {
            let (n, f) = (latents, fraction), range = range ?? 0..<latents
            raw.withUnsafeBufferPointer { r in
                indices.withUnsafeMutableBufferPointer { out in
                    for i in range { out[i] = UInt8(HyperpriorCodecModel.scaleIndex(logScale: r[n + i], fraction: f)) }
                }
            }
        }
    }

    /// Chooses every latent's symbol in coding order, correcting `conditions` with the model's
    /// contexts as the decoder will: without a context all at once; with a checkerboard context
    /// the anchors (channel group by channel group, each group after the first corrected by the
    /// channel context first), then the checkerboard correction, then the other positions (group
    /// by group alike). `choose(i, mean)` gives latent i's symbol once its mean is final.
    static func chooseInCodingOrder(_ conditions: inout Conditions, model: HyperpriorCodecModel, height h: Int, width w: Int,
                                    choose: (_ index: Int, _ mean: Double) throws -> Int32) throws -> [Int32] {
        let m = model.network.config.latentChannels, plane = h * w
        var symbols = [Int32](repeating: 0, count: m * plane)
        guard let context = model.context else {
            try StageTimes.measure("quantize") { for i in 0..<symbols.count { symbols[i] = try choose(i, conditions.mean(i)) } }
            return symbols
        }
        let groups = model.channelContext?.groups ?? 1, s = m / groups
        for anchors in [true, false] {
            if !anchors { StageTimes.measure("context") { conditions.correct(with: context, symbols: symbols, height: h, width: w) } }
            let positions = CheckerboardContext.positions(anchors: anchors, height: h, width: w)
            for g in 0..<groups {
                if g > 0, let channel = model.channelContext {
                    StageTimes.measure("channel context") {
                        conditions.correct(with: channel, group: g, anchors: anchors, symbols: symbols, height: h, width: w)
                    }
                }
                try StageTimes.measure("quantize") {
                    for c in (g * s)..<((g + 1) * s) {
                        for p in positions { let i = c * plane + p; symbols[i] = try choose(i, conditions.mean(i)) }
                    }
                }
            }
        }
        return symbols
    }

    /// The integer hyper-synthesis' output for z, cropped to the latent's `height x width`:
    /// `[2M, height, width]`, means then log-scales, in units of `2^-outputFraction`. Cropped
    /// in place (every row moves to a lower index), so no second copy exists.
    static func hyperOutput(zHat: [Int32], zHeight: Int, zWidth: Int, height: Int, width: Int, hyperSynthesis: IntegerHyperSynthesis) -> [Int32] {
        var out = hyperSynthesis.run(zHat, height: zHeight, width: zWidth)
        let channels = hyperSynthesis.outputChannels, outPlane = out.height * out.width
        precondition(out.height >= height && out.width >= width)
        out.values.withUnsafeMutableBufferPointer { v in
            for c in 0..<channels {
                for y in 0..<height {
                    let from = c * outPlane + y * out.width, to = (c * height + y) * width
                    if from != to { for x in 0..<width { v[to + x] = v[from + x] } }
                }
            }
        }
        out.values.removeLast(out.values.count - channels * height * width)
        return out.values
    }

    /// The anchors (`anchors` true) or the other positions of a latent `[M, h, w]` in coding
    /// order: channel-major, each plane in row-major order. Holds one plane's positions, so a
    /// large image's order costs a plane, not the latent.
    struct CodingOrder {
        let plane: [Int]
        let planeSize: Int
        init(anchors: Bool, height h: Int, width w: Int) {
            plane = CheckerboardContext.positions(anchors: anchors, height: h, width: w)
            planeSize = h * w
        }
        func count(channels m: Int) -> Int { m * plane.count }
        /// The latent index of the `k`-th symbol in this order.
        @inline(__always) func index(_ k: Int) -> Int { (k / plane.count) * planeSize + plane[k % plane.count] }
    }

    /// The level's per-channel gains, from its exact integer log-gains.
    static func gains(_ logGains: [Int64]) -> [Double] { logGains.map { exp(Double($0) / 65536) } }

    static func zSize(_ side: Int) -> Int { ((side + 1) / 2 + 1) / 2 }

    /// An encoder's refinement of the gained latent (`LatentRefinement.refineHyperprior`).
    public struct Refine {
        /// The conditions a candidate gained latent is coded with: each latent's mean and table
        /// index (with a context, those that the candidate's own symbols before it lead to).
        public typealias Conditions = (_ gained: Tensor) throws -> (means: [Double], indices: [Int])
        /// Given the gained latent `g * y`, the channels' gains, whether the conditions move
        /// with the latent, and the conditions, returns the gained latent to round instead.
        public var refine: (_ gained: Tensor, _ gains: [Double], _ conditionsMove: Bool, _ conditions: Conditions) throws -> Tensor
        public init(_ refine: @escaping (_ gained: Tensor, _ gains: [Double], _ conditionsMove: Bool, _ conditions: Conditions) throws -> Tensor) {
            self.refine = refine
        }
    }

    /// Codes the latent `y` (`[1, M, h, w]`, float) at `levelCode`. Returns the payload and the
    /// dequantized latent the decoder will reconstruct from. `refine` (`LatentRefinement`) may
    /// move the gained latent `g * y` the symbols are rounded from; z stays that of `y`.
    public static func encode(_ y: consuming Tensor, model: HyperpriorCodecModel, levelCode: Int,
                              refine: Refine? = nil) throws -> (payload: [UInt8], latent: Tensor) {
        let net = model.network, m = net.config.latentChannels
        let gains = Self.gains(try model.logGains(levelCode: levelCode))
        // The dequantized latent replaces y in y's own storage (each value read just before it
        // is overwritten), so a caller that hands y over keeps one latent-sized float buffer.
        var latent = y
        let (h, w) = (latent.h, latent.w), plane = h * w
        // The gained latent, as float32 (what h_a sees and what the symbols are taken from).
        @inline(__always) func gained(_ i: Int) -> Float { Float(Double(latent.data[i]) * gains[i / plane]) }
        func gainedLatent() -> Tensor {
            var yg = latent
            for i in 0..<yg.count { yg.data[i] = gained(i) }
            return yg
        }
        let zFloat = StageTimes.measure("hyper-analysis") { net.hyperLatent(gainedLatent()) }
        let zHat = try ImageCodec.symbols(of: zFloat)
        let zPlane = zFloat.h * zFloat.w
        let zBytes = try StageTimes.measure("rANS z") { try RANSCoder.encode(zHat, tables: model.zTables, tableIndex: { $0 / zPlane }) }
        let count = m * plane
        var conditions = StageTimes.measure("hyper-synthesis") {
            Conditions(hyperOutput(zHat: zHat, zHeight: zFloat.h, zWidth: zFloat.w, height: h, width: w,
                                   hyperSynthesis: model.hyperSynthesis), latents: count, model: model)
        }
        // What each latent's symbol is rounded from: the refined gained latent, or the gained latent.
        var targets: Tensor?
        if let refine {
            // The refinement asks for the conditions the decoder will use for a candidate latent:
            // with a context they follow the symbols coded before them. (Copies that end with each
            // call: alive later, they would make the contexts' in-place corrections of
            // `conditions` copy the hyper-synthesis output.)
            let hyperOutput = conditions
            let refined = try refine.refine(gainedLatent(), gains, model.context != nil) { u in
                var c = hyperOutput
                if model.context != nil {
                    _ = try chooseInCodingOrder(&c, model: model, height: h, width: w) { i, mean in
                        Int32(clamping: Int((Double(u.data[i]) - mean).rounded()))
                    }
                }
                return ((0..<count).map(c.mean), c.indices.map { Int($0) })
            }
            precondition(refined.count == latent.count)
            targets = refined
        }
        let target = targets?.data ?? gainedLatent().data
        let symbols = try chooseInCodingOrder(&conditions, model: model, height: h, width: w) { i, mean in
            let k = (Double(target[i]) - mean).rounded()
            guard let s = Int32(exactly: k) else { throw CodecError.notACodecModel("the model produced a non-finite or out-of-range latent") }
            return s
        }
        // The dequantized latent: each symbol plus the mean it was coded with (final once chosen).
        latent.data.withUnsafeMutableBufferPointer { out in
            for c in 0..<m {
                let g = gains[c]
                for i in (c * plane)..<((c + 1) * plane) { out[i] = Float((Double(symbols[i]) + conditions.mean(i)) / g) }
            }
        }
        var payload: [UInt8] = [UInt8(levelCode & 0xFF), UInt8(levelCode >> 8)]
        payload += littleEndian(zBytes.count) + zBytes
        if model.context != nil {
            let anchors = CodingOrder(anchors: true, height: h, width: w), anchorCount = anchors.count(channels: m)
            let anchorBytes = try StageTimes.measure("rANS anchors") {
                try RANSCoder.encode(count: anchorCount, value: { symbols[anchors.index($0)] }, tables: model.yTables,
                                     tableIndex: { Int(conditions.indices[anchors.index($0)]) })
            }
            let others = CodingOrder(anchors: false, height: h, width: w), otherCount = others.count(channels: m)
            let otherBytes = try StageTimes.measure("rANS others") {
                try RANSCoder.encode(count: otherCount, value: { symbols[others.index($0)] }, tables: model.yTables,
                                     tableIndex: { Int(conditions.indices[others.index($0)]) })
            }
            payload += littleEndian(anchorBytes.count) + anchorBytes + otherBytes
        } else {
            payload += try StageTimes.measure("rANS y") { try RANSCoder.encode(symbols, tables: model.yTables, tableIndex: { Int(conditions.indices[$0]) }) }
        }
        return (payload, latent)
    }

    static func littleEndian(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    static func readU32(_ p: [UInt8], at offset: Int) -> Int { (0..<4).reduce(0) { $0 | Int(p[offset + $1]) << (8 * $1) } }

    /// The level code a coder-5, 6 or 7 payload starts with.
    public static func levelCode(_ payload: [UInt8]) throws -> Int {
        guard payload.count >= 2 else { throw CodecError.corruptPayload("hyperprior payload of \(payload.count) bytes") }
        return Int(payload[0]) | Int(payload[1]) << 8
    }

    /// The dequantized latent `[1, M, height, width]` of a coder-5, 6 or 7 payload.
    public static func decode(_ payload: [UInt8], model: HyperpriorCodecModel, height: Int, width: Int) throws -> Tensor {
        let d = try decodeLean(payload, model: model, height: height, width: width)
        return StageTimes.measure("dequantize") {
            let plane = height * width
            var latent = Tensor(zeros: [1, model.network.config.latentChannels, height, width])
            for i in 0..<d.symbols.count { latent.data[i] = Float((Double(d.symbols[i]) + d.conditions.mean(i)) / d.gains[i / plane]) }
            return latent
        }
    }

    /// Everything a coder-5, 6 or 7 payload decodes to before the float reconstruction: z, each latent's
    /// table index, its residual symbol, and the means and gains that dequantize it.
    public static func decodeSymbols(_ payload: [UInt8], model: HyperpriorCodecModel, height: Int, width: Int) throws
        -> (zHat: [Int32], indices: [Int], symbols: [Int32], means: [Double], gains: [Double]) {
        let d = try decodeLean(payload, model: model, height: height, width: width)
        return (d.zHat, d.conditions.indices.map { Int($0) }, d.symbols, (0..<d.symbols.count).map(d.conditions.mean), d.gains)
    }

    static func decodeLean(_ payload: [UInt8], model: HyperpriorCodecModel, height: Int, width: Int) throws
        -> (zHat: [Int32], conditions: Conditions, symbols: [Int32], gains: [Double]) {
        guard payload.count >= 6 else { throw CodecError.corruptPayload("hyperprior payload of \(payload.count) bytes") }
        let levelCode = Int(payload[0]) | Int(payload[1]) << 8
        let zCount = readU32(payload, at: 2)
        guard zCount <= payload.count - 6 else { throw CodecError.corruptPayload("z stream of \(zCount) bytes overruns the payload") }
        let gains = Self.gains(try model.logGains(levelCode: levelCode))
        let net = model.network, m = net.config.latentChannels, hc = net.config.hyperChannels
        let (zh, zw) = (zSize(height), zSize(width))
        let zPlane = zh * zw, count = m * height * width
        let zHat: [Int32]
        do {
            zHat = try StageTimes.measure("rANS z") {
                try RANSCoder.decode(Array(payload[6..<(6 + zCount)]), count: hc * zPlane, tables: model.zTables, tableIndex: { $0 / zPlane })
            }
        } catch { throw CodecError.corruptPayload("z: \(error)") }
        var conditions = StageTimes.measure("hyper-synthesis") {
            Conditions(hyperOutput(zHat: zHat, zHeight: zh, zWidth: zw, height: height, width: width,
                                   hyperSynthesis: model.hyperSynthesis), latents: count, model: model)
        }
        guard let context = model.context else {
            let symbols: [Int32]
            do {
                symbols = try StageTimes.measure("rANS y") {
                    try RANSCoder.decode(Array(payload[(6 + zCount)...]), count: count, tables: model.yTables,
                                         tableIndex: { Int(conditions.indices[$0]) })
                }
            } catch { throw CodecError.corruptPayload("latents: \(error)") }
            return (zHat, conditions, symbols, gains)
        }
        let start = 6 + zCount
        guard payload.count - start >= 4 else { throw CodecError.corruptPayload("the anchor stream's length is missing") }
        let anchorCount = readU32(payload, at: start)
        guard anchorCount <= payload.count - start - 4 else { throw CodecError.corruptPayload("anchor stream of \(anchorCount) bytes overruns the payload") }
        var symbols = [Int32](repeating: 0, count: count)
        // Each half's stream channel group by channel group; with a channel context, a group's
        // conditions are corrected just before it is read.
        let groups = model.channelContext?.groups ?? 1, groupLength = m / groups
        func decodeHalf(_ bytes: ArraySlice<UInt8>, anchors isAnchors: Bool) throws {
            let order = CodingOrder(anchors: isAnchors, height: height, width: width), perGroup = groupLength * order.plane.count
            let stage = isAnchors ? "rANS anchors" : "rANS others"
            var decoder = try RANSCoder.Decoder(Array(bytes), count: order.count(channels: m))
            for g in 0..<groups {
                if g > 0, let channel = model.channelContext {
                    StageTimes.measure("channel context") {
                        conditions.correct(with: channel, group: g, anchors: isAnchors, symbols: symbols, height: height, width: width)
                    }
                }
                try StageTimes.measure(stage) {
                    for k in (g * perGroup)..<((g + 1) * perGroup) {
                        let i = order.index(k)
                        symbols[i] = try decoder.next(tables: model.yTables, index: Int(conditions.indices[i]))
                    }
                }
            }
            try decoder.finish()
        }
        do { try decodeHalf(payload[(start + 4)..<(start + 4 + anchorCount)], anchors: true) } catch {
            throw CodecError.corruptPayload("anchor latents: \(error)")
        }
        StageTimes.measure("context") { conditions.correct(with: context, symbols: symbols, height: height, width: width) }
        do { try decodeHalf(payload[(start + 4 + anchorCount)...], anchors: false) } catch {
            throw CodecError.corruptPayload("non-anchor latents: \(error)")
        }
        return (zHat, conditions, symbols, gains)
    }
}
