import Foundation
import VlatImageIO
import VlatMetrics

/// Runs every codec at every setting over a set of images and measures rate, distortion and time.
///
/// ```swift
/// let sweep = RDSweep(codecs: [LibJPEGCodec()])
/// let records = try sweep.run(paths: ["Corpus/photos/chelsea.png"]) { print($0) }
/// let summary = RDSweep.summarize(records)
/// ```
public struct RDSweep: Sendable {
    public var codecs: [any BenchCodec]
    public var limits: ImageLimits

    public init(codecs: [any BenchCodec], limits: ImageLimits = .default) {
        self.codecs = codecs
        self.limits = limits
    }

    /// The PNG and JPEG files in `path` (sorted by name), or `path` itself if it is a file.
    public static func imagePaths(in path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw BenchError.noImages(path)
        }
        if !isDirectory.boolValue { return [path] }
        let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        let images = names.filter { ["png", "jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }
        guard !images.isEmpty else { throw BenchError.noImages(path) }
        return images.map { "\(path)/\($0)" }
    }

    /// What the sweep does with metadata, as its reports state it.
    public static let metadataPolicy = "Every codec codes the same RGB pixels with no metadata (ICC profile, EXIF and XMP removed first), so file sizes compare pixels only."

    /// Runs the sweep. `progress` receives one line per step, for a progress display; `note`
    /// receives remarks about inputs (16-bit reduced, alpha dropped).
    public func run(paths: [String], progress: (String) -> Void = { _ in },
                    note: (String) -> Void = { _ in }) throws -> [BenchRecord] {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vlat-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var records: [BenchRecord] = []
        for (index, path) in paths.enumerated() {
            let name = (path as NSString).lastPathComponent
            let original = try ImageFile.read(path, limits: limits)
            if original.source.wasReducedTo8Bit { note("\(name): \(original.source.bitDepth)-bit samples reduced to 8 bits") }
            if original.layout.hasAlpha { note("\(name): alpha channel ignored (the bench compares RGB)") }
            // Every codec gets the same pixels and no metadata (`metadataPolicy`).
            let image = MetadataSelection.none.apply(to: original.toRGB())
            for codec in codecs {
                for setting in codec.settings {
                    progress("[\(index + 1)/\(paths.count)] \(name): \(codec.name) \(codec.settingName) \(setting)")
                    let result = try codec.run(image, setting: setting, scratch: scratch)
                    let psnr = try PSNR.compute(reference: image, distorted: result.decoded)
                    records.append(BenchRecord(
                        codec: codec.name, setting: setting, image: name, width: image.width, height: image.height,
                        bytes: result.bytes, bpp: bitsPerPixel(bytes: result.bytes, width: image.width, height: image.height),
                        psnr: psnr.rgb, psnrY: psnr.luma,
                        msssim: try MSSSIM.compute(reference: image, distorted: result.decoded),
                        encodeMs: result.encodeSeconds * 1000, decodeMs: result.decodeSeconds * 1000,
                        estimatedBpp: result.estimatedBits.map { $0 / Double(image.pixelCount) }))
                }
            }
        }
        return records
    }

    /// Means per codec and setting, in the order the records came.
    public static func summarize(_ records: [BenchRecord]) -> [BenchSummary] {
        var order: [String] = []
        var groups: [String: [BenchRecord]] = [:]
        for r in records {
            let key = "\(r.codec)\u{0}\(r.setting)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(r)
        }
        return order.map { key in
            let g = groups[key]!
            let n = Double(g.count)
            let ms = g.compactMap(\.msssim), estimates = g.compactMap(\.estimatedBpp)
            var summary = BenchSummary(codec: g[0].codec, setting: g[0].setting, images: g.count,
                                bpp: g.map(\.bpp).reduce(0, +) / n, psnr: g.map(\.psnr).reduce(0, +) / n,
                                psnrY: g.map(\.psnrY).reduce(0, +) / n,
                                msssim: ms.isEmpty ? nil : ms.reduce(0, +) / Double(ms.count),
                                medianEncodeMs: median(g.map(\.encodeMs)), medianDecodeMs: median(g.map(\.decodeMs)))
            if estimates.count == g.count { summary.estimatedBpp = estimates.reduce(0, +) / n }
            return summary
        }
    }

    /// Bjontegaard deltas of every other codec against `anchor`, on the mean curves.
    public static func bjontegaard(_ summary: [BenchSummary], anchor: String = "jpeg",
                                   interpolation: Bjontegaard.Interpolation = .pchip) -> [BDResult] {
        let byCodec = Dictionary(grouping: summary, by: \.codec)
        guard let reference = byCodec[anchor] else { return [] }
        let codecs = summary.map(\.codec).reduce(into: [String]()) { if !$0.contains($1) && $1 != anchor { $0.append($1) } }
        func points(_ s: [BenchSummary], _ q: (BenchSummary) -> Double?) -> [RDPoint] {
            s.compactMap { item in q(item).map { RDPoint(rate: item.bpp, quality: $0) } }.filter { $0.quality.isFinite }
        }
        return codecs.map { codec in
            let test = byCodec[codec]!
            let psnrRef = points(reference, { $0.psnr }), psnrTest = points(test, { $0.psnr })
            let msRef = points(reference, { $0.msssimDB }), msTest = points(test, { $0.msssimDB })
            return BDResult(
                codec: codec, anchor: anchor,
                rateOnPSNR: try? Bjontegaard.deltaRate(reference: psnrRef, test: psnrTest, interpolation: interpolation),
                psnrDelta: try? Bjontegaard.deltaQuality(reference: psnrRef, test: psnrTest, interpolation: interpolation),
                rateOnMSSSIM: try? Bjontegaard.deltaRate(reference: msRef, test: msTest, interpolation: interpolation))
        }
    }

    /// Bjontegaard deltas of `test` against every other codec (each in turn the anchor).
    public static func bjontegaard(against test: String, _ summary: [BenchSummary],
                                   interpolation: Bjontegaard.Interpolation = .pchip) -> [BDResult] {
        guard summary.contains(where: { $0.codec == test }) else { return [] }
        let anchors = summary.map(\.codec).reduce(into: [String]()) { if !$0.contains($1) && $1 != test { $0.append($1) } }
        return anchors.compactMap { anchor in
            bjontegaard(summary.filter { $0.codec == test || $0.codec == anchor }, anchor: anchor, interpolation: interpolation).first
        }
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
