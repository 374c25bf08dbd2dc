import Foundation
import VlatFiles

/// A published rate-distortion curve, shown beside measured codecs and marked as quoted.
///
/// The file format is CompressAI's results JSON (`results/image/kodak/*.json` in its
/// repository) with an added `source` naming where the numbers come from:
///
/// ```json
/// {"name": "bmshj2018-factorized", "source": "CompressAI ...",
///  "results": {"bpp": [0.12, ...], "psnr-rgb": [26.9, ...], "ms-ssim-rgb": [0.91, ...]}}
/// ```
///
/// Only the means are known, so a quoted curve has no per-image records and no times.
public struct QuotedCurve: Sendable, Decodable, Equatable {
    public var name: String
    public var source: String?
    public var results: Results

    public struct Results: Sendable, Decodable, Equatable {
        public var bpp: [Double]
        public var psnr: [Double]
        public var msssim: [Double]?

        enum CodingKeys: String, CodingKey {
            case bpp
            case psnr = "psnr-rgb"
            case msssim = "ms-ssim-rgb"
        }
    }

    /// The label used in tables and plots.
    public var label: String { "\(name) (quoted)" }

    public static func load(_ path: String) throws -> QuotedCurve {
        let curve: QuotedCurve
        do { curve = try JSONDecoder().decode(QuotedCurve.self, from: Data(FileReader.read(path))) } catch let error as FileError {
            throw error
        } catch {
            throw BenchError.badQuotedCurve(path, "not a results JSON with name, results.bpp and results.psnr-rgb")
        }
        let r = curve.results
        guard !r.bpp.isEmpty, r.bpp.count == r.psnr.count, r.msssim.map({ $0.count == r.bpp.count }) ?? true,
              (r.bpp + r.psnr + (r.msssim ?? [])).allSatisfy(\.isFinite) else {
            throw BenchError.badQuotedCurve(path, "bpp, psnr-rgb and ms-ssim-rgb must be finite lists of the same length")
        }
        return curve
    }

    /// One summary row per point (setting 1, 2, ...), with NaN times and image count 0.
    public var summaries: [BenchSummary] {
        results.bpp.indices.map { i in
            BenchSummary(codec: label, setting: i + 1, images: 0, bpp: results.bpp[i], psnr: results.psnr[i], psnrY: .nan,
                         msssim: results.msssim?[i], medianEncodeMs: .nan, medianDecodeMs: .nan)
        }
    }
}
