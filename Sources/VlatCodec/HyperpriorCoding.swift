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
/// Both streams are `RANSCoder` streams. z (`[hyperChannels, ceil(h/4), ceil(w/4)]` for an
/// `h x w` latent) is coded channel-major with channel c's table of `zTables`. The integer
/// hyper-synthesis turns z into integer means and log-scales; each latent's table is the
/// scale index of its log-scale plus its channel's log-gain at the level, and its symbol is
/// `round(g * y - g * mean)`. The decoder inverts: `y^ = (symbol + g * mean) / g`. Only the
/// float reconstruction depends on the machine's arithmetic, never which symbols are read.
public enum HyperpriorCoding {
    /// The symbols' table indices and the gained means `g * mean` (float64) of a latent
    /// `[M, h, w]`, from integer z `[hyperChannels, zh, zw]`.
    static func conditions(zHat: [Int32], zHeight: Int, zWidth: Int, height: Int, width: Int,
                           model: HyperpriorCodecModel, logGains: [Int64]) -> (indices: [Int], gainedMeans: [Double], gains: [Double]) {
        let m = model.network.config.latentChannels
        let out = model.hyperSynthesis.run(zHat, height: zHeight, width: zWidth)
        let fraction = model.hyperSynthesis.outputFraction
        let plane = height * width, outPlane = out.height * out.width
        let gains = logGains.map { exp(Double($0) / 65536) }
        var indices = [Int](repeating: 0, count: m * plane)
        var means = [Double](repeating: 0, count: m * plane)
        let unit = 1 / exp2(Double(fraction))
        for c in 0..<m {
            for y in 0..<height {
                for x in 0..<width {
                    let i = (c * height + y) * width + x, o = y * out.width + x
                    means[i] = Double(out.values[c * outPlane + o]) * unit * gains[c]
                    indices[i] = HyperpriorCodecModel.scaleIndex(logScale: out.values[(m + c) * outPlane + o], fraction: fraction,
                                                                 logGain: logGains[c])
                }
            }
        }
        return (indices, means, gains)
    }

    static func zSize(_ side: Int) -> Int { ((side + 1) / 2 + 1) / 2 }

    /// Codes the latent `y` (`[1, M, h, w]`, float) at `levelCode`. Returns the payload and the
    /// dequantized latent the decoder will reconstruct from.
    public static func encode(_ y: Tensor, model: HyperpriorCodecModel, levelCode: Int) throws -> (payload: [UInt8], latent: Tensor) {
        let net = model.network, m = net.config.latentChannels
        let logGains = try model.logGains(levelCode: levelCode)
        let zFloat = net.hyperLatent(y)
        let zHat = try ImageCodec.symbols(of: zFloat)
        let zPlane = zFloat.h * zFloat.w
        let zBytes = try RANSCoder.encode(zHat, tables: model.zTables, tableIndex: { $0 / zPlane })
        let (indices, means, gains) = conditions(zHat: zHat, zHeight: zFloat.h, zWidth: zFloat.w, height: y.h, width: y.w,
                                                 model: model, logGains: logGains)
        let plane = y.h * y.w
        var symbols = [Int32](repeating: 0, count: m * plane)
        var latent = Tensor(zeros: y.shape)
        for i in 0..<symbols.count {
            let g = gains[i / plane]
            let k = (Double(y.data[i]) * g - means[i]).rounded()
            guard let s = Int32(exactly: k) else { throw CodecError.notACodecModel("the model produced a non-finite or out-of-range latent") }
            symbols[i] = s
            latent.data[i] = Float((k + means[i]) / g)
        }
        let yBytes = try RANSCoder.encode(symbols, tables: model.yTables, tableIndex: { indices[$0] })
        var payload: [UInt8] = [UInt8(levelCode & 0xFF), UInt8(levelCode >> 8)]
        for b in 0..<4 { payload.append(UInt8(truncatingIfNeeded: zBytes.count >> (8 * b))) }
        return (payload + zBytes + yBytes, latent)
    }

    /// The dequantized latent `[1, M, height, width]` of a coder-5 payload.
    public static func decode(_ payload: [UInt8], model: HyperpriorCodecModel, height: Int, width: Int) throws -> Tensor {
        let d = try decodeSymbols(payload, model: model, height: height, width: width)
        let plane = height * width
        var latent = Tensor(zeros: [1, model.network.config.latentChannels, height, width])
        for i in 0..<d.symbols.count { latent.data[i] = Float((Double(d.symbols[i]) + d.gainedMeans[i]) / d.gains[i / plane]) }
        return latent
    }

    /// Everything a coder-5 payload decodes to before the float reconstruction: z, each latent's
    /// table index, its residual symbol, and the gained means and gains that dequantize it.
    public static func decodeSymbols(_ payload: [UInt8], model: HyperpriorCodecModel, height: Int, width: Int) throws
        -> (zHat: [Int32], indices: [Int], symbols: [Int32], gainedMeans: [Double], gains: [Double]) {
        guard payload.count >= 6 else { throw CodecError.corruptPayload("hyperprior payload of \(payload.count) bytes") }
        let levelCode = Int(payload[0]) | Int(payload[1]) << 8
        let zCount = (0..<4).reduce(0) { $0 | Int(payload[2 + $1]) << (8 * $1) }
        guard zCount <= payload.count - 6 else { throw CodecError.corruptPayload("z stream of \(zCount) bytes overruns the payload") }
        let logGains = try model.logGains(levelCode: levelCode)
        let net = model.network, m = net.config.latentChannels, hc = net.config.hyperChannels
        let (zh, zw) = (zSize(height), zSize(width))
        let zPlane = zh * zw
        let zHat: [Int32], symbols: [Int32]
        do {
            zHat = try RANSCoder.decode(Array(payload[6..<(6 + zCount)]), count: hc * zPlane, tables: model.zTables, tableIndex: { $0 / zPlane })
        } catch { throw CodecError.corruptPayload("z: \(error)") }
        let (indices, means, gains) = conditions(zHat: zHat, zHeight: zh, zWidth: zw, height: height, width: width,
                                                 model: model, logGains: logGains)
        do {
            symbols = try RANSCoder.decode(Array(payload[(6 + zCount)...]), count: m * height * width, tables: model.yTables,
                                           tableIndex: { indices[$0] })
        } catch { throw CodecError.corruptPayload("latents: \(error)") }
        return (zHat, indices, symbols, means, gains)
    }
}
