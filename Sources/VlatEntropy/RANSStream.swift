/// The rANS state machine shared by the coders (`RANSCoder`, `ContextRANSCoder`): a 32-bit
/// state kept in [2^16, 2^32) and 16-bit renormalisation, after Giesen's ryg_rans. A symbol is
/// an interval `start ..< start + frequency` of a total of `2^bits` (bits <= 16).
///
/// rANS is last-in first-out: `RANSWriter` takes the intervals in reverse coding order, and
/// `RANSReader` gives them back forwards.
struct RANSWriter {
    static let lowerBound: UInt32 = 1 << 16
    private var state = lowerBound
    private var words: [UInt16] = []

    init(capacity: Int = 0) { words.reserveCapacity(capacity) }

    /// Pushes one interval (the last one the decoder will read first).
    @inline(__always)
    mutating func put(start: UInt32, frequency: UInt32, bits: UInt32) {
        // Renormalise so that the state after coding stays below 2^32.
        let limit = ((Self.lowerBound >> bits) << 16) * frequency
        while state >= limit {
            words.append(UInt16(truncatingIfNeeded: state))
            state >>= 16
        }
        state = ((state / frequency) << bits) + (state % frequency) + start
    }

    /// The stream: the final 32-bit state, then the 16-bit words, little-endian.
    func bytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4 + 2 * words.count)
        for b in 0..<4 { out.append(UInt8(truncatingIfNeeded: state >> (8 * UInt32(b)))) }
        for w in words.reversed() { out.append(UInt8(w & 0xFF)); out.append(UInt8(w >> 8)) }
        return out
    }
}

/// Reads what `RANSWriter` wrote. Damaged input is reported (`EntropyError.corrupt`), never
/// trapped on.
struct RANSReader {
    private let bytes: [UInt8]
    private var state: UInt32
    private var position = 4

    /// `symbols` is how many intervals will be read (a stream for none may end in any state).
    init(_ bytes: [UInt8], symbols: Int) throws {
        guard bytes.count >= 4, bytes.count % 2 == 0 else { throw EntropyError.corrupt("rANS stream of \(bytes.count) bytes") }
        self.bytes = bytes
        state = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
        guard state >= RANSWriter.lowerBound || symbols == 0 else { throw EntropyError.corrupt("invalid rANS state") }
    }

    /// The slot of the next symbol in a total of `2^bits`: the decoder finds the interval
    /// holding it, then calls `consume`.
    @inline(__always)
    func slot(bits: UInt32) -> UInt32 { state & ((1 << bits) - 1) }

    /// Takes the interval holding the current slot off the state and renormalises.
    @inline(__always)
    mutating func consume(start: UInt32, frequency: UInt32, bits: UInt32) throws {
        state = frequency * (state >> bits) + slot(bits: bits) - start
        while state < RANSWriter.lowerBound {
            guard position + 2 <= bytes.count else { throw EntropyError.corrupt("rANS stream ends early") }
            state = (state << 16) | UInt32(bytes[position]) | UInt32(bytes[position + 1]) << 8
            position += 2
        }
    }

    /// A stream must end in the writer's initial state with every word read.
    func finish() throws {
        guard state == RANSWriter.lowerBound, position == bytes.count else {
            throw EntropyError.corrupt("rANS stream does not end where it should")
        }
    }
}

/// How escaped values travel: *bypass* symbols, uniform 5-bit intervals holding 4 value bits
/// and a continuation bit, least significant chunk first, of the zigzag of the value's distance
/// beyond the table.
enum RANSBypass {
    static let bits: UInt32 = 5

    /// The chunks of value `v` (already relative to the table's offset) escaping a table whose
    /// escape symbol is `escape`.
    static func chunks(value v: Int64, escape: Int) -> [UInt32] {
        var chunks: [UInt32] = []
        var rest = zigzag(v < 0 ? v : v - Int64(escape))
        repeat {
            let low = UInt32(rest & 0xF)
            rest >>= 4
            chunks.append(rest == 0 ? low : low | 0x10)
        } while rest != 0
        return chunks
    }

    /// Reads the chunks of one escaped value; returns it relative to the table's offset.
    static func read(from reader: inout RANSReader, escape: Int) throws -> Int64 {
        var u: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let chunk = reader.slot(bits: bits)
            try reader.consume(start: chunk, frequency: 1, bits: bits)
            u |= UInt64(chunk & 0xF) << shift
            shift += 4
            if chunk & 0x10 == 0 { break }
            guard shift < 36 else { throw EntropyError.corrupt("escaped value too long") }
        }
        let v = unzigzag(u)
        return v < 0 ? v : v + Int64(escape)
    }

    static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    static func unzigzag(_ u: UInt64) -> Int64 { Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1) }
}
