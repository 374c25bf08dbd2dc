import Foundation
import VlatMetrics
import VlatPlot

/// Renders bench results as CSV, JSON, a Markdown table and SVG plots.
public struct BenchReport: Sendable {
    public var command: String
    public var records: [BenchRecord]
    public var summary: [BenchSummary]
    /// Every other codec against JPEG.
    public var bd: [BDResult]
    /// vlat (each coder choice, then refined) against every other codec, when it ran.
    public var vlatBD: [BDResult]
    public var notes: [String]

    /// `quoted` curves join the summary (marked as quoted) and the BD tables, not the records.
    public init(command: String, records: [BenchRecord], notes: [String] = [], quoted: [QuotedCurve] = [],
                interpolation: Bjontegaard.Interpolation = .pchip) {
        self.command = command
        self.records = records
        self.summary = RDSweep.summarize(records) + quoted.flatMap(\.summaries)
        self.bd = RDSweep.bjontegaard(summary, interpolation: interpolation)
        let all = summary
        self.vlatBD = VlatBenchCodec.names.flatMap { RDSweep.bjontegaard(against: $0, all, interpolation: interpolation) }
        self.notes = notes + quoted.map { "\($0.label): \($0.source ?? "source not given")" }
    }

    static func number(_ v: Double?, _ digits: Int) -> String {
        guard let v, v.isFinite else { return "" }
        return String(format: "%.\(digits)f", v)
    }

    /// One row per image, codec and setting.
    public func recordsCSV() -> String {
        var lines = ["codec,setting,image,width,height,bytes,bpp,psnr_rgb,psnr_y,ms_ssim,encode_ms,decode_ms,estimated_bpp"]
        for r in records {
            lines.append([r.codec, "\(r.setting)", r.image, "\(r.width)", "\(r.height)", "\(r.bytes)",
                          Self.number(r.bpp, 5), Self.number(r.psnr, 4), Self.number(r.psnrY, 4),
                          Self.number(r.msssim, 6), Self.number(r.encodeMs, 3), Self.number(r.decodeMs, 3),
                          Self.number(r.estimatedBpp, 5)]
                .joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One row per codec and setting: means over the images.
    public func summaryCSV() -> String {
        var lines = ["codec,setting,images,bpp,psnr_rgb,psnr_y,ms_ssim,ms_ssim_db,median_encode_ms,median_decode_ms,estimated_bpp"]
        for s in summary {
            lines.append([s.codec, "\(s.setting)", "\(s.images)", Self.number(s.bpp, 4), Self.number(s.psnr, 3),
                          Self.number(s.psnrY, 3), Self.number(s.msssim, 5), Self.number(s.msssimDB, 3),
                          Self.number(s.medianEncodeMs, 2), Self.number(s.medianDecodeMs, 2), Self.number(s.estimatedBpp, 4)].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private struct JSONReport: Encodable {
        var command: String
        var notes: [String]
        var records: [BenchRecord]
        var summary: [BenchSummary]
        var bjontegaard: [BDResult]
        var vlatBjontegaard: [BDResult]
    }

    /// Everything, for other programs. Non-finite numbers (lossless PSNR) become null.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data = try encoder.encode(JSONReport(command: command, notes: notes, records: records, summary: summary, bjontegaard: bd,
                                                      vlatBjontegaard: vlatBD))
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Summary and BD tables in Markdown, as pasted into the README.
    public func markdown() -> String {
        var out = "| codec | setting | bpp | PSNR-RGB (dB) | PSNR-Y (dB) | MS-SSIM | encode ms | decode ms |\n"
        out += "|---|---:|---:|---:|---:|---:|---:|---:|\n"
        for s in summary {
            out += "| \(s.codec) | \(s.setting) | \(Self.number(s.bpp, 3)) | \(Self.number(s.psnr, 2)) | \(Self.number(s.psnrY, 2)) | \(Self.number(s.msssim, 4)) | \(Self.number(s.medianEncodeMs, 1)) | \(Self.number(s.medianDecodeMs, 1)) |\n"
        }
        let estimated = summary.filter { $0.estimatedBpp != nil }
        if !estimated.isEmpty {
            out += "\n| codec | setting | real bpp | model's estimate (bpp) | overhead |\n|---|---:|---:|---:|---:|\n"
            for s in estimated {
                let e = s.estimatedBpp!
                out += "| \(s.codec) | \(s.setting) | \(Self.number(s.bpp, 4)) | \(Self.number(e, 4)) | \(Self.number((s.bpp / e - 1) * 100, 1)) % |\n"
            }
        }
        if !bd.isEmpty {
            out += "\n| codec | BD-rate vs \(bd[0].anchor) (PSNR) | BD-PSNR (dB) | BD-rate vs \(bd[0].anchor) (MS-SSIM dB) |\n|---|---:|---:|---:|\n"
            for b in bd {
                out += "| \(b.codec) | \(b.rateOnPSNR.map { Self.number($0, 1) + " %" } ?? "n/a") | \(Self.number(b.psnrDelta, 2)) | \(b.rateOnMSSSIM.map { Self.number($0, 1) + " %" } ?? "n/a") |\n"
            }
        }
        if !vlatBD.isEmpty {
            out += "\n| codec | against | BD-rate (PSNR) | BD-PSNR (dB) | BD-rate (MS-SSIM dB) |\n|---|---|---:|---:|---:|\n"
            for b in vlatBD {
                out += "| \(b.codec) | \(b.anchor) | \(b.rateOnPSNR.map { Self.number($0, 1) + " %" } ?? "n/a") | \(Self.number(b.psnrDelta, 2)) | \(b.rateOnMSSSIM.map { Self.number($0, 1) + " %" } ?? "n/a") |\n"
            }
        }
        let quotedNotes = notes.filter { $0.contains("(quoted)") }
        if !quotedNotes.isEmpty {
            out += "\nQuoted curves are published numbers, not measured here: " + quotedNotes.joined(separator: "; ") + ".\n"
        }
        return out
    }

    /// PSNR-RGB against bpp, one line per codec.
    public func psnrPlot(title: String) -> String {
        plot(title: title, yLabel: "PSNR-RGB (dB)") { $0.psnr }
    }

    /// MS-SSIM (dB) against bpp.
    public func msssimPlot(title: String) -> String {
        plot(title: title, yLabel: "MS-SSIM (dB, -10 log10(1 - MS-SSIM))") { $0.msssimDB }
    }

    private func plot(title: String, yLabel: String, _ value: (BenchSummary) -> Double?) -> String {
        var order: [String] = []
        for s in summary where !order.contains(s.codec) { order.append(s.codec) }
        let series = order.map { codec in
            SVGPlot.Series(name: codec, points: summary.filter { $0.codec == codec }
                .compactMap { s in value(s).flatMap { $0.isFinite ? (s.bpp, $0) : nil } }
                .sorted { $0.0 < $1.0 })
        }
        return SVGPlot(title: title, xLabel: "bits per pixel", yLabel: yLabel, series: series).render()
    }
}
