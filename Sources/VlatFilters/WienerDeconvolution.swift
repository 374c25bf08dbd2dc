/// Wiener deconvolution with a known Gaussian point-spread function and a constant
/// noise-to-signal ratio: `U = conj(H) Y / (|H|^2 + nsr)` in the frequency domain.
///
/// The FFT treats the image as periodic. To keep that from wrapping the bottom edge onto the
/// top one, the image is padded (to a power of two at least twice its size) with its bottom
/// edge mirrored downwards and its top edge mirrored upwards, meeting in the middle of the
/// padding: the unavoidable seam sits at least half the image size away from any pixel kept.
public enum WienerDeconvolution {
    /// Which pixel of a side of `size` fills position `i` of a periodic signal of length `padded`.
    static func source(_ i: Int, size: Int, padded: Int) -> Int {
        if i < size { return i }
        let j = i - size, gap = padded - size
        return j < gap / 2 ? max(0, size - 1 - j) : min(size - 1, gap - 1 - j)
    }

    public static func apply(_ p: Planes, sigma: Double, nsr: Double) -> Planes {
        let rows = FFT.nextPowerOfTwo(2 * p.height), cols = FFT.nextPowerOfTwo(2 * p.width)
        // Transfer function of the PSF, centred at the origin.
        let (size, psf) = GaussianBlur.psf(sigma: sigma)
        var hr = [Double](repeating: 0, count: rows * cols), hi = hr
        let r = size / 2
        for y in 0..<size { for x in 0..<size {
            hr[((y - r + rows) % rows) * cols + (x - r + cols) % cols] = psf[y * size + x]
        } }
        FFT.transform2D(&hr, &hi, rows: rows, cols: cols, inverse: false)
        return p.map { plane in
            var re = [Double](repeating: 0, count: rows * cols), im = re
            for y in 0..<rows {
                let sy = source(y, size: p.height, padded: rows)
                for x in 0..<cols { re[y * cols + x] = plane[sy * p.width + source(x, size: p.width, padded: cols)] }
            }
            FFT.transform2D(&re, &im, rows: rows, cols: cols, inverse: false)
            for i in 0..<re.count {
                let (a, b) = (hr[i], hi[i]), d = a * a + b * b + nsr
                let (yr, yi) = (re[i], im[i])
                re[i] = (a * yr + b * yi) / d
                im[i] = (a * yi - b * yr) / d
            }
            FFT.transform2D(&re, &im, rows: rows, cols: cols, inverse: true)
            var out = [Double](repeating: 0, count: p.width * p.height)
            for y in 0..<p.height { for x in 0..<p.width { out[y * p.width + x] = re[y * cols + x] } }
            return out
        }
    }
}
