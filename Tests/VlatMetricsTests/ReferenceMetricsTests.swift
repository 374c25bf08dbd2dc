import Foundation
import Testing
import VlatImageIO
import VlatMetrics

/// Known answers from Scripts/reference_metrics.py (numpy, scipy and scikit-image; see that
/// script's docstring for what each number is computed with). The distortions below repeat its
/// integer formulas exactly.
struct ReferenceData: Decodable {
    struct PSNRValues: Decodable { var rgb: Double; var channels: [Double]; var luma: Double }
    struct ImageCase: Decodable { var image: String; var distortion: String; var psnr: PSNRValues; var ssim: Double; var msssim: Double }
    struct Curve: Decodable { var rate: [Double]; var quality: [Double] }
    struct BDCase: Decodable {
        var name: String
        var reference: Curve
        var test: Curve
        var rate_cubic: Double
        var psnr_cubic: Double
        var rate_pchip: Double
        var psnr_pchip: Double
    }
    var images: [ImageCase]
    var bjontegaard: [BDCase]

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let shared: ReferenceData = {
        let data = FileManager.default.contents(atPath: root.appendingPathComponent("reference_metrics.json").path)!
        return try! JSONDecoder().decode(ReferenceData.self, from: data)
    }()

    static func photo(_ name: String) throws -> Image {
        try ImageFile.read(root.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Corpus/photos/\(name)").path).toRGB()
    }

    static func distort(_ a: Image, _ kind: String) -> Image {
        var out = a.pixels
        for y in 0..<a.height {
            for x in 0..<a.width {
                for c in 0..<3 {
                    let i = (y * a.width + x) * 3 + c
                    let v = Int(a.pixels[i])
                    switch kind {
                    case "pattern": out[i] = UInt8(max(0, min(255, v + (x * 31 + y * 17 + c * 7) % 21 - 10)))
                    case "shift": out[i] = a.pixels[(y * a.width + max(0, x - 1)) * 3 + c]
                    default: out[i] = UInt8(v / 16 * 16 + 8)
                    }
                }
            }
        }
        return Image(width: a.width, height: a.height, layout: .rgb, pixels: out)
    }
}

@Suite("Metrics against independent references")
struct ReferenceMetricsTests {
    @Test(arguments: ReferenceData.shared.images.indices)
    func psnrSSIMAndMSSSIM(index: Int) throws {
        let ref = ReferenceData.shared.images[index]
        let a = try ReferenceData.photo(ref.image)
        let b = ReferenceData.distort(a, ref.distortion)
        let psnr = try PSNR.compute(reference: a, distorted: b)
        #expect(abs(psnr.rgb - ref.psnr.rgb) < 1e-9)
        #expect(abs(psnr.luma - ref.psnr.luma) < 1e-9)
        for c in 0..<3 { #expect(abs(psnr.channels[c] - ref.psnr.channels[c]) < 1e-9) }
        // Float64 throughout; the filters sum in a different order than SciPy's, so allow 1e-9.
        #expect(abs(try #require(try MSSSIM.ssim(reference: a, distorted: b)) - ref.ssim) < 1e-9)
        #expect(abs(try #require(try MSSSIM.compute(reference: a, distorted: b)) - ref.msssim) < 1e-9)
    }

    @Test(arguments: ReferenceData.shared.bjontegaard.indices)
    func bjontegaardDeltas(index: Int) throws {
        let c = ReferenceData.shared.bjontegaard[index]
        let r = zip(c.reference.rate, c.reference.quality).map { RDPoint(rate: $0, quality: $1) }
        let t = zip(c.test.rate, c.test.quality).map { RDPoint(rate: $0, quality: $1) }
        #expect(abs(try Bjontegaard.deltaRate(reference: r, test: t, interpolation: .cubic) - c.rate_cubic) < 1e-8)
        #expect(abs(try Bjontegaard.deltaQuality(reference: r, test: t, interpolation: .cubic) - c.psnr_cubic) < 1e-8)
        #expect(abs(try Bjontegaard.deltaRate(reference: r, test: t, interpolation: .pchip) - c.rate_pchip) < 1e-8)
        #expect(abs(try Bjontegaard.deltaQuality(reference: r, test: t, interpolation: .pchip) - c.psnr_pchip) < 1e-8)
    }
}

@Suite("Metric properties with exact answers")
struct MetricPropertyTests {
    let jpegLike = [RDPoint(rate: 0.33, quality: 26.7), RDPoint(rate: 0.51, quality: 29.1),
                    RDPoint(rate: 0.91, quality: 32.2), RDPoint(rate: 1.37, quality: 34.5)]

    @Test(arguments: Bjontegaard.Interpolation.allCases)
    func scaledRatesGiveExactBDRate(method: Bjontegaard.Interpolation) throws {
        // Same qualities at 80% of the rate: log-rate curves differ by log 0.8 everywhere.
        let test = jpegLike.map { RDPoint(rate: $0.rate * 0.8, quality: $0.quality) }
        #expect(abs(try Bjontegaard.deltaRate(reference: jpegLike, test: test, interpolation: method) + 20) < 1e-9)
        #expect(abs(try Bjontegaard.deltaRate(reference: jpegLike, test: jpegLike, interpolation: method)) < 1e-12)
    }

    @Test(arguments: Bjontegaard.Interpolation.allCases)
    func shiftedQualityGivesExactBDPSNR(method: Bjontegaard.Interpolation) throws {
        let test = jpegLike.map { RDPoint(rate: $0.rate, quality: $0.quality + 1.5) }
        #expect(abs(try Bjontegaard.deltaQuality(reference: jpegLike, test: test, interpolation: method) - 1.5) < 1e-9)
    }

    @Test func bjontegaardRefusesBadCurves() throws {
        let far = jpegLike.map { RDPoint(rate: $0.rate, quality: $0.quality + 100) }
        #expect(throws: MetricsError.noOverlap) { try Bjontegaard.deltaRate(reference: jpegLike, test: far) }
        #expect(throws: MetricsError.self) { try Bjontegaard.deltaRate(reference: Array(jpegLike.prefix(3)), test: jpegLike, interpolation: .cubic) }
        #expect(throws: MetricsError.self) { try Bjontegaard.deltaRate(reference: [RDPoint(rate: 0, quality: 30)] + jpegLike, test: jpegLike) }
    }

    @Test func psnrKnownValues() throws {
        // Every sample off by exactly 1: MSE 1, PSNR = 20 log10(255) = 48.1308...
        let a = Image(width: 4, height: 3, layout: .rgb, pixels: [UInt8](repeating: 100, count: 36))
        let b = Image(width: 4, height: 3, layout: .rgb, pixels: [UInt8](repeating: 101, count: 36))
        let p = try PSNR.compute(reference: a, distorted: b)
        #expect(abs(p.rgb - 20 * log10(255.0)) < 1e-12 && abs(p.luma - 20 * log10(255.0)) < 1e-12)
        #expect(try PSNR.compute(reference: a, distorted: a).rgb == .infinity)
        #expect(abs(bitsPerPixel(bytes: 3, width: 4, height: 3) - 2) < 1e-15)
    }

    @Test func msssimIsOneForIdenticalAndNilForSmall() throws {
        let photo = try ReferenceData.photo("chelsea.png")
        #expect(abs(try #require(try MSSSIM.compute(reference: photo, distorted: photo)) - 1) < 1e-12)
        let small = Image(width: 160, height: 200, layout: .rgb, pixels: [UInt8](repeating: 5, count: 160 * 200 * 3))
        #expect(try MSSSIM.compute(reference: small, distorted: small) == nil)
    }

    @Test func shapeMismatchIsAnError() throws {
        let a = Image(width: 4, height: 3, layout: .rgb, pixels: [UInt8](repeating: 1, count: 36))
        let b = Image(width: 3, height: 4, layout: .rgb, pixels: [UInt8](repeating: 1, count: 36))
        #expect(throws: MetricsError.self) { try PSNR.compute(reference: a, distorted: b) }
        #expect(throws: MetricsError.self) { try MSSSIM.compute(reference: a, distorted: b) }
    }
}
