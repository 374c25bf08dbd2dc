import Foundation
import VlatEntropy
import VlatFormat
import VlatModels
import VlatTensor

/// The payload of header coder 5: a mean-scale hyperprior's side information and latents.
///
/// ```
/// u16 level code (level * 256, level 0-based)   u32 z stream bytes   z stream   y stream
/// ```
/// Both streams are `RANSCoder` streams. With `g` the level's per-channel gains, z
/// (`[hyperChannels, ceil(h/4), ceil(w/4)]` for an `h x w` latent) is `round(h_a(g * y))`,
/// coded channel-major with channel c's table of `zTables`. The integer hyper-synthesis turns
/// z into integer means and log-scales of `g * y`; each latent's table is the scale index of
/// its log-scale, and its symbol is `round(g * y - mean)`. The decoder inverts:
/// `y^ = (symbol + mean) / g`. Only the float reconstruction depends on the machine's
/// arithmetic, never which symbols are read.
public enum HyperpriorCoding {
    /// The conditions of a latent `[M, h, w]` from integer z `[hyperChannels, zh, zw]`: each
    /// symbol's table index, and its mean (of the gained latent) as an integer in units of
    /// `unit` (`mean = Double(mean) * unit`, exact), kept as integers so that a large image's
    /// conditions take 5 bytes a latent.
    struct Conditions {
        var indices: [UInt8]
        var means: [Int32]
        var unit: Double
        @inline(__always) func mean(_ i: Int) -> Double { Double(means[i]) * unit }
    }

    static func conditions(zHat: [Int32], zHeight: Int, zWidth: Int, height: Int, width: Int,
                           model: HyperpriorCodecModel) -> Conditions {
        let m = model.network.config.latentChannels
        let out = model.hyperSynthesis.run(zHat, height: zHeight, width: zWidth)
        let fraction = model.hyperSynthesis.outputFraction
        let plane = height * width, outPlane = out.height * out.width
        var indices = [UInt8](repeating: 0, count: m * plane)
        var means = [Int32](repeating: 0, count: m * plane)
        for c in 0..<m {
            for y in 0..<height {
                for x in 0..<width {
                    let i = (c * height + y) * width + x, o = y * out.width + x
                    means[i] = out.values[c * outPlane + o]
                    indices[i] = UInt8(HyperpriorCodecModel.scaleIndex(logScale: out.values[(m + c) * outPlane + o], fraction: fraction))
                }
            }
        }
        return Conditions(indices: indices, means: means, unit: 1 / exp2(Double(fraction)))
    }

    /// The level's per-channel gains, from its exact integer log-gains.
    static func gains(_ logGains: [Int64]) -> [Double] { logGains.map { exp(Double($0) / 65536) } }

    static func zSize(_ side: Int) -> Int { ((side + 1) / 2 + 1) / 2 }

    /// Codes the latent `y` (`[1, M, h, w]`, float) at `levelCode`. Returns the payload and the
    /// dequantized latent the decoder will reconstruct from. `refine`, given the gained latent,
    /// its means and table indices and the channels' gains, may choose other residual symbols
    /// (integer-valued) than `round(g * y - mean)` (`LatentRefinement`); z stays that of `y`.
    public static func encode(_ y: Tensor, model: HyperpriorCodecModel, levelCode: Int,
                              refine: ((_ gained: Tensor, _ means: [Double], _ indices: [Int], _ gains: [Double]) -> [Double])? = nil)
        throws -> (payload: [UInt8], latent: Tensor) {
        let net = model.network, m = net.config.latentChannels
        let gains = Self.gains(try model.logGains(levelCode: levelCode))
        let plane = y.h * y.w
        // The gained latent, as float32 (what h_a sees and what the symbols are taken from).
        @inline(__always) func gained(_ i: Int) -> Float { Float(Double(y.data[i]) * gains[i / plane]) }
        func gainedLatent() -> Tensor {
            var yg = y
            for i in 0..<yg.count { yg.data[i] = gained(i) }
            return yg
        }
        let zFloat = net.hyperLatent(gainedLatent())
        let zHat = try ImageCodec.symbols(of: zFloat)
        let zPlane = zFloat.h * zFloat.w
        let zBytes = try RANSCoder.encode(zHat, tables: model.zTables, tableIndex: { $0 / zPlane })
        let conditions = conditions(zHat: zHat, zHeight: zFloat.h, zWidth: zFloat.w, height: y.h, width: y.w, model: model)
        let refined = refine?(gainedLatent(), (0..<y.count).map(conditions.mean), conditions.indices.map { Int($0) }, gains)
        precondition(refined == nil || refined!.count == y.count)
        var symbols = [Int32](repeating: 0, count: m * plane)
        var latent = Tensor(zeros: y.shape)
        for i in 0..<symbols.count {
            let mean = conditions.mean(i)
            let k = refined?[i] ?? (Double(gained(i)) - mean).rounded()
            guard let s = Int32(exactly: k) else { throw CodecError.notACodecModel("the model produced a non-finite or out-of-range latent") }
            symbols[i] = s
            latent.data[i] = Float((k + mean) / gains[i / plane])
        }
        let yBytes = try RANSCoder.encode(symbols, tables: model.yTables, tableIndex: { Int(conditions.indices[$0]) })
        var payload: [UInt8] = [UInt8(levelCode & 0xFF), UInt8(levelCode >> 8)]
        for b in 0..<4 { payload.append(UInt8(truncatingIfNeeded: zBytes.count >> (8 * b))) }
        return (payload + zBytes + yBytes, latent)
    }

    /// The level code a coder-5 payload starts with.
    public static func levelCode(_ payload: [UInt8]) throws -> Int {
        guard payload.count >= 2 else { throw CodecError.corruptPayload("hyperprior payload of \(payload.count) bytes") }
        return Int(payload[0]) | Int(payload[1]) << 8
    }

    /// The dequantized latent `[1, M, height, width]` of a coder-5 payload.
    public static func decode(_ payload: [UInt8], model: HyperpriorCodecModel, height: Int, width: Int) throws -> Tensor {
        let d = try decodeLean(payload, model: model, height: height, width: width)
        let plane = height * width
        var latent = Tensor(zeros: [1, model.network.config.latentChannels, height, width])
        for i in 0..<d.symbols.count { latent.data[i] = Float((Double(d.symbols[i]) + d.conditions.mean(i)) / d.gains[i / plane]) }
        return latent
    }

    /// Everything a coder-5 payload decodes to before the float reconstruction: z, each latent's
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
        let zCount = (0..<4).reduce(0) { $0 | Int(payload[2 + $1]) << (8 * $1) }
        guard zCount <= payload.count - 6 else { throw CodecError.corruptPayload("z stream of \(zCount) bytes overruns the payload") }
        let gains = Self.gains(try model.logGains(levelCode: levelCode))
        let net = model.network, m = net.config.latentChannels, hc = net.config.hyperChannels
        let (zh, zw) = (zSize(height), zSize(width))
        let zPlane = zh * zw
        let zHat: [Int32], symbols: [Int32]
        do {
            zHat = try RANSCoder.decode(Array(payload[6..<(6 + zCount)]), count: hc * zPlane, tables: model.zTables, tableIndex: { $0 / zPlane })
        } catch { throw CodecError.corruptPayload("z: \(error)") }
        let conditions = conditions(zHat: zHat, zHeight: zh, zWidth: zw, height: height, width: width, model: model)
        do {
            symbols = try RANSCoder.decode(Array(payload[(6 + zCount)...]), count: m * height * width, tables: model.yTables,
                                           tableIndex: { Int(conditions.indices[$0]) })
        } catch { throw CodecError.corruptPayload("latents: \(error)") }
        return (zHat, conditions, symbols, gains)
    }
}
