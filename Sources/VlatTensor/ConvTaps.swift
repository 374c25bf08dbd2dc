/// Inference of a convolution tap by tap: for each output row, each of the kernel's `k * k`
/// taps is one product `C += W_tap x X` (`Cout x Cin` times `Cin x` the row's output columns)
/// read straight from the input, with no column matrix (`Im2Col.im2col`) to write first.
///
/// The input columns a tap reads along an output row are every `stride`-th one, so the input is
/// first split into `stride` column phases (columns `r`, `r + s`, `r + 2s`, ...), each zero-padded:
/// in its phase a tap's columns are consecutive.
///
/// An output element is its bias plus its taps in a fixed order (kernel row, then kernel
/// column), each product one call whose shape depends only on the layer and the image's width:
/// so any band of output rows, and any thread count, gives the same floats as the whole image.
enum ConvTaps {
    /// Each tap's weights as a row-major `Cout x Cin` matrix, tap after tap, from a convolution's
    /// `weight` (`[Cout, Cin, k, k]`) or a transposed convolution's (`[Cin, Cout, k, k]`).
    static func taps(_ weight: [Float], outChannels cout: Int, inChannels cin: Int, kernel k: Int, transposed: Bool) -> [Float] {
        var taps = [Float](repeating: 0, count: k * k * cout * cin)
        for o in 0..<cout {
            for c in 0..<cin {
                let from = (transposed ? c * cout + o : o * cin + c) * k * k
                for t in 0..<(k * k) { taps[t * cout * cin + o * cin + c] = weight[from + t] }
            }
        }
        return taps
    }

    /// Output rows `rows` of the convolution of the whole input `x[Cin, h, w]` (one image),
    /// written into `out[Cout, outHeight, ow]` (the image's whole output; other rows are left as
    /// they are). `taps` as `taps(_:outChannels:inChannels:kernel:transposed:)` gives them.
    static func forward(_ x: UnsafePointer<Float>, inChannels cin: Int, height h: Int, width w: Int,
                        taps: UnsafePointer<Float>, bias: UnsafePointer<Float>, outChannels cout: Int,
                        kernel k: Int, stride s: Int, padding p: Int, outHeight: Int, outWidth ow: Int,
                        rows: Range<Int>, out: UnsafeMutablePointer<Float>) {
        let g = PhaseGeometry(height: h, width: w, kernel: k, stride: s, padding: p, outWidth: ow, rows: rows)
        let pw = g.paddedWidth
        // The input rows the band reads, split into column phases: [phase][row][Cin][pw], so that
        // a tap's operand (one row's channels) is one block, `pw` floats a channel.
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: max(1, cin * s * g.inRows * pw))
        defer { padded.deallocate() }
        g.forEachPhaseRow(units: cin, minimumPerThread: 8) { c, r, row in
            let src = x + (c * h + g.firstRow + row) * w + r, dst = padded + ((r * g.inRows + row) * cin + c) * pw
            dst.update(repeating: 0, count: g.padLeft)
            for q in 0..<g.phaseWidth[r] { dst[g.padLeft + q] = src[q * s] }
            (dst + g.padLeft + g.phaseWidth[r]).update(repeating: 0, count: pw - g.padLeft - g.phaseWidth[r])
        }
        let plane = outHeight * ow
        Parallel.forRanges(rows.count) { band in
            // Each row accumulates in a contiguous buffer (the output's channel planes lie far
            // apart), then is copied out.
            let acc = UnsafeMutablePointer<Float>.allocate(capacity: max(1, cout * ow))
            defer { acc.deallocate() }
            for oy in band.lowerBound + rows.lowerBound..<band.upperBound + rows.lowerBound {
                for o in 0..<cout { (acc + o * ow).update(repeating: bias[o], count: ow) }
                for ky in 0..<k {
                    let iy = oy * s - p + ky
                    guard iy >= 0, iy < h else { continue }
                    for kx in 0..<k {
                        let b = padded + ((g.phase(kx) * g.inRows + iy - g.firstRow) * cin) * pw + g.padLeft + g.offset(kx)
                        BLAS.sgemm(m: cout, n: ow, k: cin, a: taps + (ky * k + kx) * cout * cin, lda: cin,
                                   b: b, ldb: pw, beta: 1, c: acc, ldc: ow, chunk: ow, threaded: false)
                    }
                }
                for o in 0..<cout { (out + o * plane + oy * ow).update(from: acc + o * ow, count: ow) }
            }
        }
    }

    /// Where a band's taps read: the input's column phases, each zero-padded to one width, and
    /// the input rows the band's output rows need.
    struct PhaseGeometry {
        let stride: Int, padding: Int
        /// Columns of each phase (`r`, `r + stride`, ...) within the image.
        let phaseWidth: [Int]
        /// Zero columns before a phase's first, and the padded phase width.
        let padLeft: Int, paddedWidth: Int
        /// The band's first input row and its row count.
        let firstRow: Int, inRows: Int

        init(height h: Int, width w: Int, kernel k: Int, stride s: Int, padding p: Int, outWidth ow: Int, rows: Range<Int>) {
            (stride, padding) = (s, p)
            let widths = (0..<s).map { r in max(0, (w - r + s - 1) / s) }
            let left = max(0, -Self.offset(0, stride: s, padding: p))
            let padRight = (0..<k).map { kx in
                max(0, ow - 1 + Self.offset(kx, stride: s, padding: p) - (widths[Self.phase(kx, stride: s, padding: p)] - 1))
            }.max() ?? 0
            (phaseWidth, padLeft) = (widths, left)
            paddedWidth = left + (widths.max() ?? 0) + padRight
            firstRow = max(0, rows.lowerBound * s - p)
            let lastRow = min(h - 1, (rows.upperBound - 1) * s - p + k - 1)
            inRows = max(0, lastRow - firstRow + 1)
        }

        // Tap column kx reads input column s*(ox + offset) + phase.
        static func phase(_ kx: Int, stride s: Int, padding p: Int) -> Int { ((kx - p) % s + s) % s }
        static func offset(_ kx: Int, stride s: Int, padding p: Int) -> Int { (kx - p - phase(kx, stride: s, padding: p)) / s }
        /// `body(unit, phase, row)` for every unit (a channel, or a pair of them) below `units`,
        /// column phase and band input row: the loop that fills a band's padded phases, the units
        /// shared among the threads.
        func forEachPhaseRow(units: Int, minimumPerThread: Int, _ body: (_ unit: Int, _ phase: Int, _ row: Int) -> Void) {
            Parallel.forRanges(units, minimumPerThread: minimumPerThread) { range in
                for unit in range {
                    for r in 0..<stride {
                        for row in 0..<inRows { body(unit, r, row) }
                    }
                }
            }
        }

        func phase(_ kx: Int) -> Int { Self.phase(kx, stride: stride, padding: padding) }
        func offset(_ kx: Int) -> Int { Self.offset(kx, stride: stride, padding: padding) }
    }
}
