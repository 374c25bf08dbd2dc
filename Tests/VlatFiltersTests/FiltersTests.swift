import Foundation
import Testing
import VlatFilters
import VlatImageIO
import VlatMetrics
import VlatTensor
import VlatTestSupport

@Suite("Classical filters")
struct FiltersTests {
    static let photo = Planes(try! ImageFile.read(TestPaths.path("Corpus/photos/chelsea.png")))

    func psnr(_ a: Planes, _ b: Planes) -> Double {
        var se = 0.0
        for c in 0..<3 { for i in 0..<a.channels[c].count { let d = a.channels[c][i] - b.channels[c][i]; se += d * d } }
        return PSNR.fromMSE(se / Double(3 * a.width * a.height))
    }

    @Test func fftMatchesANaiveDFTAndInverts() {
        var g = SeededGenerator(seed: 1)
        let n = 16
        let x = (0..<n).map { _ in Double(g.uniform()) - 0.5 }
        var re = x, im = [Double](repeating: 0, count: n)
        FFT.transform(&re, &im, inverse: false)
        for k in 0..<n {
            var sr = 0.0, si = 0.0
            for t in 0..<n { let a = -2 * Double.pi * Double(k * t) / Double(n); sr += x[t] * cos(a); si += x[t] * sin(a) }
            #expect(abs(re[k] - sr) < 1e-12 && abs(im[k] - si) < 1e-12)
        }
        FFT.transform(&re, &im, inverse: true)
        for t in 0..<n { #expect(abs(re[t] - x[t]) < 1e-12 && abs(im[t]) < 1e-12) }
    }

    @Test func gaussianBlurKeepsConstantsAndTheMean() {
        let k = GaussianBlur.kernel(sigma: 1.5)
        #expect(abs(k.reduce(0, +) - 1) < 1e-12 && k.count == 11)
        let flat = [Double](repeating: 77, count: 20 * 10)
        #expect(GaussianBlur.apply(flat, width: 20, height: 10, sigma: 2).allSatisfy { abs($0 - 77) < 1e-9 })
    }

    @Test func medianRemovesImpulses() {
        var plane = [Double](repeating: 100, count: 9 * 9)
        plane[40] = 255; plane[10] = 0
        #expect(MedianFilter.apply(plane, width: 9, height: 9, size: 3).allSatisfy { $0 == 100 })
        let identity = UnsharpMask.apply(Self.photo, sigma: 1, amount: 0)
        #expect(identity == Self.photo)
    }

    @Test func deconvolutionBeatsTheBlurredInput() {
        let blurred = GaussianBlur.apply(Self.photo, sigma: 1.5)
        let base = psnr(blurred, Self.photo)
        let wiener = psnr(WienerDeconvolution.apply(blurred, sigma: 1.5, nsr: 1e-3), Self.photo)
        let lucy = psnr(RichardsonLucy.apply(blurred, sigma: 1.5, iterations: 10), Self.photo)
        let unsharp = psnr(UnsharpMask.apply(blurred, sigma: 1.5, amount: 1), Self.photo)
        #expect(wiener > base + 3, "Wiener \(wiener) vs blurred \(base)")
        #expect(lucy > base + 1, "Richardson-Lucy \(lucy) vs blurred \(base)")
        #expect(unsharp > base, "unsharp \(unsharp) vs blurred \(base)")
    }
}
