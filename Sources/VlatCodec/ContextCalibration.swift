import Foundation
import VlatFormat
import VlatImageIO
import VlatModels
import VlatTensor

/// The integer forms of a hyperprior's contexts (`IntegerCheckerboardContext`,
/// `IntegerChannelContext`), each calibrated on what the codec will feed it: the calibration
/// images' latents at every level go through the coding order (`HyperpriorCoding`) in integers,
/// each context quantized on the conditions and symbols the integer contexts before it leave,
/// then applied to them.
enum ContextCalibration {
    /// One calibration image at one level, as the codec holds it.
    struct Item {
        let gained: Tensor
        var conditions: [Int32]
        var symbols: [Int32]
        var height: Int { gained.h }
        var width: Int { gained.w }
        var sample: (symbols: [Int32], conditions: [Int32], height: Int, width: Int) { (symbols, conditions, height, width) }
    }

    /// The model-file entries of `net`'s integer contexts, for the integer hyper-synthesis
    /// `hyperSynthesis`, from the calibration images and their z (`zs`, image-major, every level).
    static func integerContexts(of net: MeanScaleHyperprior, hyperSynthesis: IntegerHyperSynthesis, calibration: [Image], zs: [Tensor]) throws
        -> [ModelFile.Entry] {
        guard let context = net.context else { return [] }
        let m = net.config.latentChannels, f = hyperSynthesis.outputFraction, unit = exp2(-Double(f))
        var items: [Item] = []
        var k = 0
        for image in calibration {
            let x = ImageCodec.paddedTensor(image)
            for level in 0..<net.config.levels {
                defer { k += 1 }
                net.setLevels([Double(level)])
                let yg = net.gainedLatent(net.analysis.forward(x, training: false), levels: [Double(level)])
                let z = zs[k]
                let raw = HyperpriorCoding.hyperOutput(zHat: try ImageCodec.symbols(of: z), zHeight: z.h, zWidth: z.w, height: yg.h, width: yg.w,
                                                       hyperSynthesis: hyperSynthesis)
                items.append(Item(gained: yg, conditions: raw, symbols: [Int32](repeating: 0, count: m * yg.h * yg.w)))
            }
        }
        // The symbols of `channels` at one half, from the current means.
        func choose(_ channels: Range<Int>, anchors: Bool) {
            for n in items.indices {
                let (h, w) = (items[n].height, items[n].width), plane = h * w
                for c in channels {
                    for p in CheckerboardContext.positions(anchors: anchors, height: h, width: w) {
                        let i = c * plane + p
                        items[n].symbols[i] = Int32(clamping: Int((Double(items[n].gained.data[i]) - Double(items[n].conditions[i]) * unit).rounded()))
                    }
                }
            }
        }
        let channel = net.channelContext
        let groups = channel?.groups ?? 1, s = m / groups
        var anchorNets: [IntegerHyperSynthesis] = [], otherNets: [IntegerHyperSynthesis] = []
        var entries: [ModelFile.Entry] = []
        for anchors in [true, false] {
            if !anchors {
                let integer = try IntegerCheckerboardContext.quantize(context, conditionFraction: f, calibration: items.map(\.sample))
                for n in items.indices {
                    integer.correct(&items[n].conditions, symbols: items[n].symbols, height: items[n].height, width: items[n].width)
                }
                entries += integer.entries
            }
            choose(0..<s, anchors: anchors)
            for g in 1..<groups {
                guard let channel else { break }
                let float = (anchors ? channel.anchorNetworks : channel.otherNetworks)[g - 1]
                let integer = try IntegerChannelContext.quantize(float, group: g, anchors: anchors, groupSize: s, conditionFraction: f,
                                                                 calibration: items.map(\.sample))
                for n in items.indices {
                    IntegerChannelContext.correct(integer, group: g, anchors: anchors, groupSize: s, conditions: &items[n].conditions,
                                                  symbols: items[n].symbols, height: items[n].height, width: items[n].width, fraction: f,
                                                  inputShift: IntegerChannelContext.inputShift(conditionFraction: f))
                }
                if anchors { anchorNets.append(integer) } else { otherNets.append(integer) }
                choose((g * s)..<((g + 1) * s), anchors: anchors)
            }
        }
        if channel != nil {
            entries += try IntegerChannelContext(anchorNetworks: anchorNets, otherNetworks: otherNets, latentChannels: m, groups: groups,
                                                 inputShift: IntegerChannelContext.inputShift(conditionFraction: f)).entries
        }
        return entries
    }
}
