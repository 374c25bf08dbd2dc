import Foundation
import Testing
import VlatTestSupport
@testable import VlatBench
import VlatImageIO
import VlatMetrics
@testable import VlatPlot

enum Paths {
    static let root = TestPaths.packageRoot
    static let kodak = TestPaths.sharedCorpus("kodak")
    static var hasKodak: Bool { FileManager.default.fileExists(atPath: kodak) }
}

@Suite("Bench: sweeps, summaries, plots")
struct BenchTests {
    @Test func sweepOverJPEGIsMonotone() throws {
        let sweep = RDSweep(codecs: [LibJPEGCodec(settings: [10, 40, 90])])
        var lines: [String] = []
        let records = try sweep.run(paths: [Paths.root.appendingPathComponent("Corpus/photos/coffee.png").path],
                                    progress: { lines.append($0) })
        #expect(records.count == 3 && lines.count == 3)
        #expect(records.map(\.bytes) == records.map(\.bytes).sorted())
        #expect(records.map(\.psnr) == records.map(\.psnr).sorted())
        #expect(records.allSatisfy { $0.msssim != nil && $0.width == 600 && $0.height == 400 })
        #expect(abs(records[0].bpp - Double(records[0].bytes * 8) / 240_000) < 1e-12)
    }

    @Test func summaryMeansAndMedians() {
        func record(_ image: String, _ bpp: Double, _ psnr: Double, _ ms: Double) -> BenchRecord {
            BenchRecord(codec: "x", setting: 1, image: image, width: 1, height: 1, bytes: 1, bpp: bpp, psnr: psnr, psnrY: psnr,
                        msssim: nil, encodeMs: ms, decodeMs: ms)
        }
        let s = RDSweep.summarize([record("a", 1, 30, 5), record("b", 3, 34, 1), record("c", 2, 32, 100)])
        #expect(s.count == 1 && s[0].images == 3)
        #expect(s[0].bpp == 2 && s[0].psnr == 32 && s[0].msssim == nil)
        #expect(s[0].medianEncodeMs == 5)
    }

    @Test func bdAgainstJPEGFromSummaries() {
        let jpeg = [(0.3, 27.0), (0.5, 29.0), (0.9, 32.0), (1.4, 34.5)]
        var summary: [BenchSummary] = []
        for (i, p) in jpeg.enumerated() {
            summary.append(BenchSummary(codec: "jpeg", setting: i, images: 1, bpp: p.0, psnr: p.1, psnrY: p.1, msssim: nil,
                                        medianEncodeMs: 1, medianDecodeMs: 1))
            summary.append(BenchSummary(codec: "half", setting: i, images: 1, bpp: p.0 / 2, psnr: p.1, psnrY: p.1, msssim: nil,
                                        medianEncodeMs: 1, medianDecodeMs: 1))
        }
        let bd = RDSweep.bjontegaard(summary)
        #expect(bd.count == 1 && bd[0].codec == "half")
        #expect(abs(bd[0].rateOnPSNR! + 50) < 1e-9)
        #expect(bd[0].rateOnMSSSIM == nil) // no MS-SSIM values: reported as n/a, not invented
    }

    @Test func vlatAgainstEveryCodecAndQuotedCurves() throws {
        // vlat spends half of jpeg's bits and twice the quoted curve's at every quality.
        let jpeg = [(0.3, 27.0), (0.5, 29.0), (0.9, 32.0), (1.4, 34.5)]
        let records = jpeg.enumerated().flatMap { i, p in
            [BenchRecord(codec: "jpeg", setting: i, image: "a", width: 1, height: 1, bytes: 1, bpp: p.0, psnr: p.1, psnrY: p.1,
                         msssim: nil, encodeMs: 1, decodeMs: 1),
             BenchRecord(codec: "vlat", setting: i + 1, image: "a", width: 1, height: 1, bytes: 1, bpp: p.0 / 2, psnr: p.1, psnrY: p.1,
                         msssim: nil, encodeMs: 1, decodeMs: 1)]
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vlat-quoted-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("q.json").path
        let json = #"{"name": "paper", "source": "Table 1", "results": {"bpp": [0.075, 0.125, 0.225, 0.35], "psnr-rgb": [27, 29, 32, 34.5]}}"#
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        let curve = try QuotedCurve.load(path)
        let report = BenchReport(command: "x", records: records, quoted: [curve])
        #expect(report.summary.filter { $0.codec == "paper (quoted)" }.count == 4)
        #expect(report.vlatBD.map(\.anchor) == ["jpeg", "paper (quoted)"])
        #expect(abs(report.vlatBD[0].rateOnPSNR! + 50) < 1e-9)
        #expect(abs(report.vlatBD[1].rateOnPSNR! - 100) < 1e-9)
        let markdown = report.markdown()
        #expect(markdown.contains("| vlat | jpeg | -50.0 % |") && markdown.contains("paper (quoted): Table 1"))
        // Quoted rows carry no times and no per-image records.
        #expect(report.records.allSatisfy { !$0.codec.contains("quoted") })
        // Malformed curves are refused with the file's name.
        try Data(#"{"name": "x", "results": {"bpp": [1, 2], "psnr-rgb": [30]}}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: BenchError.badQuotedCurve(path, "bpp, psnr-rgb and ms-ssim-rgb must be finite lists of the same length")) {
            try QuotedCurve.load(path)
        }
        try Data("[]".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: BenchError.self) { try QuotedCurve.load(path) }
    }

    @Test func ticksAreRoundNumbers() {
        #expect(SVGPlot.ticks(0, 2.9) == [0, 0.5, 1, 1.5, 2, 2.5])
        #expect(SVGPlot.ticks(24.3, 39.9) == [25, 30, 35])
    }

    @Test func plotEscapesText() {
        let svg = SVGPlot(title: "a<b & c", xLabel: "x", yLabel: "y", series: [.init(name: "s", points: [(0.1, 1), (0.2, 2)])]).render()
        #expect(svg.contains("a&lt;b &amp; c") && !svg.contains("a<b"))
    }

    @Test(.enabled(if: ExternalToolCodec.webp().isAvailable, "cwebp/dwebp not installed (apt-get install webp)"))
    func webpRoundTrip() throws { try externalCodecWorks(.webp(settings: [20, 80])) }

    @Test(.enabled(if: ExternalToolCodec.avif().isAvailable, "avifenc/avifdec not installed (apt-get install libavif-bin)"))
    func avifRoundTrip() throws { try externalCodecWorks(.avif(settings: [50, 20])) }

    @Test(.enabled(if: ExternalToolCodec.jxl().isAvailable, "cjxl/djxl not installed (apt-get install libjxl-tools)"))
    func jxlRoundTrip() throws { try externalCodecWorks(.jxl(settings: [20, 80])) }

    func externalCodecWorks(_ codec: ExternalToolCodec) throws {
        // rocket.jpg carries an Adobe RGB profile: the bench must compare samples, not colours.
        let records = try RDSweep(codecs: [codec]).run(paths: [Paths.root.appendingPathComponent("Corpus/photos/rocket.jpg").path])
        #expect(records.count == 2)
        #expect(records[0].bytes < records[1].bytes && records[0].psnr < records[1].psnr)
        #expect(records.allSatisfy { $0.psnr > 25 })
    }

    @Test(.enabled(if: Paths.hasKodak, "../shared/corpus/kodak not present; skipping the Kodak check"))
    func kodakDecodes() throws {
        let paths = try RDSweep.imagePaths(in: Paths.kodak)
        #expect(paths.count == 24)
        for path in paths {
            let image = try ImageFile.read(path)
            #expect(image.layout == .rgb && image.pixelCount == 768 * 512)
        }
    }
}
