import VlatEntropy
import VlatTensor

/// The detail layer: what the network's reconstruction missed, coded as quantized 8x8 DCT
/// blocks of the residual, for the qualities above what the transforms can reach alone.
///
/// The shipped network's synthesis saturates: its top levels spend rate on latents it cannot
/// turn into detail, while the residual it leaves is fine texture
/// that a block transform codes cheaply. So the high qualities code a middle level of the model
/// and add this layer, in a `DETL` chunk (docs/FORMAT.md). The residual against the 8-bit base
/// image (as the decoder reconstructs it) goes through an orthonormal colour transform (an
/// average and two differences; grey images have one plane) and the orthonormal 8x8 DCT, is
/// quantized with one uniform `step` (in sample units, so one step for all planes is what
/// minimises the squared error), and is coded by `DetailCoefficientCoder` in stripes of
/// `stripeBlockRows` block rows. The decoder adds `q x step` back through the inverses, rounds
/// and clamps. Symbols depend on integers only; the floating point reconstruction may move a
/// sample by a level between machines, as the synthesis' may.
///
/// ```swift
/// let data = try DetailLayer.encode(original: image.rgbSamples(), base: rgb, width: w, height: h, grey: false, step: 12)
/// try DetailLayer.apply(data, to: &rgb, width: w, height: h, grey: false)
/// ```
public enum DetailLayer {
    /// The method a writer writes: the DCT layer described above, its coder's tables starting
    /// shaped like real residuals' symbols (1). Method 0, the same with flat starting tables, is
    /// read too (files written before).
    public static let method: UInt8 = 1

    /// The coder's starting tables of a method (nil: a method this reader does not know).
    static func start(method: UInt8) -> DetailCoefficientCoder.Start? {
        switch method {
        case 0: return .flat
        case 1: return .shaped
        default: return nil
        }
    }
    /// Block rows per rANS stream: a bounded buffer however large the image.
    public static let stripeBlockRows = 16
    /// Steps are stored as u16 counts of 1/16 of a sample level.
    public static let stepUnits = 16.0
    /// The encoder's rounding offset: `q = sign(X) floor(|X| / step + rounding)`. Below 1/2 it
    /// rounds small coefficients towards zero, which saves more rate than it costs distortion.
    public static let defaultRounding = 0.35

    /// The encoder's trimming of trailing ones (0: none): what a bit is worth, in squared steps
    /// (`Benchmarks/codec/detail/trim.md`).
    public static let defaultTrim = 0.12
    /// Rough costs of a trailing +-1 (magnitude and sign) and of a zero before it, in bits.
    static let trailingOneBits = 4.0, zeroBits = 0.3

    static let s3 = 3.0.squareRoot(), s2 = 2.0.squareRoot(), s6 = 6.0.squareRoot()

    /// The stored code of `step` (at least 1/16, at most 4096).
    public static func stepCode(_ step: Double) -> Int { min(max(Int((step * stepUnits).rounded()), 1), Int(UInt16.max)) }

    /// Memory the layer needs beside the image's pixels: one stripe's coefficients.
    public static func stripeBytes(width: Int) -> Int {
        (width + 7) / 8 * stripeBlockRows * 3 * DetailCoefficientCoder.coefficients * 4
    }

    /// The `DETL` chunk data for `original` over `base` (both interleaved RGB, grey replicated,
    /// `width` x `height`), quantized with `step` (sample levels), written with `method`.
    public static func encode(original: [UInt8], base: [UInt8], width: Int, height: Int, grey: Bool, step: Double,
                              rounding: Double = defaultRounding, trim: Double = defaultTrim, method: UInt8 = method) throws -> [UInt8] {
        precondition(original.count == 3 * width * height && base.count == original.count)
        var encoder = StreamEncoder(original: original, width: width, height: height, grey: grey, step: step, rounding: rounding,
                                    trim: trim, method: method)
        try encoder.append(base[...])
        return try encoder.finish()
    }

    /// The layer's encoder over a base that arrives in rows, top to bottom (as the synthesis
    /// makes it, band by band): it codes each stripe as soon as its rows are in, so no more than
    /// a stripe and a band of the base is kept.
    public struct StreamEncoder {
        let original: [UInt8]
        let width: Int, height: Int, grey: Bool, delta: Double, rounding: Double, trim: Double
        let planes: Int, columns: Int
        var coder: DetailCoefficientCoder
        var out: [UInt8]
        /// Base rows received but not yet coded, from row `pendingRow`.
        var pending: [UInt8] = []
        var pendingRow = 0

        /// `original`: the image's interleaved RGB (grey replicated), `width` x `height`;
        /// `method` (0 or 1) is for tests of older files' decoding.
        public init(original: [UInt8], width: Int, height: Int, grey: Bool, step: Double,
                    rounding: Double = DetailLayer.defaultRounding, trim: Double = DetailLayer.defaultTrim,
                    method: UInt8 = DetailLayer.method) {
            precondition(original.count == 3 * width * height)
            self.original = original
            (self.width, self.height, self.grey, self.rounding, self.trim) = (width, height, grey, rounding, trim)
            let code = stepCode(step)
            delta = Double(code) / stepUnits
            planes = grey ? 1 : 3
            columns = (width + 7) / 8
            guard let start = DetailLayer.start(method: method) else { preconditionFailure("detail layer method \(method)") }
            coder = DetailCoefficientCoder(planes: planes, blockColumns: columns, start: start)
            out = [method, UInt8(planes), UInt8(code & 0xFF), UInt8(code >> 8)]
        }

        /// The next rows of the base (interleaved RGB, whole rows).
        public mutating func append(_ rows: ArraySlice<UInt8>) throws {
            precondition(rows.count % (3 * width) == 0)
            pending.append(contentsOf: rows)
            let stripeRows = 8 * stripeBlockRows
            while pending.count / (3 * width) >= min(stripeRows, height - pendingRow) && pendingRow < height {
                let rowsHere = min(stripeRows, height - pendingRow)
                try codeStripe(rows: rowsHere)
                pending.removeFirst(rowsHere * 3 * width)
                pendingRow += rowsHere
            }
        }

        /// The chunk data, once every row of the base has been appended.
        public func finish() throws -> [UInt8] {
            precondition(pendingRow == height && pending.isEmpty, "the base ended early")
            return out
        }

        /// Codes the stripe of `rows` image rows starting at `pendingRow`, whose base rows lead
        /// `pending`. Its blocks are transformed and quantized on every thread (each block on its
        /// own, so the symbols do not depend on the thread count), then coded in order.
        mutating func codeStripe(rows: Int) throws {
            let blockRows = (rows + 7) / 8, firstRow = pendingRow
            var values = [Int32](repeating: 0, count: blockRows * columns * planes * 64)
            let (width, columns, planes, grey) = (self.width, self.columns, self.planes, self.grey)
            let (delta, rounding, trim) = (self.delta, self.rounding, self.trim)
            original.withUnsafeBufferPointer { o in pending.withUnsafeBufferPointer { b in values.withUnsafeMutableBufferPointer { v in
                nonisolated(unsafe) let (original, base, values) = (o.baseAddress!, b.baseAddress!, v.baseAddress!)
                Parallel.forRanges(blockRows) { range in
                    withUnsafeTemporaryAllocation(of: Double.self, capacity: 4 * 64) { scratch in
                        let block = scratch.baseAddress!, coefficients = block + 3 * 64
                        for by in range {
                            for bx in 0..<columns {
                                // The residual, edge samples repeated past the image.
                                for i in 0..<64 {
                                    let y = min(by * 8 + i / 8, rows - 1), x = min(bx * 8 + i % 8, width - 1)
                                    let at = 3 * ((firstRow + y) * width + x), local = 3 * (y * width + x)
                                    let r = Double(Int(original[at]) - Int(base[local]))
                                    if grey { block[i] = r; continue }
                                    let g = Double(Int(original[at + 1]) - Int(base[local + 1]))
                                    let b = Double(Int(original[at + 2]) - Int(base[local + 2]))
                                    block[i] = (r + g + b) / s3
                                    block[64 + i] = (r - g) / s2
                                    block[128 + i] = (r + g - 2 * b) / s6
                                }
                                for p in 0..<planes {
                                    BlockDCT.forward(block + 64 * p, coefficients)
                                    StreamEncoder.quantize(coefficients, into: values + ((by * columns + bx) * planes + p) * 64,
                                             delta: delta, rounding: rounding, trim: trim)
                                }
                            }
                        }
                    }
                }
            } } }
            let stream = try coder.encodeStripe(values, blockRows: blockRows)
            for b in 0..<4 { out.append(UInt8(truncatingIfNeeded: stream.count >> (8 * b))) }
            out.append(contentsOf: stream)
        }

        /// One plane's coefficients (row-major) as zigzag symbols at `values`.
        static func quantize(_ coefficients: UnsafePointer<Double>, into values: UnsafeMutablePointer<Int32>,
                             delta: Double, rounding: Double, trim: Double) {
            var end = 0
            for k in 0..<64 {
                let v = coefficients[DetailCoefficientCoder.zigzag[k]]
                let q = Int32((abs(v) / delta + rounding).rounded(.down))
                values[k] = v < 0 ? -q : q
                if q != 0 { end = k + 1 }
            }
            // Drop a trailing +-1 when the squared error it saves (in steps^2) is worth less than
            // the bits it and the zeros before it cost, at `trim` steps^2 a bit.
            while trim > 0, end > 0, abs(values[end - 1]) == 1 {
                var previous = end - 1
                while previous > 0 && values[previous - 1] == 0 { previous -= 1 }
                let u = abs(coefficients[DetailCoefficientCoder.zigzag[end - 1]]) / delta
                guard 2 * u - 1 < trim * (trailingOneBits + zeroBits * Double(end - 1 - previous)) else { break }
                values[end - 1] = 0
                end = previous
            }
        }
    }

    /// The layer's step and plane count, from the chunk data's first four bytes.
    public static func parameters(_ data: [UInt8]) throws -> (step: Double, planes: Int) {
        guard data.count >= 4 else { throw CodecError.corruptPayload("detail layer: shorter than its header") }
        guard start(method: data[0]) != nil else { throw CodecError.corruptPayload("detail layer: unknown method \(data[0])") }
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
        var coder = DetailCoefficientCoder(planes: planes, blockColumns: (width + 7) / 8, start: start(method: data[0])!)
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
    /// Each stripe's blocks are added on every thread (each block on its own: the pixels do not
    /// depend on the thread count).
    public static func apply(_ data: [UInt8], to rgb: inout [UInt8], width: Int, height: Int, grey: Bool) throws {
        precondition(rgb.count == 3 * width * height)
        let (delta, planes) = try parameters(data)
        let columns = (width + 7) / 8
        try rgb.withUnsafeMutableBufferPointer { pixels in
            nonisolated(unsafe) let rgb = pixels.baseAddress!
            try forEachStripe(data, width: width, height: height, grey: grey) { firstRow, rows, coded in
                coded.withUnsafeBufferPointer { c in
                    nonisolated(unsafe) let values = c.baseAddress!
                    Parallel.forRanges(rows) { range in
                        withUnsafeTemporaryAllocation(of: Double.self, capacity: 4 * 64) { scratch in
                            let coefficients = scratch.baseAddress!, block = coefficients + 64
                            for by in range {
                                for bx in 0..<columns {
                                    addBlock(values + (by * columns + bx) * planes * 64, planes: planes, delta: delta, rgb: rgb,
                                             x0: bx * 8, y0: (firstRow + by) * 8, width: width, height: height, grey: grey,
                                             coefficients: coefficients, block: block)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds one block's planes of zigzag symbols `values` to the pixels at (`x0`, `y0`).
    @inline(__always)
    static func addBlock(_ values: UnsafePointer<Int32>, planes: Int, delta: Double, rgb: UnsafeMutablePointer<UInt8>,
                         x0: Int, y0: Int, width: Int, height: Int, grey: Bool,
                         coefficients: UnsafeMutablePointer<Double>, block: UnsafeMutablePointer<Double>) {
        // An empty block leaves the base as it is (most of them, at the lower qualities).
        guard (0..<(planes * 64)).contains(where: { values[$0] != 0 }) else { return }
        for p in 0..<planes {
            for k in 0..<64 { coefficients[DetailCoefficientCoder.zigzag[k]] = Double(values[64 * p + k]) * delta }
            BlockDCT.inverse(coefficients, block + 64 * p)
        }
        for i in 0..<64 {
            let y = y0 + i / 8, x = x0 + i % 8
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

    /// Rounded half away from zero, clamped to [0, 255].
    @inline(__always)
    static func sample(_ v: Double) -> UInt8 { UInt8(min(max(v.rounded(), 0), 255)) }
}
