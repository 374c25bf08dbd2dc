import Foundation
import VlatCodec
import VlatImageIO
import VlatMetrics

/// `CodecBench detail`: the detail layer over the model's levels. For every image, base level
/// and step, the whole file's bits and the PSNR-RGB of what the decoder makes of it (the base
/// reconstruction plus `DetailLayer.apply`); means over the images. The rows with no step are
/// the levels alone. This is what `QualitySchedule`'s constants are chosen from, on the training
/// run's held-out images (`Scripts/validation_images.sh`), never on the test sets.
struct DetailReport {
    struct Row { let level: Double; let step: Double?; let rounding: Double; var trim = 0.0; var bpp = 0.0; var psnr = 0.0 }

    static func run(images: [Image], model: CodecModel, levels: [Double], steps: [Double], roundings: [Double], trims: [Double]) throws -> [Row] {
        var rows: [Row] = []
        for level in levels {
            rows.append(Row(level: level, step: nil, rounding: 0))
            for step in steps { for r in roundings { for t in trims { rows.append(Row(level: level, step: step, rounding: r, trim: t)) } } }
        }
        for (n, image) in images.enumerated() {
            FileHandle.standardError.write(Data("image \(n + 1) of \(images.count)\n".utf8))
            let pixels = Double(image.pixelCount)
            for level in levels {
                let encoder = try DetailEncoder(image, model: model, level: level)
                for i in rows.indices where rows[i].level == level {
                    let file = try rows[i].step.map { try encoder.container(step: $0, rounding: rows[i].rounding, trim: rows[i].trim) } ?? encoder.base
                    var rgb = encoder.reconstruction
                    if let detail = file.detail { try DetailLayer.apply(detail, to: &rgb, width: image.width, height: image.height, grey: false) }
                    let decoded = Image(width: image.width, height: image.height, layout: .rgb, pixels: rgb)
                    rows[i].bpp += Double(file.serialized().count * 8) / pixels / Double(images.count)
                    rows[i].psnr += try PSNR.compute(reference: image, distorted: decoded).rgb / Double(images.count)
                }
            }
        }
        return rows
    }
}
