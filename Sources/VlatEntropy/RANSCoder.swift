/// rANS (Duda 2013) with a 32-bit state and 16-bit renormalisation, after Giesen's ryg_rans
/// (`RANSWriter`, `RANSReader`): symbols are coded with the static 16-bit integer frequencies of
/// the model's tables, and the coder emits 16-bit words. Exact integer arithmetic: any machine decodes the same symbols.
///
/// Values outside a table's range are coded as its escape symbol followed by the value itself
/// in *bypass* symbols (uniform 4-bit chunks, each with a continuation bit), so nothing is ever
/// out of range.
///
/// rANS is last-in first-out: the encoder runs over the values backwards so the decoder reads
/// them forwards.
///
/// ```swift
/// let bytes = try RANSCoder.encode(values, tables: tables, tableIndex: { $0 % tables.count })
/// let back = try RANSCoder.decode(bytes, count: values.count, tables: tables, tableIndex: { $0 % tables.count })
/// ```
public enum RANSCoder {
    static let precision = QuantizedCDF.precision

    /// Encodes `values[i]` with `tables[tableIndex(i)]`. Output: the final 32-bit state, then the
    /// 16-bit words, little-endian.
    public static func encode(_ values: [Int32], tables: [QuantizedCDF], tableIndex: (Int) -> Int) throws -> [UInt8] {
        try values.withUnsafeBufferPointer { v in try encode(count: v.count, value: { v[$0] }, tables: tables, tableIndex: tableIndex) }
    }

    /// The same for `count` values read through `value(i)` (each asked once, last first), so
    /// that a caller coding part of a larger array needs no copy of that part.
    public static func encode(count: Int, value: (Int) -> Int32, tables: [QuantizedCDF], tableIndex: (Int) -> Int) throws -> [UInt8] {
        var writer = RANSWriter(capacity: count / 2 + 16)
        for i in stride(from: count - 1, through: 0, by: -1) {
            let k = tableIndex(i)
            guard k >= 0 && k < tables.count else { throw EntropyError.invalidTable("table index \(k) of \(tables.count)") }
            let table = tables[k]
            let v = Int64(value(i)) - Int64(table.offset)
            if v >= 0 && v < Int64(table.escape) {
                let s = Int(v)
                writer.put(start: table.cdf[s], frequency: table.frequency(s), bits: precision)
            } else {
                // Bypass chunks are decoded after the escape, so they are pushed first, last chunk first.
                for chunk in RANSBypass.chunks(value: v, escape: table.escape).reversed() {
                    writer.put(start: chunk, frequency: 1, bits: RANSBypass.bits)
                }
                writer.put(start: table.cdf[table.escape], frequency: table.frequency(table.escape), bits: precision)
            }
        }
        return writer.bytes()
    }

    /// Decodes `count` values. Damaged input is reported (a stream that ends early, or does not
    /// end where it should), never trapped on.
    public static func decode(_ bytes: [UInt8], count: Int, tables: [QuantizedCDF], tableIndex: (Int) -> Int) throws -> [Int32] {
        var out = [Int32](repeating: 0, count: count)
        try decode(bytes, count: count, tables: tables, tableIndex: tableIndex) { out[$0] = $1 }
        return out
    }

    /// The same, handing each value `i` to `store(i, value)` in order instead of returning an
    /// array (a damaged stream throws after handing over the values before the damage).
    public static func decode(_ bytes: [UInt8], count: Int, tables: [QuantizedCDF], tableIndex: (Int) -> Int,
                              store: (Int, Int32) -> Void) throws {
        var decoder = try Decoder(bytes, count: count)
        for i in 0..<count { store(i, try decoder.next(tables: tables, index: tableIndex(i))) }
        try decoder.finish()
    }

    /// A stream read value by value, for a caller that must do work between values (a context
    /// that corrects later values' tables from earlier ones):
    /// ```swift
    /// var decoder = try RANSCoder.Decoder(bytes, count: n)
    /// for i in 0..<n { values[i] = try decoder.next(tables: tables, index: tableOf(i)) }
    /// try decoder.finish()
    /// ```
    public struct Decoder {
        private var reader: RANSReader

        /// `count` is how many values the stream holds.
        public init(_ bytes: [UInt8], count: Int) throws { reader = try RANSReader(bytes, symbols: count) }

        /// The next value, coded with `tables[index]`.
        public mutating func next(tables: [QuantizedCDF], index k: Int) throws -> Int32 {
            guard k >= 0 && k < tables.count else { throw EntropyError.invalidTable("table index \(k) of \(tables.count)") }
            let table = tables[k]
            let s = table.symbol(forSlot: reader.slot(bits: precision))
            try reader.consume(start: table.cdf[s], frequency: table.frequency(s), bits: precision)
            let v = s < table.escape ? Int64(s) : try RANSBypass.read(from: &reader, escape: table.escape)
            guard let value = Int32(exactly: v + Int64(table.offset)) else { throw EntropyError.corrupt("escaped value out of range") }
            return value
        }

        /// Checks that the stream ends where it should, every value read.
        public func finish() throws { try reader.finish() }
    }
}
