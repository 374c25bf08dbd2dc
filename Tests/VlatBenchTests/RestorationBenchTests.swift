import Foundation
import Testing
import VlatFilters
import VlatImageIO
import VlatTestSupport
@testable import VlatBench

@Suite("Restoration benchmark")
struct RestorationBenchTests {
    /// A 96x96 crop: big enough for the filters to matter, small enough for a debug build.
    static func crop(_ name: String, x: Int, y: Int) -> Planes {
        let full = Planes(try! ImageFile.read(TestPaths.path("Corpus/photos/\(name)")))
        return Planes(width: 96, height: 96, channels: full.channels.map { plane in
            (0..<(96 * 96)).map { plane[(y + $0 / 96) * full.width + x + $0 % 96] }
        })
    }
    static let photo = crop("chelsea.png", x: 180, y: 90)

    @Test func noiseIsReproducibleAndHasItsSigma() {
        let d = RestorationBench.Degradation(name: "n", blurSigma: 0, noiseSigma: 25)
        let a = d.apply(Self.photo, imageName: "x"), b = d.apply(Self.photo, imageName: "x"), c = d.apply(Self.photo, imageName: "y")
        #expect(a == b && a != c)
        // Clipping at 0 and 255 removes a little noise, so PSNR sits just above 20 log10(255/25) = 20.17 dB.
        let p = RestorationBench.psnr(a, Self.photo)
        #expect(p > 20.17 && p < 21.5, "\(p)")
    }

    @Test func classicalMethodsBeatTheDegradedInput() {
        let bench = RestorationBench(degradations: [.init(name: "noise 25", blurSigma: 0, noiseSigma: 25),
                                                    .init(name: "blur 2 + noise 2", blurSigma: 2, noiseSigma: 2)])
        let coffee = Self.crop("coffee.png", x: 250, y: 150)
        let rows = bench.run(tuning: [("coffee", coffee)], test: [("chelsea", Self.photo)])
        #expect(rows.count == 2 + 2 + 3) // per degradation: input + its methods
        for degradation in ["noise 25", "blur 2 + noise 2"] {
            let input = rows.first { $0.degradation == degradation && $0.method == "degraded input" }!.psnr
            let best = rows.filter { $0.degradation == degradation && $0.method != "degraded input" }.map(\.psnr).max()!
            #expect(best > input + 1, "\(degradation): \(best) vs \(input)")
        }
    }
}
