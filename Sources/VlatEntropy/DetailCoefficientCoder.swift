/// The detail layer's coder: context-adaptive rANS for quantized 8x8 DCT blocks, one stripe of
/// block rows at a time, its adaptive tables carrying on from stripe to stripe.
///
/// Blocks come in raster order, each holding `planes` planes of 64 coefficients in zigzag order.
/// Per block and plane it codes the *end*, how many zigzag positions reach the last nonzero
/// coefficient (0 for an empty block), from the ends of the blocks to the left and above; then
/// each coefficient before the end as a magnitude (15 and more escape to bypass chunks) and, when
/// nonzero, a sign bit. A magnitude's table is chosen by its frequency band, its plane (the first
/// or the others) and the magnitudes already known around it: the same coefficient in the blocks
/// to the left and above, the two coefficients before it, and, for the second and third planes,
/// the first plane's. The last coefficient before the end, never zero, has tables of its own.
/// The tables start flat or shaped like real residuals' symbols (`Start`).
/// Every choice is integer and depends on decoded values only, so the decoder follows on every
/// machine. docs/FORMAT.md (the `DETL` chunk) specifies it exactly; Scripts/reference_detail.py
/// decodes it from that text alone.
///
/// ```swift
/// var encoder = DetailCoefficientCoder(planes: 3, blockColumns: 96)
/// let bytes = try encoder.encodeStripe(blocks, blockRows: 32)     // 32 x 96 x 3 x 64 values
/// var decoder = DetailCoefficientCoder(planes: 3, blockColumns: 96)
/// let back = try decoder.decodeStripe(bytes, blockRows: 32)
/// ```
public struct DetailCoefficientCoder {
    public static let coefficients = 64
    /// Magnitudes 0...14 are symbols; 15 (the last symbol) escapes to bypass chunks.
    static let escape = 15
    /// The largest magnitude a stream may hold.
    public static let maxMagnitude = 65535

    /// `zigzag[k]`: the row-major position (row * 8 + column) of the block's k-th coefficient.
    public static let zigzag: [Int] = {
        var order: [Int] = []
        for s in 0..<15 {
            let rows = Array(max(0, s - 7)...min(s, 7))
            for r in (s % 2 == 0 ? rows.reversed() : rows) { order.append(r * 8 + (s - r)) }
        }
        return order
    }()

    /// Frequency band of zigzag position k: 0 | 1-2 | 3-5 | 6-9 | 10-14 | 15-20 | 21-27 | 28-35 | 36-63.
    static let band: [Int] = (0..<64).map { k in [0, 1, 3, 6, 10, 15, 21, 28, 36].lastIndex { $0 <= k }! }
    static let bands = 9
    static let endClasses = 7
    static let magnitudeClasses = 6

    /// How the adaptive tables start (they adapt the same way after).
    public enum Start: Sendable, Equatable {
        /// Every count 32, the increment: every symbol begins as likely as any other (the
        /// detail layer's method 0).
        case flat
        /// Counts shaped like the symbols of real residuals, worth a few coded symbols: a
        /// magnitude m starts at max(1, 128 >> 2m) (128, 32, 8, 2, then 1), a block's last
        /// magnitude the same one place on (0 for 0, which never occurs there), and the end at
        /// 16 for an empty block and 2 for every other (the detail layer's method 1). They learn
        /// an image's statistics in fewer symbols than flat tables.
        case shaped

        func counts(_ kind: TableKind) -> [UInt64] {
            switch (self, kind) {
            case (.flat, .end): return [UInt64](repeating: AdaptiveFrequencies.increment, count: DetailCoefficientCoder.coefficients + 1)
            case (.flat, _): return [UInt64](repeating: AdaptiveFrequencies.increment, count: DetailCoefficientCoder.escape + 1)
            case (.shaped, .end): return [16] + [UInt64](repeating: 2, count: DetailCoefficientCoder.coefficients)
            case (.shaped, .magnitude): return (0...DetailCoefficientCoder.escape).map { Self.magnitude($0) }
            case (.shaped, .last): return [0] + (1...DetailCoefficientCoder.escape).map { Self.magnitude($0 - 1) }
            }
        }

        static func magnitude(_ m: Int) -> UInt64 { max(1, 128 >> UInt64(2 * m)) }
    }
    enum TableKind { case end, magnitude, last }

    public let planes: Int
    public let blockColumns: Int
    public let start: Start
    private var endModels: [AdaptiveFrequencies]
    private var magnitudeModels: [AdaptiveFrequencies]
    private var lastModels: [AdaptiveFrequencies]
    /// The block row above, as coded (zigzag order), and its ends: zeros before the first row.
    private var above: [Int32]
    private var aboveEnds: [Int32]

    public init(planes: Int, blockColumns: Int, start: Start = .shaped) {
        precondition(planes >= 1 && blockColumns >= 1)
        self.planes = planes
        self.blockColumns = blockColumns
        self.start = start
        func table(_ kind: TableKind) -> AdaptiveFrequencies { AdaptiveFrequencies(counts: start.counts(kind)) }
        endModels = [AdaptiveFrequencies](repeating: table(.end), count: 2 * Self.endClasses)
        magnitudeModels = [AdaptiveFrequencies](repeating: table(.magnitude), count: 2 * Self.bands * Self.magnitudeClasses)
        lastModels = [AdaptiveFrequencies](repeating: table(.last), count: 2 * Self.bands)
        above = [Int32](repeating: 0, count: blockColumns * planes * Self.coefficients)
        aboveEnds = [Int32](repeating: 0, count: blockColumns * planes)
    }

    /// Class of the end's context: the sum of the ends to the left and above, in 0 | 1-2 | 3-5 |
    /// 6-10 | 11-20 | 21-40 | more.
    static func endClass(_ n: Int) -> Int { n == 0 ? 0 : n <= 2 ? 1 : n <= 5 ? 2 : n <= 10 ? 3 : n <= 20 ? 4 : n <= 40 ? 5 : 6 }
    /// Class of a magnitude's neighbourhood sum: 0 | 1 | 2 | 3-4 | 5-7 | more.
    static func magnitudeClass(_ a: Int) -> Int { a <= 2 ? a : a <= 4 ? 3 : a <= 7 ? 4 : 5 }

    /// Codes `blocks` (`blockRows` x `blockColumns` x `planes` x 64, zigzag order), the next
    /// stripe of the image. Output: a `RANSWriter` stream.
    public mutating func encodeStripe(_ blocks: [Int32], blockRows: Int) throws -> [UInt8] {
        guard blocks.count == blockRows * blockColumns * planes * Self.coefficients else {
            throw EntropyError.invalidTable("\(blocks.count) coefficients for \(blockRows) block rows")
        }
        guard blocks.allSatisfy({ $0.magnitude <= Self.maxMagnitude }) else {
            throw EntropyError.invalidTable("a coefficient beyond +-\(Self.maxMagnitude)")
        }
        var io = Recorder()
        var values = blocks
        try values.withUnsafeMutableBufferPointer { try traverse($0, blockRows: blockRows, io: &io) }
        var writer = RANSWriter(capacity: io.starts.count / 2 + 16)
        for i in stride(from: io.starts.count - 1, through: 0, by: -1) {
            writer.put(start: io.starts[i], frequency: io.frequencies[i], bits: UInt32(io.bits[i]))
        }
        return writer.bytes()
    }

    /// Decodes the next stripe of `blockRows` block rows. Damaged input is reported, never
    /// trapped on.
    public mutating func decodeStripe(_ bytes: [UInt8], blockRows: Int) throws -> [Int32] {
        let count = blockRows * blockColumns * planes * Self.coefficients
        var io = Reader(reader: try RANSReader(bytes, symbols: count))
        var values = [Int32](repeating: 0, count: count)
        try values.withUnsafeMutableBufferPointer { try traverse($0, blockRows: blockRows, io: &io) }
        try io.reader.finish()
        return values
    }

    /// Walks a stripe in coding order. The encoder's `io` reads each symbol off `values`; the
    /// decoder's writes it there.
    private mutating func traverse<IO: DetailSymbolIO>(_ values: UnsafeMutableBufferPointer<Int32>, blockRows: Int, io: inout IO) throws {
        let n = Self.coefficients, P = planes
        let rowLength = blockColumns * P * n
        var ends = [Int32](repeating: 0, count: blockColumns * P)
        for by in 0..<blockRows {
            let row = by * rowLength
            for bx in 0..<blockColumns {
                for p in 0..<P {
                    let at = row + (bx * P + p) * n
                    let left = bx > 0 ? Int(ends[(bx - 1) * P + p]) : 0
                    let plane = min(p, 1)
                    let endContext = plane * Self.endClasses + Self.endClass(left + Int(aboveEnds[bx * P + p]))
                    var last = 0
                    if io.isEncoding { for k in 0..<n where values[at + k] != 0 { last = k + 1 } }
                    let end = try io.symbol(last, model: endModels[endContext])
                    endModels[endContext].update(end)
                    ends[bx * P + p] = Int32(end)
                    let up = (bx * P + p) * n, first = row + bx * P * n
                    for k in 0..<end {
                        let v = Int(values[at + k])
                        let context: Int
                        if k == end - 1 {
                            context = plane * Self.bands + Self.band[k]
                        } else {
                            @inline(__always) func m(_ x: Int32) -> Int { Int(min(x.magnitude, 15)) }
                            var a = m(above[up + k]) + (bx > 0 ? m(values[at - P * n + k]) : 0)
                            if k >= 1 { a += 2 * m(values[at + k - 1]) }
                            if k >= 2 { a += m(values[at + k - 2]) }
                            if p > 0 { a += m(values[first + k]) }
                            context = (plane * Self.bands + Self.band[k]) * Self.magnitudeClasses + Self.magnitudeClass(a)
                        }
                        let s = try k == end - 1
                            ? io.symbol(min(abs(v), Self.escape), model: lastModels[context])
                            : io.symbol(min(abs(v), Self.escape), model: magnitudeModels[context])
                        if k == end - 1 { lastModels[context].update(s) } else { magnitudeModels[context].update(s) }
                        var magnitude = s
                        if s == Self.escape { magnitude = try io.escaped(abs(v)) }
                        if k == end - 1 && magnitude == 0 { throw EntropyError.corrupt("a block's last coefficient is zero") }
                        let negative = magnitude != 0 ? try io.sign(v < 0) : false
                        values[at + k] = Int32(negative ? -magnitude : magnitude)
                    }
                }
            }
            for i in 0..<rowLength { above[i] = values[row + i] }
            aboveEnds = ends
        }
    }
}

/// What the traversal asks of the stream: the encoder records, the decoder reads.
private protocol DetailSymbolIO {
    var isEncoding: Bool { get }
    /// The symbol at this point: `value` when encoding, the stream's when decoding.
    mutating func symbol(_ value: Int, model: AdaptiveFrequencies) throws -> Int
    /// An escaped magnitude (at least `DetailCoefficientCoder.escape`).
    mutating func escaped(_ magnitude: Int) throws -> Int
    mutating func sign(_ negative: Bool) throws -> Bool
}

private struct Recorder: DetailSymbolIO {
    var starts: [UInt32] = [], frequencies: [UInt32] = [], bits: [UInt8] = []
    var isEncoding: Bool { true }

    mutating func put(_ start: UInt32, _ frequency: UInt32, _ b: UInt32) {
        starts.append(start); frequencies.append(frequency); bits.append(UInt8(b))
    }

    mutating func symbol(_ value: Int, model: AdaptiveFrequencies) throws -> Int {
        let (start, f) = model.interval(of: value)
        put(start, f, QuantizedCDF.precision)
        return value
    }

    mutating func escaped(_ magnitude: Int) throws -> Int {
        for chunk in RANSBypass.chunks(value: Int64(magnitude), escape: DetailCoefficientCoder.escape) { put(chunk, 1, RANSBypass.bits) }
        return magnitude
    }

    mutating func sign(_ negative: Bool) throws -> Bool {
        put(negative ? 1 : 0, 1, 1)
        return negative
    }
}

private struct Reader: DetailSymbolIO {
    var reader: RANSReader
    var isEncoding: Bool { false }

    mutating func symbol(_ value: Int, model: AdaptiveFrequencies) throws -> Int {
        let (s, start, f) = model.symbol(forSlot: reader.slot(bits: QuantizedCDF.precision))
        try reader.consume(start: start, frequency: f, bits: QuantizedCDF.precision)
        return s
    }

    mutating func escaped(_ magnitude: Int) throws -> Int {
        let v = try RANSBypass.read(from: &reader, escape: DetailCoefficientCoder.escape)
        guard v >= Int64(DetailCoefficientCoder.escape), v <= Int64(DetailCoefficientCoder.maxMagnitude) else {
            throw EntropyError.corrupt("escaped magnitude \(v) out of range")
        }
        return Int(v)
    }

    mutating func sign(_ negative: Bool) throws -> Bool {
        let bit = reader.slot(bits: 1)
        try reader.consume(start: bit, frequency: 1, bits: 1)
        return bit == 1
    }
}
