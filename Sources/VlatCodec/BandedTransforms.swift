import VlatImageIO
import VlatTensor

/// The codec's analysis and synthesis transforms run over an image in bands of rows
/// (`BandedInference`), so that the float activations of a large photo are never all in memory
/// at once: the analysis reads the 8-bit image a band at a time, the synthesis writes 8-bit
/// pixels a band at a time. The results are the whole-image pass's, bit for bit.
enum BandedTransforms {
    /// The largest activation of a band (N channels at half resolution, the transforms' widest
    /// layer) is kept near this size; an image narrow enough is one band.
    static let bandBytes = 64 << 20

    /// Output rows per band, a multiple of `ImageCodec.paddingMultiple`: `bytesPerRow` is what one
    /// output row costs in the widest activation.
    static func bandRows(bytesPerRow: Int, budget: Int = bandBytes) -> Int {
        let m = ImageCodec.paddingMultiple
        return max(m, budget / max(1, bytesPerRow) / m * m)
    }

    /// Rows `rows` of `image` padded by edge replication to `paddedWidth` and `paddedHeight`,
    /// as `[1, 3, rows.count, paddedWidth]` in [0, 1] (grey replicated, alpha dropped), with
    /// the same values as `ImageTensor.tensor(from:)` of the padded image.
    static func tensor(_ image: Image, rows: Range<Int>, paddedWidth: Int) -> Tensor {
        let (w, c) = (image.width, image.layout.channels)
        var t = Tensor(zeros: [1, 3, rows.count, paddedWidth])
        let plane = rows.count * paddedWidth
        image.pixels.withUnsafeBufferPointer { src in
            t.data.withUnsafeMutableBufferPointer { dst in
                for (r, y) in rows.enumerated() {
                    let line = min(y, image.height - 1) * w * c
                    for x in 0..<paddedWidth {
                        let p = line + min(x, w - 1) * c
                        for k in 0..<3 {
                            dst[k * plane + r * paddedWidth + x] = PixelScale.value(src[p + (image.layout.isGrey ? 0 : k)])
                        }
                    }
                }
            }
        }
        return t
    }

    /// `analysis` of `image` padded by edge replication to multiples of 16: `[1, M, H/16, W/16]`.
    /// Level modulations, if any, must already be set.
    static func analyze(_ image: Image, with analysis: Sequential, channels: Int, budget: Int = bandBytes) -> Tensor {
        let (ph, pw) = (ImageCodec.padded(image.height), ImageCodec.padded(image.width))
        let bands = BandedInference(analysis)
        let down = ImageCodec.paddingMultiple
        // One latent row is 16 image rows, 8 rows of the first layer's N channels at half width.
        let latentRows = max(1, budget / max(1, down / 2 * channels * pw / 2 * 4))
        var latent: Tensor?
        bands.forEachBand(inputHeight: ph, bandRows: latentRows, input: { tensor(image, rows: $0, paddedWidth: pw) }) { rows, out in
            if latent == nil { latent = Tensor(zeros: [1, out.c, ph / down, out.w]) }
            let plane = latent!.h * out.w, band = rows.count * out.w
            for c in 0..<out.c {
                latent!.data.replaceSubrange((c * plane + rows.lowerBound * out.w)..<(c * plane + rows.upperBound * out.w),
                                             with: out.data[(c * band)..<((c + 1) * band)])
            }
        }
        return latent!
    }

    /// The 8-bit interleaved RGB of `synthesis(latent)`, cropped to `width` x `height` (with
    /// `grey`, each pixel the rounded mean of its channels: `ImageTensor.rgb`).
    static func synthesize(_ latent: Tensor, with synthesis: Sequential, channels: Int, width: Int, height: Int, grey: Bool,
                           budget: Int = bandBytes) -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        synthesizeBands(latent, with: synthesis, channels: channels, width: width, height: height, grey: grey, budget: budget) { rows, pixels in
            rgb.replaceSubrange((rows.lowerBound * width * 3)..<(rows.upperBound * width * 3), with: pixels)
        }
        return rgb
    }

    /// `synthesize`, handing over each band of rows (top to bottom) as it is made instead of
    /// keeping the image: `body` gets the band's rows and their interleaved RGB.
    static func synthesizeBands(_ latent: Tensor, with synthesis: Sequential, channels: Int, width: Int, height: Int, grey: Bool,
                                budget: Int = bandBytes, _ body: (_ rows: Range<Int>, _ pixels: [UInt8]) throws -> Void) rethrows {
        let bands = BandedInference(synthesis)
        let pw = latent.w * ImageCodec.paddingMultiple
        // One output row is half a row of the last hidden layer's N channels at half width.
        let rowsPerBand = bandRows(bytesPerRow: channels * pw / 2 * 4 / 2, budget: budget)
        for first in stride(from: 0, to: height, by: rowsPerBand) {
            let rows = first..<min(height, first + rowsPerBand)
            let out = bands.forward(rows: rows, inputHeight: latent.h, input: { BandedInference.rows(latent, $0) })
            try body(rows, ImageTensor.rgb(from: TensorOps.crop(out, height: rows.count, width: width), grey: grey))
        }
    }
}
