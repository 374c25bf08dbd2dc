/// Inference of a transposed convolution as `stride * stride` ordinary convolutions, one per
/// output phase (the output's row and column remainders modulo the stride), each accumulated
/// tap by tap straight from the input.
///
/// A stride-s transposed convolution sends input pixel `i` to outputs `i*s - p + ky`; so the
/// outputs of one phase read a fixed subset of the kernel's taps, and along a row the input
/// columns they read are consecutive. Every tap is then one product `C += W_tap x X_row`
/// (`Cout x Cin` times `Cin x` a row's phase columns) on the zero-padded input, with no column
/// matrix to write and scatter back (what `Im2Col.col2im` does for training, where the column
/// matrix is needed for the weight gradient anyway).
///
/// An output element is its bias plus its taps in a fixed order (kernel row, then kernel
/// column), each product one call whose shape depends only on the layer and the image's width:
/// so any band of output rows, and any thread count, gives the same floats as the whole image.
enum ConvTransposePhases {
    /// Output rows `rows` of the transposed convolution of the whole input `x[Cin, h, w]` (one
    /// image), written into `out[Cout, outHeight, ow]` (the image's whole output; other rows are
    /// left as they are). Needs a buffer of the band's input rows, zero-padded. `taps` as
    /// `ConvTaps.taps(_:outChannels:inChannels:kernel:transposed:)` gives them.
    static func forward(_ x: UnsafePointer<Float>, inChannels cin: Int, height h: Int, width w: Int,
                        taps: UnsafePointer<Float>, bias: UnsafePointer<Float>, outChannels cout: Int,
                        kernel k: Int, stride s: Int, padding p: Int, outHeight: Int, outWidth ow: Int,
                        rows: Range<Int>, out: UnsafeMutablePointer<Float>) {
        // Column phases: outputs ox = rx + s*j read taps kx = kx0 + s*u at input column j + cx - u.
        struct Phase { var rx: Int, kx0: Int, cx: Int, columns: Int, taps: Int }
        let phases: [Phase] = (0..<s).map { rx in
            let kx0 = (rx + p) % s
            return Phase(rx: rx, kx0: kx0, cx: (rx + p - kx0) / s, columns: max(0, (ow - rx + s - 1) / s),
                         taps: kx0 < k ? (k - kx0 + s - 1) / s : 0)
        }
        let padLeft = phases.map { max(0, $0.taps - 1 - $0.cx) }.max() ?? 0
        let padRight = phases.map { max(0, $0.columns - 1 + $0.cx - (w - 1)) }.max() ?? 0
        let pw = padLeft + w + padRight
        // The input rows the band reads, zero-padded left and right: [row][Cin][pw], so that a
        // tap's operand (one row's channels) is one block, `pw` floats a channel.
        // Output row oy reads input rows (oy + p - ky) / s, ky < k: from ceil((lo + p - k + 1) / s).
        let lowest = rows.lowerBound + p - k + 1
        let firstRow = lowest <= 0 ? 0 : (lowest + s - 1) / s
        let lastRow = min(h - 1, (rows.upperBound - 1 + p) / s)
        let inRows = max(0, lastRow - firstRow + 1)
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: max(1, cin * inRows * pw))
        defer { padded.deallocate() }
        Parallel.forRanges(cin, minimumPerThread: 8) { channels in
            for c in channels {
                for r in 0..<inRows {
                    let d = padded + (r * cin + c) * pw
                    d.update(repeating: 0, count: padLeft)
                    (d + padLeft).update(from: x + (c * h + firstRow + r) * w, count: w)
                    (d + padLeft + w).update(repeating: 0, count: padRight)
                }
            }
        }
        let maxColumns = phases.map(\.columns).max() ?? 0
        let planeOut = outHeight * ow
        Parallel.forRanges(rows.count) { band in
            let acc = UnsafeMutablePointer<Float>.allocate(capacity: max(1, cout * maxColumns))
            defer { acc.deallocate() }
            for r in band {
                let oy = rows.lowerBound + r
                for ph in phases where ph.columns > 0 {
                    let n = ph.columns
                    for o in 0..<cout { (acc + o * n).update(repeating: bias[o], count: n) }
                    for ky in 0..<k {
                        let t = oy + p - ky
                        guard t >= 0, t % s == 0, t / s < h else { continue }
                        let iy = t / s - firstRow
                        for u in 0..<ph.taps {
                            let kx = ph.kx0 + s * u
                            BLAS.sgemm(m: cout, n: n, k: cin, a: taps + (ky * k + kx) * cout * cin, lda: cin,
                                       b: padded + iy * cin * pw + padLeft + ph.cx - u, ldb: pw,
                                       beta: 1, c: acc, ldc: n, chunk: n, threaded: false)
                        }
                    }
                    for o in 0..<cout {
                        let dst = out + o * planeOut + oy * ow + ph.rx, src = acc + o * n
                        for j in 0..<n { dst[s * j] = src[j] }
                    }
                }
            }
        }
    }
}
