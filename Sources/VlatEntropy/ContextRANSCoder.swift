/// rANS with adaptive, context-selected tables: the learned prior's tables as a starting point,
/// sharpened to the image at hand as it is coded.
///
/// The factorized prior gives every latent of a channel the same distribution wherever it is,
/// but latents are larger where the image is busy. This coder codes each channel's *h* x *w*
/// plane in raster order and picks one of `contexts` adaptive tables (`AdaptiveFrequencies`)
/// for each latent by two things already decoded: the magnitudes of its four neighbours in the
/// same channel (left, up-left, up, up-right), and the mean magnitude of the earlier channels
/// at the same position (the local activity every channel sees). Flat and busy regions so get
/// their own statistics, learned on the fly from a starting point: the prior, or better the
/// model's `ContextPriors`, fitted on training images (docs/FORMAT.md). On the 22
/// held-out training photos this saved 13 % (q1), 9 % (q4) and 3 % (q8) of the static prior's
/// bits, where the neighbours alone saved 12, 6 and 3 %; docs/FORMAT.md (coders 3 and 4) specifies it
/// exactly.
///
/// Escapes and bypass chunks are those of `RANSCoder`, and so is the stream (`RANSWriter`).
///
/// ```swift
/// let bytes = try ContextRANSCoder.encode(latents, channels: c, height: h, width: w, tables: model.tables)
/// let back = try ContextRANSCoder.decode(bytes, channels: c, height: h, width: w, tables: model.tables)
/// ```
public enum ContextRANSCoder {
    /// Contexts per channel: 4 neighbourhood classes x 4 activity classes.
    public static let contexts = 16
    static let precision = QuantizedCDF.precision

    /// The context of position (`y`, `x`) of channel `channel`, whose plane is stored row-major at
    /// `values[base...]`; `activity[y * width + x]` is the sum of `min(|v|, 4)` over the earlier
    /// channels there. Neighbourhood: the sum of `min(|v|, 6)` over the coded neighbours, capped
    /// at 3. Activity: 0 when that sum is 0, else 1, 2 or 3 as its mean over the earlier channels
    /// is below 0.15, below 0.4, or more (exact integer comparisons).
    @inline(__always)
    static func context(_ values: UnsafeBufferPointer<Int32>, activity: UnsafeBufferPointer<Int32>, channel: Int,
                        base: Int, y: Int, x: Int, width: Int) -> Int {
        @inline(__always) func magnitude(_ i: Int) -> Int { Int(min(values[i].magnitude, 6)) }
        var m = 0
        let at = base + y * width + x
        if x > 0 { m += magnitude(at - 1) }
        if y > 0 {
            m += magnitude(at - width)
            if x > 0 { m += magnitude(at - width - 1) }
            if x + 1 < width { m += magnitude(at - width + 1) }
        }
        let a = Int(activity[y * width + x])
        let busy = a == 0 ? 0 : 20 * a < 3 * channel ? 1 : 5 * a < 2 * channel ? 2 : 3
        return min(m, 3) * 4 + busy
    }

    /// Adds a coded channel's magnitudes to the activity map.
    @inline(__always)
    static func accumulate(_ activity: inout [Int32], _ values: UnsafeBufferPointer<Int32>, base: Int) {
        for i in activity.indices { activity[i] += Int32(min(values[base + i].magnitude, 4)) }
    }

    static func check(count: Int, channels: Int, height: Int, width: Int, tables: [QuantizedCDF],
                      priors: ContextPriors? = nil) throws {
        if let priors, priors.counts.count != tables.count * contexts
            || priors.counts.indices.contains(where: { priors.counts[$0].count != tables[$0 / contexts].count }) {
            throw EntropyError.invalidTable("the context priors do not fit the tables")
        }
        guard channels >= 0, height >= 0, width >= 0, channels * height * width == count else {
            throw EntropyError.invalidTable("\(count) latents for a \(channels) x \(height) x \(width) grid")
        }
        guard tables.count == channels else {
            throw EntropyError.invalidTable("\(tables.count) tables for \(channels) channels")
        }
    }

    /// Walks a grid in coding order (channels in turn, each plane in raster order), keeping the
    /// adaptive tables and the activity map. For each position `body` gets its index, its
    /// channel's prior table, its context's adaptive table and that context's number, and
    /// returns the symbol coded there, which then updates that table. `values` must hold the
    /// value at an index by the time `body` returns from it (the decoder writes it there).
    /// The tables start from `priors` when given, else from the channel's prior table.
    static func traverse(_ values: UnsafeBufferPointer<Int32>, channels: Int, height: Int, width: Int,
                         tables: [QuantizedCDF], priors: ContextPriors?,
                         _ body: (_ index: Int, _ table: QuantizedCDF, _ model: AdaptiveFrequencies, _ context: Int) throws -> Int) rethrows {
        let plane = height * width
        var activity = [Int32](repeating: 0, count: plane)
        for c in 0..<channels {
            var models = priors.map { p in (0..<contexts).map { AdaptiveFrequencies(counts: p.counts[c * contexts + $0]) } }
                ?? [AdaptiveFrequencies](repeating: AdaptiveFrequencies(prior: tables[c]), count: contexts)
            let base = c * plane
            for y in 0..<height {
                for x in 0..<width {
                    let k = activity.withUnsafeBufferPointer {
                        context(values, activity: $0, channel: c, base: base, y: y, x: x, width: width)
                    }
                    models[k].update(try body(base + y * width + x, tables[c], models[k], k))
                }
            }
            accumulate(&activity, values, base: base)
        }
    }

    /// Encodes `values`, a channel-major `channels` x `height` x `width` grid, channel *c* with
    /// `tables[c]` as its prior and its contexts starting from `priors` (fitted on training
    /// latents) when given. Output: a `RANSWriter` stream.
    public static func encode(_ values: [Int32], channels: Int, height: Int, width: Int,
                              tables: [QuantizedCDF], priors: ContextPriors? = nil) throws -> [UInt8] {
        try check(count: values.count, channels: channels, height: height, width: width, tables: tables, priors: priors)
        // The adaptive tables run forwards; rANS codes backwards. So the intervals are worked
        // out first, in the decoder's order, and pushed in reverse.
        var starts: [UInt32] = [], frequencies: [UInt32] = [], bits: [UInt8] = []
        starts.reserveCapacity(values.count); frequencies.reserveCapacity(values.count); bits.reserveCapacity(values.count)
        values.withUnsafeBufferPointer { v in
            traverse(v, channels: channels, height: height, width: width, tables: tables, priors: priors) { i, table, model, _ in
                let relative = Int64(v[i]) - Int64(table.offset)
                let inRange = relative >= 0 && relative < Int64(table.escape)
                let s = inRange ? Int(relative) : table.escape
                let (start, f) = model.interval(of: s)
                starts.append(start); frequencies.append(f); bits.append(UInt8(precision))
                if !inRange {
                    for chunk in RANSBypass.chunks(value: relative, escape: table.escape) {
                        starts.append(chunk); frequencies.append(1); bits.append(UInt8(RANSBypass.bits))
                    }
                }
                return s
            }
        }
        var writer = RANSWriter(capacity: values.count / 2 + 16)
        for i in stride(from: starts.count - 1, through: 0, by: -1) {
            writer.put(start: starts[i], frequency: frequencies[i], bits: UInt32(bits[i]))
        }
        return writer.bytes()
    }

    /// Decodes a `channels` x `height` x `width` grid coded with the same `tables` and `priors`.
    /// Damaged input is reported, never trapped on.
    public static func decode(_ bytes: [UInt8], channels: Int, height: Int, width: Int,
                              tables: [QuantizedCDF], priors: ContextPriors? = nil) throws -> [Int32] {
        let (count, overflow) = channels.multipliedReportingOverflow(by: height * width)
        guard !overflow else { throw EntropyError.invalidTable("latent grid too large") }
        try check(count: count, channels: channels, height: height, width: width, tables: tables, priors: priors)
        var reader = try RANSReader(bytes, symbols: count)
        var out = [Int32](repeating: 0, count: count)
        try out.withUnsafeMutableBufferPointer { o in
            try traverse(UnsafeBufferPointer(o), channels: channels, height: height, width: width, tables: tables, priors: priors) { i, table, model, _ in
                let (s, start, f) = model.symbol(forSlot: reader.slot(bits: precision))
                try reader.consume(start: start, frequency: f, bits: precision)
                let v = s < table.escape ? Int64(s) : try RANSBypass.read(from: &reader, escape: table.escape)
                guard let value = Int32(exactly: v + Int64(table.offset)) else {
                    throw EntropyError.corrupt("escaped value out of range")
                }
                o[i] = value
                return s
            }
        }
        try reader.finish()
        return out
    }
}
