import ArgumentParser
import Foundation
import VlatBench
import VlatCodec
import VlatFiles
import VlatImageIO
import VlatMetrics
import VlatTensor

/// `vlat bench`: rate-distortion sweeps of the installed codecs over a folder of images.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure codecs on a folder of images: bpp, PSNR, MS-SSIM, speed; CSV, JSON and SVG plots.",
        discussion: """
        JPEG runs through the linked libjpeg (4:2:0, optimised Huffman tables). WebP, AVIF and \
        JPEG XL run through cwebp/dwebp, avifenc/avifdec and cjxl/djxl when installed, and are \
        skipped with a note when not. vlat runs every installed quality level (or the models \
        given with --vlat-model). Means are over images; times are medians. BD-rates are \
        against JPEG on the mean curves, and vlat's against every other codec.

        Writes to --out: results.csv (per image), summary.csv, summary.md, results.json, \
        psnr.svg and msssim.svg. The summary table also goes to standard output.

        Examples:
          vlat bench Corpus/photos
          vlat bench ../shared/corpus/kodak --out kodak-bench --force
          vlat bench photos/ --codecs jpeg --jpeg-qualities 10,50,90 --limit 3
          vlat bench ../shared/corpus/kodak --codecs jpeg,vlat,vlat-rans,vlat-ctx,vlat-zstd --vlat-model q2.vlatmodel --vlat-model q4.vlatmodel
          vlat bench ../shared/corpus/kodak --codecs vlat --vlat-analysis float32 --out kodak-float32
          vlat bench ../shared/corpus/kodak --quoted Benchmarks/quoted/compressai-bmshj2018-factorized-mse.json
        """)

    @Argument(help: "A folder of PNG/JPEG images (or one image file).")
    var input: String

    @Option(help: "Codecs to run, comma-separated, from: jpeg, webp, avif, jxl, vlat (default coder: the smallest of rANS, ctx and zstd per image), vlat-rans, vlat-ctx (context-adaptive rANS), vlat-zstd, vlat-refined (vlat with --refine steps of latent refinement: slow).")
    var codecs = "jpeg,webp,avif,jxl,vlat"

    @Option(help: "Adam steps on each image's latents for vlat-refined (see vlat compress --refine).") var refine: Int = 20
    @Option(help: "Adam step size of vlat-refined, in quantization steps (vlat compress --refine uses the default; this is for tuning it).") var refineStepSize: Float = LatentRefinement.defaultLearningRate
    @Option(help: "vlat-refined rounds by stochastic Gumbel annealing instead of uniform noise, its temperature falling from 0.5 to this value over the steps (for tuning it).") var refineAnneal: Float?
    @Option(name: .customLong("vlat-model"), help: "A vlat model file: one rate point each (repeat for a curve; default: every installed quality level).")
    var vlatModels: [String] = []

    @Option(name: .customLong("vlat-analysis"), help: "Arithmetic of a hyperprior model's analysis transform when encoding: bfloat16 (the default where the CPU has AVX512_BF16) or float32 (to measure what the faster products cost).")
    var vlatAnalysis: InferencePrecision?

    @OptionGroup var search: ModelSearchOptions

    @Option(help: "A published curve to show beside the measured ones (CompressAI results JSON; repeatable).")
    var quoted: [String] = []

    @Option(help: "Folder for the result files.")
    var out = "bench-out"

    @Option(help: "JPEG qualities to sweep, comma-separated (1...100).")
    var jpegQualities: String?

    @Option(help: "Use only the first N images (sorted by name).")
    var limit: Int?

    @Option(help: "Curve interpolation for BD-rate: pchip or cubic.")
    var bd: Bjontegaard.Interpolation = .pchip

    @Option(help: "Title for the plots.")
    var title: String?

    @OptionGroup var imageLimits: ImageLimitOptions

    @Flag(help: "Replace result files already in --out.")
    var force = false

    /// Quotes an argument for a POSIX shell when it needs it, so the recorded command re-runs.
    static let outputs = ["results.csv", "summary.csv", "summary.md", "results.json", "psnr.svg", "msssim.svg"]

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if !(1...LatentRefinement.maxSteps).contains(refine) { throw ValidationError("--refine must be in 1...\(LatentRefinement.maxSteps)") }
        if !(refineStepSize > 0 && refineStepSize <= 10) { throw ValidationError("--refine-step-size must be in (0, 10]") }
        if let t = refineAnneal, !(t > 0 && t <= 0.5) { throw ValidationError("--refine-anneal must be in (0, 0.5]") }
        if let q = jpegQualities {
            let values = q.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            if values.isEmpty || values.contains(where: { $0 == nil || !(1...100).contains($0!) }) {
                throw ValidationError("--jpeg-qualities must be a comma-separated list of integers in 1...100")
            }
        }
    }

    func selectedCodecs() throws -> (run: [any BenchCodec], notes: [String]) {
        var run: [any BenchCodec] = []
        var notes: [String] = []
        for name in codecs.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            switch name {
            case "jpeg":
                let qualities = jpegQualities.map { $0.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
                run.append(LibJPEGCodec(settings: qualities ?? LibJPEGCodec.defaultQualities))
            case "webp", "avif", "jxl":
                let codec = name == "webp" ? ExternalToolCodec.webp() : name == "avif" ? ExternalToolCodec.avif() : ExternalToolCodec.jxl()
                if codec.isAvailable { run.append(codec) } else { notes.append(codec.missingNote) }
            case _ where VlatBenchCodec.names.contains(name):
                let models: [CodecModel]
                if vlatModels.isEmpty {
                    let registry = search.registry
                    do { models = try registry.qualities.map { try registry.model(quality: Double($0)) } } catch { throw CLIError("\(error)") }
                    if models.isEmpty {
                        notes.append("\(name): skipped, no quality-level model installed and no --vlat-model given")
                        continue
                    }
                } else {
                    // A hyperprior model is one rate point per quality level.
                    models = try vlatModels.flatMap { path -> [CodecModel] in
                        let m = try loadCodecModel(path)
                        guard m.hyperprior != nil else { return [m] }
                        do { return try (1...Int(QualitySchedule.top)).map { try m.atQuality(Double($0)) } } catch { throw CLIError(file: path, error) }
                    }
                }
                if let vlatAnalysis {
                    for model in models { model.hyperprior?.analysisPrecision = vlatAnalysis }
                }
                let coder = CoderChoice.allCases.first { VlatBenchCodec.name($0) == name }
                if let coder, coder != .auto, models.contains(where: { $0.hyperprior != nil }) {
                    notes.append("\(name): skipped, the \(vlatModels.isEmpty ? "installed model is" : "models given include") a hyperprior, which codes with its own coder; give factorized models with --vlat-model (e.g. RetiredModels/q4.vlatmodel)")
                    continue
                }
                if name == VlatBenchCodec.refinedName {
                    run.append(VlatBenchCodec(models: models, refinement: LatentRefinement(steps: refine, learningRate: refineStepSize,
                                                                                      annealing: refineAnneal.map { GumbelAnnealing(finalTemperature: $0) })))
                } else {
                    run.append(VlatBenchCodec(models: models, coder: coder!))
                }
            default:
                throw ValidationError(BenchError.unknownCodec(name).description)
            }
        }
        return (run, notes)
    }

    func run() throws {
        let quotedCurves: [QuotedCurve]
        do { quotedCurves = try quoted.map(QuotedCurve.load) } catch { throw CLIError("\(error)") }
        let (codecList, notes) = try selectedCodecs()
        notes.forEach(Terminal.note)
        guard !codecList.isEmpty else { throw CLIError("no codec to run") }
        var paths: [String]
        do { paths = try RDSweep.imagePaths(in: input) } catch { throw CLIError("\(error)") }
        if let limit { paths = Array(paths.prefix(limit)) }

        // Refuse before the (long) run, not after it.
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CLIError("\(out): exists and is not a folder") }
            if !force, let existing = Self.outputs.first(where: { FileManager.default.fileExists(atPath: "\(out)/\($0)") }) {
                throw CLIError("\(out)/\(existing): already exists (use --force to overwrite)")
            }
        } else {
            do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
                throw CLIError("\(out): cannot create folder: \(error.localizedDescription)")
            }
        }

        let progress = Terminal.Progress()
        var inputNotes = notes
        let sweep = RDSweep(codecs: codecList, limits: imageLimits.limits)
        let records: [BenchRecord]
        do {
            records = try sweep.run(paths: paths, progress: progress.update, note: { inputNotes.append($0); Terminal.note($0) })
        } catch let error as BenchError {
            progress.finish()
            throw CLIError("\(error)")
        } catch {
            progress.finish()
            throw CLIError("\(error)")
        }
        progress.finish()

        let command = ShellQuoting.commandLine(["vlat"] + CommandLine.arguments.dropFirst())
        let report = BenchReport(command: command, records: records, notes: inputNotes, quoted: quotedCurves,
                                 interpolation: bd)
        let plotTitle = title ?? "\((input as NSString).lastPathComponent): \(paths.count) image\(paths.count == 1 ? "" : "s")"
        let files: [(String, String)] = [
            ("results.csv", report.recordsCSV()), ("summary.csv", report.summaryCSV()),
            ("summary.md", "Command: `\(command)`\n\n\(RDSweep.metadataPolicy)\n\n" + report.markdown()), ("results.json", try report.json()),
            ("psnr.svg", report.psnrPlot(title: plotTitle)), ("msssim.svg", report.msssimPlot(title: plotTitle)),
        ]
        for (name, text) in files {
            do { try AtomicFile.write(Array(text.utf8), to: "\(out)/\(name)", overwrite: true) } catch {
                throw CLIError("\(error)")
            }
        }
        print(report.markdown(), terminator: "")
        Terminal.note(RDSweep.metadataPolicy)
        Terminal.note("\(paths.count) image(s), \(records.count) runs; wrote \(Self.outputs.map { "\(out)/\($0)" }.joined(separator: ", "))")
    }
}
