import Foundation
import VlatCodec
import VlatFiles
import VlatFormat
import VlatImageIO
import VlatModels
import VlatTensor

/// `CodecBench stages`: where the time of a whole encode and decode goes, and how close each
/// transform layer and the whole codec come to the machine's matrix-product rate.
///
/// Per image, the median of `repeats` runs of each stage (`StageTimes`, timed inside the codec;
/// "other" is the whole call less its stages: container, metadata, alpha, level setting), then
/// the median over images. PNG reading and writing are timed here around `ImageFile.read` and
/// `PNGCodec.encode` (the default zlib level). The layers are timed one by one on the first
/// image, whole-image (not in bands), each the median of `repeats` runs, beside the 2-thread
/// `cblas_sgemm` rate on 1024^3 sampled after each image's runs (the median: on a shared
/// machine the rate moves with the load, and so do the codec's times); a layer's rate counts its
/// multiply-accumulates (a GDN's normaliser is a C x C product per position) as 2 FLOP each.
struct StageReport {
    let markdown: String
    let csv: String

    /// `model` must be a hyperprior's (`model.hyperprior` set).
    static func run(paths: [String], model: CodecModel, quality: Double, repeats: Int, header: String) throws -> StageReport {
        let hyper = model.hyperprior!
        // The sgemm rate is sampled beside each image's runs, so that it sees the same machine.
        var sgemmSamples: [Double] = []

        // Per image: each stage's median over the repeats; the whole call's too.
        var perImage: [String: [String: [Double]]] = ["encode": [:], "decode": [:]]
        var order: [String: [String]] = ["encode": ["read PNG"], "decode": []]
        var pixels: [Double] = [], wholeEncode: [Double] = [], wholeDecode: [Double] = []
        var firstLatent: Tensor?
        for (i, path) in paths.enumerated() {
            FileHandle.standardError.write(Data("[\(i + 1)/\(paths.count)] \(path)\n".utf8))
            var image: Image?
            let read = try (0..<repeats).map { _ in try seconds { image = try ImageFile.read(path).toRGB() } }
            let img = image!
            var runs: [String: [String: [Double]]] = ["encode": ["read PNG": read], "decode": [:]]
            var whole: [String: [Double]] = ["encode": [], "decode": []]
            var bytes: [UInt8] = []
            if i == 0 { _ = try ImageCodec.decode(ImageCodec.encode(img, model: model), model: model) } // warm-up
            for _ in 0..<repeats {
                _ = StageTimes.take()
                StageTimes.isEnabled = true
                defer { StageTimes.isEnabled = false }
                let e = try seconds { bytes = try ImageCodec.encode(img, model: model).serialized() }
                record(StageTimes.take(), whole: e, into: "encode")
                var decoded: Image?
                let d = try seconds { decoded = try ImageCodec.decode(Container.parse(bytes), model: model) }
                record(StageTimes.take(), whole: d, into: "decode")
                let w = try seconds { _ = try PNGCodec.encode(decoded!) }
                runs["decode", default: [:]]["write PNG", default: []].append(w)
            }
            func record(_ stages: [(stage: String, seconds: Double)], whole total: Double, into op: String) {
                for s in stages {
                    runs[op, default: [:]][s.stage, default: []].append(s.seconds)
                    if !order[op]!.contains(s.stage) { order[op]!.append(s.stage) }
                }
                runs[op, default: [:]]["other", default: []].append(total - stages.reduce(0) { $0 + $1.seconds })
                whole[op, default: []].append(total)
            }
            for op in ["encode", "decode"] {
                for (stage, v) in runs[op]! { perImage[op]![stage, default: []].append(median(v)) }
            }
            sgemmSamples.append(sgemmRate(repeats: repeats))
            wholeEncode.append(median(whole["encode"]!))
            wholeDecode.append(median(whole["decode"]!))
            pixels.append(Double(img.pixelCount))
            if i == 0 {
                let c = try Container.parse(bytes)
                firstLatent = try HyperpriorCoding.decode(c.payload, model: hyper, height: c.header.latentHeight, width: c.header.latentWidth)
            }
        }
        let sgemm = median(sgemmSamples)
        order["encode"]!.append("other")
        order["decode"]!.append("other")
        order["decode"]!.append("write PNG")

        var md = header
        md += "Per stage, milliseconds: the median over images of each image's median of \(repeats) runs (the stages' medians need not add up to the whole's).\n\n"
        var csv = "operation,stage,median_ms\n"
        for (op, wholeTimes) in [("encode", wholeEncode), ("decode", wholeDecode)] {
            let total = median(wholeTimes) * 1000
            md += "| \(op) stage | ms | share of the whole call |\n|---|---:|---:|\n"
            for stage in order[op]! {
                guard let v = perImage[op]![stage] else { continue }
                let ms = median(v) * 1000
                let inCall = stage != "read PNG" && stage != "write PNG"
                md += "| \(stage) | \(String(format: "%.1f", ms)) | \(inCall ? String(format: "%.0f %%", 100 * ms / total) : "(outside)") |\n"
                csv += "\(op),\(stage),\(String(format: "%.2f", ms))\n"
            }
            md += "| **whole \(op) call** | **\(String(format: "%.1f", total))** | |\n\n"
            csv += "\(op),whole,\(String(format: "%.2f", total))\n"
        }

        // The model's multiply-accumulates per pixel, as the issue counts them.
        let config = hyper.network.config
        let transforms = config.transforms.macsPerPixel, hyperMacs = config.hyperMacsPerPixel
        let decodeMacs = transforms.synthesis + hyperMacs.synthesis
        let encodeMacs = transforms.analysis + hyperMacs.analysis + hyperMacs.synthesis
        let mp = median(pixels)
        func rate(_ macs: Double, _ s: Double) -> Double { 2 * macs * mp / s / 1e9 }
        let encRate = rate(encodeMacs, median(wholeEncode)), decRate = rate(decodeMacs, median(wholeDecode))
        md += "Same-run `cblas_sgemm` 1024^3 on 2 threads, sampled beside each image (median): \(String(format: "%.1f", sgemm)) GFLOP/s. "
        md += "Counting the model's multiply-accumulates (encode: analysis and hyper-analysis \(String(format: "%.1f", (transforms.analysis + hyperMacs.analysis) / 1000)) kMAC a pixel, plus the hyper-synthesis and context \(String(format: "%.1f", hyperMacs.synthesis / 1000)); "
        md += "decode: synthesis \(String(format: "%.1f", transforms.synthesis / 1000)) plus hyper-synthesis and context), "
        md += "the whole encode call runs at \(String(format: "%.1f", encRate)) GFLOP/s (**\(String(format: "%.0f", 100 * encRate / sgemm)) %** of sgemm) "
        md += "and the whole decode call at \(String(format: "%.1f", decRate)) GFLOP/s (**\(String(format: "%.0f", 100 * decRate / sgemm)) %**); "
        md += "\(String(format: "%.2f", mp / 1e6 / median(wholeEncode))) and \(String(format: "%.2f", mp / 1e6 / median(wholeDecode))) MP/s.\n\n"
        csv += "encode,gflops,\(String(format: "%.2f", encRate))\ndecode,gflops,\(String(format: "%.2f", decRate))\nsgemm,gflops,\(String(format: "%.2f", sgemm))\n"

        // Layer by layer, on the first image.
        if let latent = firstLatent, let first = paths.first {
            let image = try ImageFile.read(first).toRGB()
            let level = hyper.levelCode(quality - 1)
            hyper.network.setLevels([Double(level) / 256])
            let x = ImageTensor.tensor(from: image)
            let padded = TensorOps.padReplicate(x, toHeight: (image.height + 15) / 16 * 16, width: (image.width + 15) / 16 * 16)
            md += "Layer by layer on `\((first as NSString).lastPathComponent)` (whole-image passes, not banded; median of \(repeats)):\n\n"
            md += "| transform | layer | output | MMAC | ms | GFLOP/s | of sgemm |\n|---|---|---|---:|---:|---:|---:|\n"
            for (name, net, input) in [("analysis", hyper.network.analysis, padded), ("synthesis", hyper.network.synthesis, latent)] {
                var t = input
                for layer in net.layers {
                    let s = layer.spec
                    var out = t
                    let ms = median((0..<repeats).map { _ in seconds { out = layer.forward(t, training: false) } }) * 1000
                    let macs: Double
                    switch s.kind {
                    case .conv: macs = Double(s.inChannels * s.outChannels * s.kernel * s.kernel * out.h * out.w)
                    case .convTranspose: macs = Double(s.inChannels * s.outChannels * s.kernel * s.kernel * t.h * t.w)
                    case .gdn, .igdn: macs = Double(s.inChannels * s.inChannels * t.h * t.w)
                    default: macs = 0
                    }
                    let gflops = macs > 0 ? 2 * macs / (ms / 1000) / 1e9 : 0
                    md += "| \(name) | \(s.kind.rawValue)\(s.kernel > 0 ? " \(s.kernel)x\(s.kernel)/\(s.stride)" : "") | \(out.c)x\(out.h)x\(out.w) | "
                    md += "\(String(format: "%.0f", macs / 1e6)) | \(String(format: "%.1f", ms)) | \(macs > 0 ? String(format: "%.1f", gflops) : "") | "
                    md += "\(macs > 0 ? String(format: "%.0f %%", 100 * gflops / sgemm) : "") |\n"
                    csv += "\(name),\(s.kind.rawValue) \(out.c)x\(out.h)x\(out.w),\(String(format: "%.2f", ms))\n"
                    t = out
                }
            }
            md += "\n"
        }
        return StageReport(markdown: md, csv: csv)
    }

    /// `cblas_sgemm` on 1024^3 with 2 threads, GFLOP/s (median).
    static func sgemmRate(repeats: Int) -> Double {
        let n = 1024
        var g = SeededGenerator(seed: 1)
        let a = (0..<(n * n)).map { _ in g.uniform() }, b = (0..<(n * n)).map { _ in g.uniform() }
        var c = [Float](repeating: 0, count: n * n)
        var times: [Double] = []
        for _ in 0...repeats {
            times.append(seconds {
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                    BLAS.rawSgemm(threads: 2, m: n, n: n, k: n, a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!)
                } } }
            })
        }
        let s = times.dropFirst().sorted()  // the first run warms up
        return 2 * Double(n * n * n) / s[s.count / 2] / 1e9
    }
}
