import Testing
import VlatTestSupport
import VlatTensor

@Suite("im2col and col2im against plain loops")
struct Im2ColTests {
    // (channels, height, width, kernel, stride, padding): the codec's 5x5/2 and 3x3/1 shapes,
    // widths around the vector loops' eight and sixteen lanes, and kernels wider than the padding.
    static let cases = [(2, 9, 37, 5, 2, 2), (3, 7, 35, 3, 1, 1), (2, 6, 8, 3, 1, 1), (1, 5, 3, 3, 1, 1),
                        (2, 8, 19, 5, 1, 2), (2, 6, 21, 3, 1, 0), (1, 7, 17, 4, 3, 1), (2, 10, 40, 5, 2, 1)]

    /// The column matrix entry of channel c, tap (ky, kx), output (oy, ox), or nil where the tap reads padding.
    static func source(_ g: ConvGeometry, ky: Int, kx: Int, oy: Int, ox: Int) -> (iy: Int, ix: Int)? {
        let iy = oy * g.stride - g.padding + ky, ix = ox * g.stride - g.padding + kx
        return iy >= 0 && iy < g.height && ix >= 0 && ix < g.width ? (iy, ix) : nil
    }

    @Test(arguments: cases)
    func im2colCopiesEachTap(c: (Int, Int, Int, Int, Int, Int)) {
        let g = ConvGeometry(channels: c.0, height: c.1, width: c.2, kernel: c.3, stride: c.4, padding: c.5)
        var r = SeededGenerator(seed: 21)
        let x = (0..<(g.channels * g.height * g.width)).map { _ in r.uniform() }
        var col = [Float](repeating: .nan, count: g.patchSize * g.positions)
        x.withUnsafeBufferPointer { xp in col.withUnsafeMutableBufferPointer { Im2Col.im2col(xp.baseAddress!, g, $0.baseAddress!) } }
        var mismatches = 0
        for ch in 0..<g.channels {
            for ky in 0..<g.kernel {
                for kx in 0..<g.kernel {
                    for oy in 0..<g.outHeight {
                        for ox in 0..<g.outWidth {
                            let at = ((ch * g.kernel + ky) * g.kernel + kx) * g.positions + oy * g.outWidth + ox
                            let want = Self.source(g, ky: ky, kx: kx, oy: oy, ox: ox).map { x[(ch * g.height + $0.iy) * g.width + $0.ix] } ?? 0
                            if col[at] != want { mismatches += 1 }
                        }
                    }
                }
            }
        }
        #expect(mismatches == 0)
    }

    /// col2im adds each element's terms in the order (oy, ky, kx) it documents, so a plain loop
    /// in that order gives the same floats, bit for bit.
    /// A case's geometry, a random column matrix and a random image to add it into.
    static func col2imOperands(_ c: (Int, Int, Int, Int, Int, Int), seed: UInt64) -> (g: ConvGeometry, col: [Float], start: [Float]) {
        let g = ConvGeometry(channels: c.0, height: c.1, width: c.2, kernel: c.3, stride: c.4, padding: c.5)
        var r = SeededGenerator(seed: seed)
        let col = (0..<(g.patchSize * g.positions)).map { _ in r.uniform() }
        return (g, col, (0..<(g.channels * g.height * g.width)).map { _ in r.uniform() })
    }

    @Test(arguments: cases)
    func col2imAddsInOrder(c: (Int, Int, Int, Int, Int, Int)) {
        let (g, col, start) = Self.col2imOperands(c, seed: 22)
        var want = start
        for ch in 0..<g.channels {
            for oy in 0..<g.outHeight {
                for ky in 0..<g.kernel {
                    for kx in 0..<g.kernel {
                        for ox in 0..<g.outWidth {
                            guard let (iy, ix) = Self.source(g, ky: ky, kx: kx, oy: oy, ox: ox) else { continue }
                            want[(ch * g.height + iy) * g.width + ix] += col[((ch * g.kernel + ky) * g.kernel + kx) * g.positions + oy * g.outWidth + ox]
                        }
                    }
                }
            }
        }
        var got = start
        col.withUnsafeBufferPointer { cp in got.withUnsafeMutableBufferPointer { Im2Col.col2im(cp.baseAddress!, g, $0.baseAddress!) } }
        #expect(zip(got, want).filter { $0.0.bitPattern != $0.1.bitPattern }.count == 0)
    }

    /// Bands of output rows, processed in order (what inference does), add the same terms in
    /// the same order as the whole pass, on one thread or two (the threads share the image rows
    /// when there are few channels).
    @Test(arguments: cases)
    func col2imInBandsEqualsTheWholePass(c: (Int, Int, Int, Int, Int, Int)) {
        let (g, col, start) = Self.col2imOperands(c, seed: 23)
        var whole = start
        col.withUnsafeBufferPointer { cp in whole.withUnsafeMutableBufferPointer { Im2Col.col2im(cp.baseAddress!, g, $0.baseAddress!) } }
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for threads in [1, 2] {
            Parallel.threads = threads
            for bandRows in [1, 2, 3] {
                var banded = start
                for first in stride(from: 0, to: g.outHeight, by: bandRows) {
                    let rows = first..<min(g.outHeight, first + bandRows)
                    // A band's column matrix: its rows' positions of every (channel, ky, kx).
                    var band: [Float] = []
                    for t in 0..<g.patchSize { band += col[(t * g.positions + rows.lowerBound * g.outWidth)..<(t * g.positions + rows.upperBound * g.outWidth)] }
                    band.withUnsafeBufferPointer { cp in
                        banded.withUnsafeMutableBufferPointer { Im2Col.col2im(cp.baseAddress!, g, $0.baseAddress!, rows: rows) }
                    }
                }
                #expect(zip(banded, whole).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(threads) threads, bands of \(bandRows)")
            }
        }
    }
}
