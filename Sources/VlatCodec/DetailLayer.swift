import VlatEntropy

/// The detail layer: what the network's reconstruction missed, coded as quantized 8x8 DCT
/// blocks of the residual, for the qualities above what the transforms can reach alone.
///
/// The synthesis of a narrow network trained on a 2-core machine saturates: its top levels
/// spend rate on latents it cannot turn into detail, while the residual it leaves is fine texture
/// that a block transform codes cheaply. So the high qualities code a middle level of the model
/// and add this layer, in a `DETL` chunk (docs/FORMAT.md). The residual against the 8-bit base
/// image (as the decoder reconstructs it) goes through an orthonormal colour transform (an
/// average and two differences; grey images have one plane) and the orthonormal 8x8 DCT, is
/// quantized with one uniform `step` (in sample units, so one step for all planes is what
/// minimises the squared error), and is coded by `DetailCoefficientCoder` in stripes of
/// `stripeBlockRows` block rows. The decoder adds `q x step` back through the inverses, rounds
/// and clamps. Symbols depend on integers only; the floating point reconstruction moves a sample
/// by at most one level between machines, as the synthesis' does.
///
/// ```swift
/// let data = try DetailLayer.encode(original: image.rgbSamples(), base: rgb, width: w, height: h, grey: false, step: 12)
/// try DetailLayer.apply(data, to: &rgb, width: w, height: h, grey: false)
/// ```
public enum DetailLayer {
    /// The only method: the DCT layer described above.
    public static let method: UInt8 = 0
    /// Block rows per rANS stream: a bounded buffer however large the image.
    public static let stripeBlockRows = 16
    /// Steps are stored as u16 counts of 1/16 of a sample level.
    public static let stepUnits = 16.0
    /// The encoder's rounding offset: `q = sign(X) floor(|X| / step + rounding)`. Below 1/2 it
    /// rounds small coefficients towards zero, which saves more rate than it costs distortion.
    public static let defaultRounding = 0.35

    static let s3 = 3.0.squareRoot(), s2 = 2.0.squareRoot(), s6 = 6.0.squareRoot()

    /// The stored code of `step` (at least 1/16, at most 4096).
    public static func stepCode(_ step: Double) -> Int { min(max(Int((step * stepUnits).rounded()), 1), Int(UInt16.max)) }

    /// Memory the layer needs beside the image's pixels: one stripe's coefficients.
    public static func stripeBytes(width: Int) -> Int {
        (width + 7) / 8 * stripeBlockRows * 3 * DetailCoefficientCoder.coefficients * 4
    }

    /// The `DETL` chunk data for `original` over `base` (both interleaved RGB, grey replicated,
    /// `width` x `height`), quantized with `step` (sample levels).
    public static func encode(original: [UInt8], base: [UInt8], width: Int, height: Int, grey: Bool, step: Double,
                              rounding: Double = defaultRounding) throws -> [UInt8] {
        precondition(original.count == 3 * width * height && base.count == original.count)
        let planes = grey ? 1 : 3, code = stepCode(step)
        let delta = Double(code) / stepUnits
        let columns = (width + 7) / 8
        var out: [UInt8] = [method, UInt8(planes), UInt8(code & 0xFF), UInt8(code >> 8)]
        var coder = DetailCoefficientCoder(planes: planes, blockColumns: columns)
        var block = [Double](repeating: 0, count: 3 * 64), coefficients = [Double](repeating: 0, count: 64)
        for firstRow in stride(from: 0, to: (height + 7) / 8, by: stripeBlockRows) {
            let rows = min(stripeBlockRows, (height + 7) / 8 - firstRow)
            var values = [Int32](repeating: 0, count: rows * columns * planes * 64)
            for by in 0..<rows {
                for bx in 0..<columns {
                    // The residual, edge samples repeated past the image.
                    for i in 0..<64 {
                        let y = min((firstRow + by) * 8 + i / 8, height - 1), x = min(bx * 8 + i % 8, width - 1)
                        let at = 3 * (y * width + x)
                        let r = Double(Int(original[at]) - Int(base[at]))
                        if grey { block[i] = r; continue }
                        let g = Double(Int(original[at + 1]) - Int(base[at + 1])), b = Double(Int(original[at + 2]) - Int(base[at + 2]))
                        block[i] = (r + g + b) / s3
                        block[64 + i] = (r - g) / s2
                        block[128 + i] = (r + g - 2 * b) / s6
                    }
                    for p in 0..<planes {
                        block.withUnsafeBufferPointer { b in coefficients.withUnsafeMutableBufferPointer { BlockDCT.forward(b.baseAddress! + 64 * p, $0.baseAddress!) } }
                        let at = ((by * columns + bx) * planes + p) * 64
                        for k in 0..<64 {
                            let v = coefficients[DetailCoefficientCoder.zigzag[k]]
                            let q = Int32((abs(v) / delta + rounding).rounded(.down))
                            values[at + k] = v < 0 ? -q : q
                        }
                    }
                }
            }
            let stream = try coder.encodeStripe(values, blockRows: rows)
            for b in 0..<4 { out.append(UInt8(truncatingIfNeeded: stream.count >> (8 * b))) }
            out.append(contentsOf: stream)
        }
        return out
    }

    /// The layer's step and plane count, from the chunk data's first four bytes.
    public static func parameters(_ data: [UInt8]) throws -> (step: Double, planes: Int) {
        guard data.count >= 4 else { throw CodecError.corruptPayload("detail layer: shorter than its header") }
        guard data[0] == method else { throw CodecError.corruptPayload("detail layer: unknown method \(data[0])") }
        let planes = Int(data[1]), code = Int(data[2]) | Int(data[3]) << 8
        guard planes == 1 || planes == 3 else { throw CodecError.corruptPayload("detail layer: \(planes) planes") }
        guard code >= 1 else { throw CodecError.corruptPayload("detail layer: step 0") }
        return (Double(code) / stepUnits, planes)
    }

    /// The layer's quantized coefficients, stripe by stripe: `body` gets each stripe's first
    /// block row, its block rows, and its coefficients (block rows x block columns x planes x 64,
    /// zigzag order). Checks the header against the image (`grey`: one plane) and every length.
    public static func forEachStripe(_ data: [UInt8], width: Int, height: Int, grey: Bool,
                                     _ body: (_ firstRow: Int, _ rows: Int, _ values: [Int32]) throws -> Void) throws {
        let planes = try parameters(data).planes
        guard planes == (grey ? 1 : 3) else {
            throw CodecError.corruptPayload("detail layer: \(planes) planes for a \(grey ? "grey" : "colour") image")
        }
        var coder = DetailCoefficientCoder(planes: planes, blockColumns: (width + 7) / 8)
        var position = 4
        for firstRow in stride(from: 0, to: (height + 7) / 8, by: stripeBlockRows) {
            let rows = min(stripeBlockRows, (height + 7) / 8 - firstRow)
            guard position + 4 <= data.count else { throw CodecError.corruptPayload("detail layer: truncated") }
            let length = (0..<4).reduce(0) { $0 | Int(data[position + $1]) << (8 * $1) }
            position += 4
            guard length <= data.count - position else { throw CodecError.corruptPayload("detail layer: truncated") }
            let values: [Int32]
            do { values = try coder.decodeStripe(Array(data[position..<position + length]), blockRows: rows) } catch {
                throw CodecError.corruptPayload("detail layer: \(error)")
            }
            position += length
            try body(firstRow, rows, values)
        }
        guard position == data.count else { throw CodecError.corruptPayload("detail layer: \(data.count - position) bytes after its last stripe") }
    }

    /// Adds the layer in `data` to `rgb` (interleaved RGB, grey replicated, `width` x `height`).
    public static func apply(_ data: [UInt8], to rgb: inout [UInt8], width: Int, height: Int, grey: Bool) throws {
        let (delta, planes) = try parameters(data)
        let columns = (width + 7) / 8
        var coefficients = [Double](repeating: 0, count: 64), block = [Double](repeating: 0, count: 3 * 64)
        try forEachStripe(data, width: width, height: height, grey: grey) { firstRow, rows, values in
            for by in 0..<rows {
                for bx in 0..<columns {
                    for p in 0..<planes {
                        let at = ((by * columns + bx) * planes + p) * 64
                        for k in 0..<64 { coefficients[DetailCoefficientCoder.zigzag[k]] = Double(values[at + k]) * delta }
                        coefficients.withUnsafeBufferPointer { c in block.withUnsafeMutableBufferPointer { BlockDCT.inverse(c.baseAddress!, $0.baseAddress! + 64 * p) } }
                    }
                    for i in 0..<64 {
                        let y = (firstRow + by) * 8 + i / 8, x = bx * 8 + i % 8
                        guard y < height, x < width else { continue }
                        let at = 3 * (y * width + x)
                        if grey {
                            let v = sample(Double(rgb[at]) + block[i])
                            rgb[at] = v; rgb[at + 1] = v; rgb[at + 2] = v
                            continue
                        }
                        let a = block[i] / s3, d = block[64 + i] / s2, e = block[128 + i] / s6
                        rgb[at] = sample(Double(rgb[at]) + a + d + e)
                        rgb[at + 1] = sample(Double(rgb[at + 1]) + a - d + e)
                        rgb[at + 2] = sample(Double(rgb[at + 2]) + a - 2 * e)
                    }
                }
            }
        }
    }

    /// Rounded half away from zero, clamped to [0, 255].
    @inline(__always)
    static func sample(_ v: Double) -> UInt8 { UInt8(min(max(v.rounded(), 0), 255)) }
}
