import Foundation
import VlatFormat
import VlatFilters
import VlatImageIO
import VlatCodec
import VlatMetrics
import VlatModels
import VlatTensor

/// Lets a `Denoiser` (a class with per-call scratch state) live in a `@Sendable` method: the
/// bench calls it from one thread at a time.
final class DenoiserBox: @unchecked Sendable {
    let denoiser: Denoiser
    init(_ denoiser: Denoiser) { self.denoiser = denoiser }
}

/// The denoising and deblurring benchmark: known degradations of clean photos, classical
/// restorers with their best parameters, and PSNR-RGB against the clean originals.
///
/// Parameters are chosen on *tuning* images (held-out training photos), never on the test set,
/// then applied unchanged to the test images.
public struct RestorationBench: Sendable {
    /// A degradation: Gaussian blur of `blurSigma` pixels (0: none), then white Gaussian noise
    /// of `noiseSigma` on the 0...255 scale from a fixed per-image seed, clipped to 0...255.
    public struct Degradation: Sendable, Equatable {
        public var name: String
        public var blurSigma: Double
        public var noiseSigma: Double

        public init(name: String, blurSigma: Double, noiseSigma: Double) {
            self.name = name
            self.blurSigma = blurSigma
            self.noiseSigma = noiseSigma
        }

        public static let standard: [Degradation] = [
            .init(name: "noise 15", blurSigma: 0, noiseSigma: 15),
            .init(name: "noise 25", blurSigma: 0, noiseSigma: 25),
            .init(name: "noise 50", blurSigma: 0, noiseSigma: 50),
            .init(name: "blur 1 + noise 2", blurSigma: 1, noiseSigma: 2),
            .init(name: "blur 2 + noise 2", blurSigma: 2, noiseSigma: 2),
        ]

        /// The degraded image (`VlatFilters.Degradation` on each channel). The noise stream
        /// depends only on the image's name and this degradation, so every run and every method
        /// sees the same noisy pixels.
        public func apply(_ clean: Planes, imageName: String) -> Planes {
            var seed: UInt64 = 0xC0FF_EE00 ^ UInt64(noiseSigma * 1000) ^ (UInt64(blurSigma * 1000) << 20)
            for byte in imageName.utf8 { seed = (seed ^ UInt64(byte)) &* 0x100_0000_01B3 }
            var g = SeededGenerator(seed: seed)
            let model = VlatFilters.Degradation(blurSigma: blurSigma, noiseSigma: noiseSigma)
            return clean.map { model.apply($0, width: clean.width, height: clean.height, peak: 255) { Double(g.normal()) } }
        }
    }

    /// A restorer with a grid of parameter settings to choose from.
    public struct Method: Sendable {
        public var name: String
        public var settings: [String]
        public var run: @Sendable (Planes, Degradation, Int) -> Planes
        /// Blind methods: also report the score on the tuning images (a check that the test
        /// images are not easier or harder than held-out training photos). Costly methods skip it.
        public var scoreTuningImages = true

        public init(name: String, settings: [String], scoreTuningImages: Bool = true,
                    run: @escaping @Sendable (Planes, Degradation, Int) -> Planes) {
            (self.name, self.settings, self.scoreTuningImages, self.run) = (name, settings, scoreTuningImages, run)
        }

        /// Classical methods for noise (Gaussian and median filters).
        public static let forNoise: [Method] = [
            Method(name: "Gaussian filter", settings: [0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3].map { "sigma \($0)" }) { p, _, k in
                GaussianBlur.apply(p, sigma: [0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3][k])
            },
            Method(name: "median filter", settings: [3, 5, 7].map { "\($0)x\($0)" }) { p, _, k in
                MedianFilter.apply(p, size: [3, 5, 7][k])
            },
        ]

        /// Classical methods for blur; the deconvolutions are given the true kernel.
        public static let forBlur: [Method] = [
            Method(name: "unsharp mask", settings: [(1.0, 0.5), (1, 1), (1, 2), (2, 0.5), (2, 1), (2, 2)].map { "sigma \($0.0) amount \($0.1)" }) { p, _, k in
                let (s, a) = [(1.0, 0.5), (1, 1), (1, 2), (2, 0.5), (2, 1), (2, 2)][k]
                return UnsharpMask.apply(p, sigma: s, amount: a)
            },
            Method(name: "Richardson-Lucy (true kernel)", settings: [5, 10, 20, 40].map { "\($0) iterations" }) { p, d, k in
                RichardsonLucy.apply(p, sigma: d.blurSigma, iterations: [5, 10, 20, 40][k])
            },
            Method(name: "Wiener (true kernel)", settings: [1e-4, 1e-3, 3e-3, 1e-2, 3e-2].map { "nsr \($0)" }) { p, d, k in
                WienerDeconvolution.apply(p, sigma: d.blurSigma, nsr: [1e-4, 1e-3, 3e-3, 1e-2, 3e-2][k])
            },
        ]
    }

    /// A trained denoiser as a blind method (one setting, the same network for every
    /// degradation). It sees the degraded samples as they are (clipped, not rounded), like the
    /// classical filters, and works in tiles as `vlat denoise` does; with `ensemble`, averaged
    /// over the eight orientations as `vlat denoise --ensemble` does (eight times the work, so
    /// its tuning-image column is left empty).
    public static func learned(name: String, denoiser: Denoiser, ensemble: Bool = false) -> Method {
        let box = DenoiserBox(denoiser)
        return Method(name: name, settings: ["blind"], scoreTuningImages: !ensemble) { p, _, _ in
            let n = p.width * p.height
            var x = Tensor(zeros: [1, 3, p.height, p.width])
            for c in 0..<3 { for i in 0..<n { x.data[c * n + i] = Float(p.channels[c][i] / 255) } }
            let y = ensemble ? box.denoiser.denoiseSelfEnsemble(x) : box.denoiser.denoise(x)
            var out = p
            for c in 0..<3 { for i in 0..<n { out.channels[c][i] = Double(min(1, max(0, y.data[c * n + i]))) * 255 } }
            return out
        }
    }

    /// One line of the result table.
    public struct Row: Sendable, Codable, Equatable {
        public var degradation: String
        public var method: String
        public var setting: String
        /// Mean PSNR-RGB on the test images.
        public var psnr: Double
        /// Mean PSNR-RGB of the chosen setting on the tuning images.
        public var tuningPSNR: Double?
    }

    public var degradations: [Degradation]
    /// Methods run on every degradation without tuning (the learned denoisers).
    public var blind: [Method]

    public init(degradations: [Degradation] = Degradation.standard, blind: [Method] = []) {
        self.degradations = degradations
        self.blind = blind
    }

    /// PSNR-RGB of `a` rounded to 8 bits against `b`.
    public static func psnr(_ a: Planes, _ b: Planes) -> Double {
        var se = 0.0
        for c in 0..<3 { for i in 0..<a.channels[c].count { let d = min(255, max(0, a.channels[c][i])).rounded() - b.channels[c][i]; se += d * d } }
        return PSNR.fromMSE(se / Double(3 * a.width * a.height))
    }

    /// Runs the benchmark. `tuning` and `test` are (name, image) pairs; outputs are clamped to
    /// 0...255 and rounded to 8 bits before PSNR, as a saved result would be.
    public func run(tuning: [(String, Planes)], test: [(String, Planes)], progress: (String) -> Void = { _ in }) -> [Row] {
        var rows: [Row] = []
        func mean(_ images: [(String, Planes)], _ d: Degradation, _ f: (Planes) -> Planes) -> Double {
            images.reduce(0.0) { $0 + Self.psnr(f(d.apply($1.1, imageName: $1.0)), $1.1) } / Double(images.count)
        }
        for d in degradations {
            progress("\(d.name): degraded input")
            rows.append(Row(degradation: d.name, method: "degraded input", setting: "", psnr: mean(test, d) { $0 }))
            for method in d.blurSigma > 0 ? Method.forBlur : Method.forNoise {
                progress("\(d.name): tuning \(method.name)")
                let scores = method.settings.indices.map { k in mean(tuning, d) { method.run($0, d, k) } }
                let best = scores.indices.max { scores[$0] < scores[$1] }!
                progress("\(d.name): \(method.name), \(method.settings[best])")
                rows.append(Row(degradation: d.name, method: method.name, setting: method.settings[best],
                                psnr: mean(test, d) { method.run($0, d, best) }, tuningPSNR: scores[best]))
            }
            for method in blind {
                progress("\(d.name): \(method.name)")
                rows.append(Row(degradation: d.name, method: method.name, setting: method.settings[0],
                                psnr: mean(test, d) { method.run($0, d, 0) },
                                tuningPSNR: method.scoreTuningImages ? mean(tuning, d) { method.run($0, d, 0) } : nil))
            }
        }
        return rows
    }

    /// What denoising before compression saves: per noise level, the mean bits per pixel and
    /// PSNR (against the clean image) of compressing the noisy image, and of compressing it
    /// after `denoiser`, with the codec model `codec`.
    public struct CompressionRow: Sendable, Codable, Equatable {
        public var degradation: String
        public var noisyBPP: Double
        public var noisyPSNR: Double
        public var denoisedBPP: Double
        public var denoisedPSNR: Double
    }

    public func compression(test: [(String, Planes)], denoiser: Denoiser, codec: CodecModel,
                            progress: (String) -> Void = { _ in }) throws -> [CompressionRow] {
        var rows: [CompressionRow] = []
        for d in degradations {
            var sums = [0.0, 0.0, 0.0, 0.0]
            for (name, clean) in test {
                progress("\(d.name): compressing \(name)")
                let noisy = d.apply(clean, imageName: name).image()
                for (k, image) in [noisy, ImageDenoiser.denoise(noisy, model: denoiser)].enumerated() {
                    let bytes = try ImageCodec.encode(image, model: codec).serialized()
                    let decoded = try ImageCodec.decode(Container.parse(bytes), model: codec)
                    sums[2 * k] += Double(bytes.count * 8) / Double(image.pixelCount)
                    sums[2 * k + 1] += Self.psnr(Planes(decoded), clean)
                }
            }
            let n = Double(test.count)
            rows.append(CompressionRow(degradation: d.name, noisyBPP: sums[0] / n, noisyPSNR: sums[1] / n,
                                       denoisedBPP: sums[2] / n, denoisedPSNR: sums[3] / n))
        }
        return rows
    }

    /// The compression table in Markdown.
    public static func compressionMarkdown(_ rows: [CompressionRow], quality: String) -> String {
        var out = "\nCompressing with vlat \(quality), without and with `--denoise` (PSNR against the clean image):\n\n"
        out += "| degradation | noisy: bpp | noisy: PSNR (dB) | denoised first: bpp | denoised first: PSNR (dB) | bits saved |\n|---|---:|---:|---:|---:|---:|\n"
        for r in rows {
            out += "| \(r.degradation) | " + [r.noisyBPP, r.noisyPSNR, r.denoisedBPP, r.denoisedPSNR].enumerated()
                .map { String(format: $0.offset % 2 == 0 ? "%.3f" : "%.2f", $0.element) }.joined(separator: " | ")
            out += " | \(String(format: "%.0f", (1 - r.denoisedBPP / r.noisyBPP) * 100)) % |\n"
        }
        return out
    }

    /// Published colour-denoising results on CBSD68 (PSNR-RGB, dB), quoted from Zhang, Zuo and
    /// Zhang, "FFDNet", IEEE TIP 2018, Table: CBM3D, CDnCNN and FFDNet at sigma 15, 25, 50.
    /// Those were computed without clipping the noisy input; this bench clips, so they are a
    /// reference, not a same-conditions comparison.
    public static let quoted: [(method: String, psnr: [String: Double])] = [
        ("CBM3D (quoted)", ["noise 15": 33.52, "noise 25": 30.71, "noise 50": 27.38]),
        ("CDnCNN (quoted)", ["noise 15": 33.89, "noise 25": 31.23, "noise 50": 27.92]),
        ("FFDNet (quoted)", ["noise 15": 33.87, "noise 25": 31.21, "noise 50": 27.96]),
    ]

    /// The result table in Markdown, quoted results included.
    public static func markdown(_ rows: [Row], command: String, tuningCount: Int, testCount: Int) -> String {
        var out = "Command: `\(command)`\n\n"
        out += "Mean PSNR-RGB (dB) over \(testCount) test images; parameters chosen on \(tuningCount) tuning images.\n\n"
        out += "| degradation | method | chosen setting | PSNR (dB) | on tuning images |\n|---|---|---|---:|---:|\n"
        for r in rows {
            out += "| \(r.degradation) | \(r.method) | \(r.setting) | \(String(format: "%.2f", r.psnr)) | \(r.tuningPSNR.map { String(format: "%.2f", $0) } ?? "") |\n"
        }
        for (method, values) in quoted {
            for d in ["noise 15", "noise 25", "noise 50"] {
                out += "| \(d) | \(method) | | \(String(format: "%.2f", values[d]!)) | |\n"
            }
        }
        return out
    }
}
