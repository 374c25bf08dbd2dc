/// The geometry of a 2-D convolution: input size, kernel, stride and zero padding.
public struct ConvGeometry: Sendable, Equatable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var kernel: Int
    public var stride: Int
    public var padding: Int

    public init(channels: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int) {
        (self.channels, self.height, self.width, self.kernel, self.stride, self.padding) = (channels, height, width, kernel, stride, padding)
    }

    public var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    /// Rows of the column matrix: channels x kernel x kernel.
    public var patchSize: Int { channels * kernel * kernel }
    /// Columns of the column matrix: output positions.
    public var positions: Int { outHeight * outWidth }
}

/// im2col and its adjoint col2im. The column matrix has `patchSize` rows, ordered
/// (channel, ky, kx), and `positions` columns, ordered (oy, ox): row-major `[patchSize, positions]`,
/// which makes a convolution `W[Cout, patchSize] x col`.
///
/// Both take an optional band of output rows `rows`: the column matrix then holds only those
/// rows' positions (`rows.count * outWidth` columns), so that inference on a large image can
/// go band by band with a bounded buffer.
public enum Im2Col {
    public static func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, _ col: UnsafeMutablePointer<Float>,
                              rows: Range<Int>? = nil) {
        let k = g.kernel, s = g.stride, p = g.padding, ow = g.outWidth, h = g.height, w = g.width
        let band = rows ?? 0..<g.outHeight
        let positions = band.count * ow
        Parallel.forRanges(g.channels, minimumPerThread: 2) { channels in
            for c in channels {
                let plane = x + c * h * w
                for ky in 0..<k {
                    for kx in 0..<k {
                        let row = col + ((c * k + ky) * k + kx) * positions
                        for oy in band {
                            let iy = oy * s - p + ky
                            let dst = row + (oy - band.lowerBound) * ow
                            if iy < 0 || iy >= h {
                                dst.update(repeating: 0, count: ow)
                                continue
                            }
                            let src = plane + iy * w
                            if s == 1 {
                                // Contiguous run: zero the padded ends, copy the middle.
                                let lo = max(0, p - kx), hi = min(ow, w + p - kx)
                                if lo > 0 { dst.update(repeating: 0, count: min(lo, ow)) }
                                if hi > lo { (dst + lo).update(from: src + (lo - p + kx), count: hi - lo) }
                                if hi < ow { (dst + max(hi, 0)).update(repeating: 0, count: ow - max(hi, 0)) }
                            } else {
                                // Valid ox: 0 <= ox*s - p + kx < w. Zero outside, strided copy inside.
                                let lo = min(ow, max(0, (p - kx + s - 1) / s))
                                let hi = max(lo, min(ow, (w + p - kx + s - 1) / s))
                                if lo > 0 { dst.update(repeating: 0, count: lo) }
                                var ix = lo * s - p + kx, ox = lo
                                if s == 2 {
                                    // Eight outputs from sixteen contiguous inputs at a time: one
                                    // load and a lane shuffle instead of eight strided reads.
                                    while ox + 8 <= hi && ix + 16 <= w {
                                        let v = UnsafeRawPointer(src + ix).loadUnaligned(as: SIMD16<Float>.self)
                                        UnsafeMutableRawPointer(dst + ox).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
                                        ox += 8
                                        ix += 16
                                    }
                                }
                                while ox < hi {
                                    dst[ox] = src[ix]
                                    ix += s
                                    ox += 1
                                }
                                if hi < ow { (dst + hi).update(repeating: 0, count: ow - hi) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `a / b` rounded towards minus infinity (b > 0).
    static func floorDivide(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

    /// Adds the column matrix back into an image (the adjoint of `im2col`): `x += col2im(col)`.
    ///
    /// Each element of `x` receives its terms in the order of the column matrix's positions
    /// (`oy`, then `ky`, `kx`), so splitting the positions into bands of rows, processed in
    /// order, adds the same terms in the same order: a transposed convolution computed in bands
    /// (`BandedInference`) gives the same floats as one computed whole.
    ///
    /// For one `(oy, ky)` every `kx` lands on the same image row, so the row is swept once,
    /// each element gathering its `kx` terms in ascending order (the same sums as one pass
    /// per `kx`, with a single read and write of the row instead of `k`).
    public static func col2im(_ col: UnsafePointer<Float>, _ g: ConvGeometry, _ x: UnsafeMutablePointer<Float>,
                              rows: Range<Int>? = nil) {
        let k = g.kernel, s = g.stride, p = g.padding, ow = g.outWidth, h = g.height, w = g.width
        let band = rows ?? 0..<g.outHeight
        let positions = band.count * ow
        // Element ix takes the kx with (ix + p - kx) divisible by s, at ox = (ix + p - kx) / s;
        // in [first, last) every such kx has 0 <= ox < ow, so only the ends check.
        let first = min(w, max(0, k - 1 - p)), last = max(first, min(w, s * ow - p))
        // The image rows the band reaches; the threads share (channel, row) pairs, so that an
        // image of few channels (a synthesis' last layer: 3) still keeps every thread busy. Each
        // row takes its terms from the band's rows oy in ascending order, as the whole pass does.
        let firstRow = max(0, band.lowerBound * s - p), endRow = min(h, (band.upperBound - 1) * s - p + k)
        let rowCount = max(0, endRow - firstRow)
        Parallel.forRanges(g.channels * rowCount, minimumPerThread: 4) { units in
            for u in units {
                let c = u / rowCount, iy = firstRow + u % rowCount
                // oy reaches iy through ky = iy + p - oy * s, 0 <= ky < k.
                let lowest = max(band.lowerBound, -Self.floorDivide(-(iy + p - k + 1), s))
                let highest = min(band.upperBound - 1, Self.floorDivide(iy + p, s))
                guard lowest <= highest else { continue }
                for oy in lowest...highest {
                    do {
                        let ky = iy + p - oy * s
                        // src[kx][ox]: the terms of kernel column kx at output column ox.
                        let src = col + (c * k + ky) * k * positions + (oy - band.lowerBound) * ow
                        let dst = x + c * h * w + iy * w
                        @inline(__always) func edge(_ ix: Int) {
                            var acc = dst[ix]
                            var kx = (ix + p) % s
                            while kx < k {
                                let ox = (ix + p - kx) / s
                                if ox >= 0 && ox < ow { acc += src[kx * positions + ox] }
                                kx += s
                            }
                            dst[ix] = acc
                        }
                        for ix in 0..<first { edge(ix) }
                        if s == 2 && k == 5 && p == 2 {
                            // The codec's layers: even ix = 2j takes kx 0, 2, 4 at ox j+1, j, j-1;
                            // odd ix = 2j+1 takes kx 1, 3 at ox j+1, j.
                            let (s0, s1, s2, s3, s4) = (src, src + positions, src + 2 * positions, src + 3 * positions, src + 4 * positions)
                            @inline(__always) func even(_ ix: Int) { let j = ix >> 1; dst[ix] = dst[ix] + s0[j + 1] + s2[j] + s4[j - 1] }
                            @inline(__always) func odd(_ ix: Int) { let j = ix >> 1; dst[ix] = dst[ix] + s1[j + 1] + s3[j] }
                            var ix = first
                            if ix < last && ix & 1 == 1 { odd(ix); ix += 1 }
                            // Eight even and eight odd elements at a time, each lane summed in
                            // the order above, so the floats are the same.
                            @inline(__always) func load(_ q: UnsafePointer<Float>) -> SIMD8<Float> {
                                UnsafeRawPointer(q).loadUnaligned(as: SIMD8<Float>.self)
                            }
                            while ix + 16 <= last {
                                let j = ix >> 1
                                let d = UnsafeRawPointer(dst + ix).loadUnaligned(as: SIMD16<Float>.self)
                                let e = d.evenHalf + load(s0 + j + 1) + load(s2 + j) + load(s4 + j - 1)
                                let o = d.oddHalf + load(s1 + j + 1) + load(s3 + j)
                                var r = SIMD16<Float>()
                                for t in 0..<8 {
                                    r[2 * t] = e[t]
                                    r[2 * t + 1] = o[t]
                                }
                                UnsafeMutableRawPointer(dst + ix).storeBytes(of: r, as: SIMD16<Float>.self)
                                ix += 16
                            }
                            while ix + 1 < last { even(ix); odd(ix + 1); ix += 2 }
                            if ix < last { even(ix) }
                        } else if s == 1 {
                            // Stride 1 (the tail's 3x3 layers): element ix takes every kx at
                            // ox = ix + p - kx. Eight elements at a time, each lane adding its
                            // terms in ascending kx as `edge` does, so the floats are the same.
                            var ix = first
                            while ix + 8 <= last {
                                var acc = UnsafeRawPointer(dst + ix).loadUnaligned(as: SIMD8<Float>.self)
                                for kx in 0..<k {
                                    acc += UnsafeRawPointer(src + kx * positions + ix + p - kx).loadUnaligned(as: SIMD8<Float>.self)
                                }
                                UnsafeMutableRawPointer(dst + ix).storeBytes(of: acc, as: SIMD8<Float>.self)
                                ix += 8
                            }
                            while ix < last { edge(ix); ix += 1 }
                        } else {
                            for ix in first..<last { edge(ix) }
                        }
                        for ix in last..<w { edge(ix) }
                    }
                }
            }
        }
    }
}

extension ConvGeometry {
    /// Output rows per band so that a band's column matrix stays under `bytes` (at least one row).
    public func rowsPerBand(bytes: Int) -> Int {
        max(1, min(outHeight, bytes / max(1, patchSize * outWidth * MemoryLayout<Float>.size)))
    }

    /// Inference works in bands whose column matrix is at most this big: whole-image im2col of
    /// a large photo would need gigabytes (25 floats per channel and position for a 5x5 kernel).
    public static let inferenceBandBytes = 16 << 20
}
