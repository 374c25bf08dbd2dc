/// rANS with adaptive, context-selected tables: the learned prior's tables as a starting point,
/// sharpened to the image at hand as it is coded.
///
/// The factorized prior gives every latent of a channel the same distribution wherever it is,
/// but latents are larger where the image is busy. This coder codes each channel's *h* x *w*
/// plane in raster order and picks one of `contexts` adaptive tables (`AdaptiveFrequencies`)
/// by the magnitudes of the four neighbours already coded (left, up-left, up, up-right), so
/// flat and busy regions get their own statistics, learned on the fly from the prior's
/// starting point. On the held-out training photos this saved 3 to 12 % of the static
/// prior's bits (more at low rates); docs/FORMAT.md (coder 3) specifies it exactly.
///
/// Escapes and bypass chunks are those of `RANSCoder`, and so is the stream (`RANSWriter`).
///
/// ```swift
/// let bytes = try ContextRANSCoder.encode(latents, channels: c, height: h, width: w, tables: model.tables)
/// let back = try ContextRANSCoder.decode(bytes, channels: c, height: h, width: w, tables: model.tables)
/// ```
public enum ContextRANSCoder {
    /// Contexts per channel: the sum of the four neighbours' magnitudes, 0 ... 4, or 5 and more.
    public static let contexts = 6
    static let precision = QuantizedCDF.precision

    /// The context of position (`y`, `x`) of a plane stored row-major at `plane[base...]`.
    @inline(__always)
    static func context(_ plane: UnsafeBufferPointer<Int32>, base: Int, y: Int, x: Int, width: Int) -> Int {
        @inline(__always) func magnitude(_ i: Int) -> Int { Int(min(plane[i].magnitude, UInt32(contexts))) }
        var m = 0
        let at = base + y * width + x
        if x > 0 { m += magnitude(at - 1) }
        if y > 0 {
            m += magnitude(at - width)
            if x > 0 { m += magnitude(at - width - 1) }
            if x + 1 < width { m += magnitude(at - width + 1) }
        }
        return min(m, contexts - 1)
    }

    static func check(count: Int, channels: Int, height: Int, width: Int, tables: [QuantizedCDF]) throws {
        guard channels >= 0, height >= 0, width >= 0, channels * height * width == count else {
            throw EntropyError.invalidTable("\(count) latents for a \(channels) x \(height) x \(width) grid")
        }
        guard tables.count == channels else {
            throw EntropyError.invalidTable("\(tables.count) tables for \(channels) channels")
        }
    }

    /// Encodes `values`, a channel-major `channels` x `height` x `width` grid, channel *c* with
    /// `tables[c]` as its prior. Output: a `RANSWriter` stream.
    public static func encode(_ values: [Int32], channels: Int, height: Int, width: Int,
                              tables: [QuantizedCDF]) throws -> [UInt8] {
        try check(count: values.count, channels: channels, height: height, width: width, tables: tables)
        // The adaptive tables run forwards; rANS codes backwards. So the intervals are worked
        // out first, in the decoder's order, and pushed in reverse.
        var starts: [UInt32] = [], frequencies: [UInt32] = [], bits: [UInt8] = []
        starts.reserveCapacity(values.count); frequencies.reserveCapacity(values.count); bits.reserveCapacity(values.count)
        let plane = height * width
        values.withUnsafeBufferPointer { v in
            for c in 0..<channels {
                let table = tables[c]
                var models = [AdaptiveFrequencies](repeating: AdaptiveFrequencies(prior: table), count: contexts)
                let base = c * plane
                for y in 0..<height {
                    for x in 0..<width {
                        let k = context(v, base: base, y: y, x: x, width: width)
                        let relative = Int64(v[base + y * width + x]) - Int64(table.offset)
                        let inRange = relative >= 0 && relative < Int64(table.escape)
                        let s = inRange ? Int(relative) : table.escape
                        let (start, f) = models[k].interval(of: s)
                        starts.append(start); frequencies.append(f); bits.append(UInt8(precision))
                        if !inRange {
                            for chunk in RANSBypass.chunks(value: relative, escape: table.escape) {
                                starts.append(chunk); frequencies.append(1); bits.append(UInt8(RANSBypass.bits))
                            }
                        }
                        models[k].update(s)
                    }
                }
            }
        }
        var writer = RANSWriter(capacity: values.count / 2 + 16)
        for i in stride(from: starts.count - 1, through: 0, by: -1) {
            writer.put(start: starts[i], frequency: frequencies[i], bits: UInt32(bits[i]))
        }
        return writer.bytes()
    }

    /// Decodes a `channels` x `height` x `width` grid. Damaged input is reported, never trapped on.
    public static func decode(_ bytes: [UInt8], channels: Int, height: Int, width: Int,
                              tables: [QuantizedCDF]) throws -> [Int32] {
        let (count, overflow) = channels.multipliedReportingOverflow(by: height * width)
        guard !overflow else { throw EntropyError.invalidTable("latent grid too large") }
        try check(count: count, channels: channels, height: height, width: width, tables: tables)
        var reader = try RANSReader(bytes, symbols: count)
        var out = [Int32](repeating: 0, count: count)
        let plane = height * width
        try out.withUnsafeMutableBufferPointer { o in
            let view = UnsafeBufferPointer(o)
            for c in 0..<channels {
                let table = tables[c]
                var models = [AdaptiveFrequencies](repeating: AdaptiveFrequencies(prior: table), count: contexts)
                let base = c * plane
                for y in 0..<height {
                    for x in 0..<width {
                        let k = context(view, base: base, y: y, x: x, width: width)
                        let (s, start, f) = models[k].symbol(forSlot: reader.slot(bits: precision))
                        try reader.consume(start: start, frequency: f, bits: precision)
                        let v = s < table.escape ? Int64(s) : try RANSBypass.read(from: &reader, escape: table.escape)
                        guard let value = Int32(exactly: v + Int64(table.offset)) else {
                            throw EntropyError.corrupt("escaped value out of range")
                        }
                        o[base + y * width + x] = value
                        models[k].update(s)
                    }
                }
            }
        }
        try reader.finish()
        return out
    }
}
