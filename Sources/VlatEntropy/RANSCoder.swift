/// rANS (Duda 2013) with a 32-bit state and 16-bit renormalisation, after Giesen's ryg_rans:
/// the state stays in [2^16, 2^32), symbols are coded with 16-bit integer frequencies, and
/// the coder emits 16-bit words. Exact integer arithmetic: any machine decodes the same symbols.
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
    static let lowerBound: UInt32 = 1 << 16
    static let precision = QuantizedCDF.precision
    /// Bypass chunks: 4 value bits + 1 continuation bit, as a uniform 5-bit symbol.
    static let bypassBits: UInt32 = 5

    /// Encodes `values[i]` with `tables[tableIndex(i)]`. Output: the final 32-bit state, then the
    /// 16-bit words, little-endian.
    public static func encode(_ values: [Int32], tables: [QuantizedCDF], tableIndex: (Int) -> Int) throws -> [UInt8] {
        var state = lowerBound
        var words: [UInt16] = []
        words.reserveCapacity(values.count / 2 + 16)

        @inline(__always) func put(start: UInt32, frequency: UInt32, bits: UInt32) {
            // Renormalise so that the state after coding stays below 2^32.
            let limit = ((lowerBound >> bits) << 16) * frequency
            while state >= limit {
                words.append(UInt16(truncatingIfNeeded: state))
                state >>= 16
            }
            state = ((state / frequency) << bits) + (state % frequency) + start
        }

        for i in stride(from: values.count - 1, through: 0, by: -1) {
            let k = tableIndex(i)
            guard k >= 0 && k < tables.count else { throw EntropyError.invalidTable("table index \(k) of \(tables.count)") }
            let table = tables[k]
            let v = Int64(values[i]) - Int64(table.offset)
            if v >= 0 && v < Int64(table.escape) {
                let s = Int(v)
                put(start: table.cdf[s], frequency: table.frequency(s), bits: precision)
            } else {
                // Bypass chunks are decoded after the escape, so they are pushed first, last chunk first.
                let chunks = bypassChunks(zigzag(v < 0 ? v : v - Int64(table.escape)))
                for chunk in chunks.reversed() { put(start: chunk, frequency: 1, bits: bypassBits) }
                put(start: table.cdf[table.escape], frequency: table.frequency(table.escape), bits: precision)
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(4 + 2 * words.count)
        for b in 0..<4 { out.append(UInt8(truncatingIfNeeded: state >> (8 * UInt32(b)))) }
        for w in words.reversed() { out.append(UInt8(w & 0xFF)); out.append(UInt8(w >> 8)) }
        return out
    }

    /// Decodes `count` values. Damaged input is reported (a stream that ends early, or does not
    /// end where it should), never trapped on.
    public static func decode(_ bytes: [UInt8], count: Int, tables: [QuantizedCDF], tableIndex: (Int) -> Int) throws -> [Int32] {
        guard bytes.count >= 4, bytes.count % 2 == 0 else { throw EntropyError.corrupt("rANS stream of \(bytes.count) bytes") }
        var state = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
        var position = 4
        var out = [Int32](repeating: 0, count: count)

        @inline(__always) func renormalise() throws {
            while state < lowerBound {
                guard position + 2 <= bytes.count else { throw EntropyError.corrupt("rANS stream ends early") }
                state = (state << 16) | UInt32(bytes[position]) | UInt32(bytes[position + 1]) << 8
                position += 2
            }
        }

        @inline(__always) func takeBypass() throws -> UInt32 {
            let slot = state & ((1 << bypassBits) - 1)
            state >>= bypassBits // frequency 1, start = slot: x = 1 * (x >> bits) + slot - slot
            try renormalise()
            return slot
        }

        guard state >= lowerBound || count == 0 else { throw EntropyError.corrupt("invalid rANS state") }
        for i in 0..<count {
            let k = tableIndex(i)
            guard k >= 0 && k < tables.count else { throw EntropyError.invalidTable("table index \(k) of \(tables.count)") }
            let table = tables[k]
            let slot = state & ((1 << precision) - 1)
            let s = table.symbol(forSlot: slot)
            state = table.frequency(s) * (state >> precision) + slot - table.cdf[s]
            try renormalise()
            if s < table.escape {
                out[i] = Int32(truncatingIfNeeded: Int64(s) + Int64(table.offset))
            } else {
                var u: UInt64 = 0
                var shift: UInt64 = 0
                while true {
                    let chunk = try takeBypass()
                    u |= UInt64(chunk & 0xF) << shift
                    shift += 4
                    if chunk & 0x10 == 0 { break }
                    guard shift < 36 else { throw EntropyError.corrupt("escaped value too long") }
                }
                let v = unzigzag(u)
                let value = v < 0 ? v : v + Int64(table.escape)
                guard let narrow = Int32(exactly: value + Int64(table.offset)) else {
                    throw EntropyError.corrupt("escaped value out of range")
                }
                out[i] = narrow
            }
        }
        guard state == lowerBound, position == bytes.count else {
            throw EntropyError.corrupt("rANS stream does not end where it should")
        }
        return out
    }

    static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    static func unzigzag(_ u: UInt64) -> Int64 { Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1) }

    /// 4-bit chunks of `u`, least significant first, each with bit 4 set when more follow.
    static func bypassChunks(_ u: UInt64) -> [UInt32] {
        var chunks: [UInt32] = []
        var rest = u
        repeat {
            let low = UInt32(rest & 0xF)
            rest >>= 4
            chunks.append(rest == 0 ? low : low | 0x10)
        } while rest != 0
        return chunks
    }
}
