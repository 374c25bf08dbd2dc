import Foundation
import VlatCodec
import VlatEntropy
import VlatImageIO

/// Experiment: the detail layer's coefficients coded with their tables split further by a class
/// of each block from the hyperprior's table indices at its latent position (the sum over the
/// channels, cut at quantiles of the images' own), against the plain coder, on the same symbols.
enum DetailContextExperiment {
    static func run(images: [Image], model: CodecModel, level: Double, step: Double, classCounts: [Int]) throws -> String {
        guard let hyper = model.hyperprior else { return "not a hyperprior" }
        var stripes: [(columns: Int, rows: Int, values: [Int32], activity: [Int])] = []
        var all: [Int] = []
        for image in images {
            let c = try DetailEncoder(image, model: model, level: level).container(step: step)
            let h = c.header
            let d = try HyperpriorCoding.decodeSymbols(c.payload, model: hyper, height: h.latentHeight, width: h.latentWidth)
            let (lh, lw, C) = (h.latentHeight, h.latentWidth, h.latentChannels)
            var sum = [Int](repeating: 0, count: lh * lw)
            for ch in 0..<C { for i in 0..<(lh * lw) { sum[i] += d.indices[ch * lh * lw + i] } }
            let columns = (h.width + 7) / 8
            try DetailLayer.forEachStripe(c.detail!, width: h.width, height: h.height, grey: false) { first, rows, values in
                var activity: [Int] = []
                for by in 0..<rows { for bx in 0..<columns { activity.append(sum[min((first + by) / 2, lh - 1) * lw + min(bx / 2, lw - 1)]) } }
                all += activity
                stripes.append((columns, rows, values, activity))
            }
        }
        let sorted = all.sorted()
        var out = "level \(level), step \(step), \(images.count) images\n"
        var baseline = 0
        for classes in classCounts {
            let cuts = (1..<classes).map { sorted[sorted.count * $0 / classes] }
            var total = 0
            var coder = DetailCoefficientCoder(planes: 3, blockColumns: 1, classes: classes)
            var lastColumns = -1
            for s in stripes {
                if s.columns != lastColumns || s.values.isEmpty { coder = DetailCoefficientCoder(planes: 3, blockColumns: s.columns, classes: classes); lastColumns = s.columns }
                let cls = s.activity.map { a in UInt8(cuts.filter { a >= $0 }.count) }
                total += try coder.encodeStripe(s.values, blockRows: s.rows, blockClasses: classes > 1 ? cls : nil).count
            }
            if classes == 1 { baseline = total }
            out += "classes \(classes): \(total) bytes (\(String(format: "%+.2f", 100 * Double(total - baseline) / Double(max(baseline, 1)))) %)\n"
        }
        return out
    }
}
