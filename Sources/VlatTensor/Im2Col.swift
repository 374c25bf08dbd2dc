/// The geometry of a 2-D convolution: input size, kernel, stride and zero padding.
public struct ConvGeometry: Sendable, Equatable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var kernel: Int
    public var stride: Int
    public var padding: Int

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
public enum Im2Col {
    public static func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, _ col: UnsafeMutablePointer<Float>) {
        let k = g.kernel, s = g.stride, p = g.padding, oh = g.outHeight, ow = g.outWidth, h = g.height, w = g.width
        let positions = oh * ow
        Parallel.forRanges(g.channels, minimumPerThread: 2) { channels in
            for c in channels {
                let plane = x + c * h * w
                for ky in 0..<k {
                    for kx in 0..<k {
                        let row = col + ((c * k + ky) * k + kx) * positions
                        for oy in 0..<oh {
                            let iy = oy * s - p + ky
                            let dst = row + oy * ow
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
                                var ix = lo * s - p + kx
                                for ox in lo..<hi {
                                    dst[ox] = src[ix]
                                    ix += s
                                }
                                if hi < ow { (dst + hi).update(repeating: 0, count: ow - hi) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds the column matrix back into an image (the adjoint of `im2col`): `x += col2im(col)`.
    public static func col2im(_ col: UnsafePointer<Float>, _ g: ConvGeometry, _ x: UnsafeMutablePointer<Float>) {
        let k = g.kernel, s = g.stride, p = g.padding, oh = g.outHeight, ow = g.outWidth, h = g.height, w = g.width
        let positions = oh * ow
        Parallel.forRanges(g.channels, minimumPerThread: 2) { channels in
            for c in channels {
                let plane = x + c * h * w
                for ky in 0..<k {
                    for kx in 0..<k {
                        let row = col + ((c * k + ky) * k + kx) * positions
                        for oy in 0..<oh {
                            let iy = oy * s - p + ky
                            if iy < 0 || iy >= h { continue }
                            let src = row + oy * ow
                            let dst = plane + iy * w
                            let lo = min(ow, max(0, (p - kx + s - 1) / s))
                            let hi = max(lo, min(ow, (w + p - kx + s - 1) / s))
                            var ix = lo * s - p + kx
                            for ox in lo..<hi {
                                dst[ix] += src[ox]
                                ix += s
                            }
                        }
                    }
                }
            }
        }
    }
}
