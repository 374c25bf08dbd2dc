import CKernels

/// `ConvTaps` with bfloat16 operands (`InferencePrecision.bfloat16`): the same taps, read from
/// the same column phases, multiplied two input channels at a time by `vlat_bf16_taps_row` and
/// summed in float32. An output element is its bias plus, kernel row by kernel row, the row's
/// taps in order, each over the channel pairs in order, whatever band or thread computes it.
extension ConvTaps {
    /// Output channels a weight block holds (`vlat_bf16_taps_row`'s row block).
    static let bfloat16Block = 8

    /// A convolution's weights (`[Cout, Cin, k, k]`) as `vlat_bf16_taps_row` reads them:
    /// `[tap][Cout / 8][Cin / 2][8]` bfloat16 pairs, channels and outputs zero-padded to whole pairs
    /// and blocks.
    static func bfloat16Weights(_ weight: [Float], outChannels cout: Int, inChannels cin: Int, kernel k: Int) -> [UInt32] {
        let block = bfloat16Block, blocks = (cout + block - 1) / block, pairs = (cin + 1) / 2, taps = k * k
        var packed = [UInt32](repeating: 0, count: taps * blocks * pairs * block)
        weight.withUnsafeBufferPointer { w in
            packed.withUnsafeMutableBufferPointer { out in
                for t in 0..<taps {
                    for o in 0..<cout {
                        for j in 0..<pairs {
                            let even = w.baseAddress! + (o * cin + 2 * j) * taps + t
                            let odd = 2 * j + 1 < cin ? even + taps : nil
                            let at = ((t * blocks + o / block) * pairs + j) * block + o % block
                            vlat_bf16_pack_pairs(even, odd, 1, out.baseAddress! + at, 1)
                        }
                    }
                }
            }
        }
        return packed
    }

    /// `forward`'s output rows with bfloat16 operands, `weights` as `bfloat16Weights` packs them.
    /// Only on a CPU with AVX512_BF16 (`InferencePrecision.bfloat16Available`).
    static func forwardBFloat16(_ x: UnsafePointer<Float>, inChannels cin: Int, height h: Int, width w: Int,
                                weights: UnsafePointer<UInt32>, bias: UnsafePointer<Float>, outChannels cout: Int,
                                kernel k: Int, stride s: Int, padding p: Int, outHeight: Int, outWidth ow: Int,
                                rows: Range<Int>, out: UnsafeMutablePointer<Float>) {
        precondition(InferencePrecision.bfloat16Available, "bfloat16 products need AVX512_BF16")
        let g = PhaseGeometry(height: h, width: w, kernel: k, stride: s, padding: p, outWidth: ow, rows: rows)
        let pw = g.paddedWidth, pairs = (cin + 1) / 2
        let block = bfloat16Block, blocks = (cout + block - 1) / block
        // The band's input rows in column phases, channels in pairs: [phase][row][Cin / 2][pw].
        let padded = UnsafeMutablePointer<UInt32>.allocate(capacity: max(1, pairs * s * g.inRows * pw))
        defer { padded.deallocate() }
        g.forEachPhaseRow(units: pairs, minimumPerThread: 4) { j, r, row in
            let even = x + (2 * j * h + g.firstRow + row) * w + r
            let odd = 2 * j + 1 < cin ? even + h * w : nil
            let dst = padded + ((r * g.inRows + row) * pairs + j) * pw
            dst.update(repeating: 0, count: g.padLeft)
            vlat_bf16_pack_pairs(even, odd, s, dst + g.padLeft, g.phaseWidth[r])
            (dst + g.padLeft + g.phaseWidth[r]).update(repeating: 0, count: pw - g.padLeft - g.phaseWidth[r])
        }
        let plane = outHeight * ow
        Parallel.forRanges(rows.count) { band in
            // Whole blocks of output rows accumulate contiguously (the padding outputs' rows are
            // computed and dropped).
            let acc = UnsafeMutablePointer<Float>.allocate(capacity: max(1, blocks * block * ow))
            defer { acc.deallocate() }
            var operands = [UnsafePointer<UInt32>?](repeating: nil, count: k)
            for oy in band.lowerBound + rows.lowerBound..<band.upperBound + rows.lowerBound {
                for o in 0..<(blocks * block) { (acc + o * ow).update(repeating: o < cout ? bias[o] : 0, count: ow) }
                for ky in 0..<k {
                    let iy = oy * s - p + ky
                    guard iy >= 0, iy < h else { continue }
                    for kx in 0..<k {
                        operands[kx] = UnsafePointer(padded + ((g.phase(kx) * g.inRows + iy - g.firstRow) * pairs) * pw + g.padLeft + g.offset(kx))
                    }
                    let done = operands.withUnsafeBufferPointer { ops in
                        vlat_bf16_taps_row(Int32(blocks), Int32(pairs), Int32(ow), Int32(k), ops.baseAddress!, pw,
                                           weights + ky * k * blocks * pairs * block, acc, ow)
                    }
                    precondition(done != 0, "bfloat16 products need AVX512_BF16")
                }
                for o in 0..<cout { (out + o * plane + oy * ow).update(from: acc + o * ow, count: ow) }
            }
        }
    }
}
