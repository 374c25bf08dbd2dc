import CKernels

/// SHA-256 (FIPS 180-4), used for model digests: the container names the model that encoded it
/// by the SHA-256 of the model file, so a receiver can refuse a file made with another model.
/// Blocks are compressed with the CPU's SHA extensions where it has them, else in Swift.
public struct SHA256: Sendable {

    private var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    /// Skips the CPU's SHA extensions (`vlat_sha256_blocks`): the Swift code alone, which the
    /// tests compare them with.
    let portable: Bool

    public init() { portable = false }

    init(portable: Bool) { self.portable = portable }

    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        length &+= UInt64(bytes.count)
        // Whole blocks straight from contiguous input; only a partial block is copied.
        let done = bytes.withContiguousStorageIfAvailable { input -> Bool in
            var offset = 0
            if !pending.isEmpty {
                let take = min(64 - pending.count, input.count)
                pending.append(contentsOf: input[0..<take])
                offset = take
                if pending.count == 64 {
                    pending.withUnsafeBytes { compressBlocks($0) }
                    pending.removeAll(keepingCapacity: true)
                }
            }
            let whole = (input.count - offset) / 64 * 64
            if whole > 0 { compressBlocks(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(input)[offset..<(offset + whole)])) }
            pending.append(contentsOf: input[(offset + whole)...])
            return true
        }
        if done == nil {
            pending.append(contentsOf: bytes)
            let whole = pending.count / 64 * 64
            pending.withUnsafeBytes { compressBlocks(UnsafeRawBufferPointer(rebasing: $0[0..<whole])) }
            pending.removeFirst(whole)
        }
    }

    /// The 32-byte digest. Consumes the hasher's state.
    public consuming func finalize() -> [UInt8] {
        let bitLength = length &* 8
        var tail: [UInt8] = [0x80]
        while (pending.count + tail.count) % 64 != 56 { tail.append(0) }
        for i in (0..<8).reversed() { tail.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
        pending.append(contentsOf: tail)
        pending.withUnsafeBytes { compressBlocks($0) }
        return h.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (24 - 8 * UInt32($0))) } }
    }

    public static func hash<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Lower-case hexadecimal, as `sha256sum` prints it.
    public static func hex(_ digest: [UInt8]) -> String {
        digest.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// Compresses whole 64-byte blocks (`blocks.count` a multiple of 64).
    private mutating func compressBlocks(_ blocks: UnsafeRawBufferPointer) {
        precondition(blocks.count % 64 == 0)
        if !portable, blocks.count > 0,
           h.withUnsafeMutableBufferPointer({ vlat_sha256_blocks($0.baseAddress!, blocks.baseAddress!.assumingMemoryBound(to: UInt8.self), blocks.count / 64) }) == 1 {
            return
        }
        @inline(__always) func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
        var (h0, h1, h2, h3, h4, h5, h6, h7) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
        // The round constants (FIPS 180-4), shared with the C kernel.
        let k = UnsafeBufferPointer(start: vlat_sha256_round_constants(), count: 64)
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for block in stride(from: 0, to: blocks.count, by: 64) {
                for i in 0..<16 {
                    let p = block + 4 * i
                    w[i] = UInt32(blocks[p]) << 24 | UInt32(blocks[p + 1]) << 16 | UInt32(blocks[p + 2]) << 8 | UInt32(blocks[p + 3])
                }
                for i in 16..<64 {
                    let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                    let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                    w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
                }
                var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, hh = h7
                for i in 0..<64 {
                    let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
                    let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = s0 &+ maj
                    hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
                }
                h0 &+= a; h1 &+= b; h2 &+= c; h3 &+= d; h4 &+= e; h5 &+= f; h6 &+= g; h7 &+= hh
            }
        }
        h = [h0, h1, h2, h3, h4, h5, h6, h7]
    }
}
