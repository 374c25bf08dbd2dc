import ArgumentParser
import Foundation
import VlatBench
import VlatCodec
import VlatFiles
import VlatFilters
import VlatImageIO
import VlatTraining

/// `vlat bench-restore`: classical denoising and deblurring baselines.
struct BenchRestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-restore",
        abstract: "Measure denoising and deblurring: degraded inputs and classical filters, PSNR-RGB.",
        discussion: """
        Degradations: Gaussian noise sigma 15, 25, 50, and Gaussian blur sigma 1 and 2 plus \
        noise sigma 2 (noise from a fixed per-image seed, clipped to 0..255). Methods: Gaussian \
        and median filters for noise; unsharp masking, Richardson-Lucy and Wiener deconvolution \
        (with the true kernel) for blur. Each method's parameter is chosen on the tuning images, \
        the held-out validation split of --tune (the same split `vlat train` holds out), never \
        on the test images. Published CBSD68 results are added, marked as quoted. With \
        --denoiser, the trained network runs on every degradation too (blind, one model; with \
        --ensemble also averaged over the image's 8 orientations); \
        with --compress-quality as well, noisy images are compressed with and without \
        denoising first, to show the bits a clean image saves.

        Examples:
          vlat bench-restore ../shared/corpus/cbsd68 --tune ../shared/corpus/train --out restore-bench
          vlat bench-restore ../shared/corpus/cbsd68 --tune ../shared/corpus/train --denoiser Sources/VlatCodec/Models/denoise.vlatmodel --ensemble --compress-quality 4
          vlat bench-restore ../shared/corpus/cbsd68 --tune ../shared/corpus/train --limit 8 --tune-limit 4
        """)

    @Argument(help: "Folder of clean test images.") var input: String
    @Option(help: "Training folder whose held-out split tunes the parameters.") var tune: String
    @Option(help: "Folder for summary.md and results.json.") var out = "restore-out"
    @Option(help: "Use only the first N test images.") var limit: Int?
    @Option(help: "Use only the first N tuning images.") var tuneLimit: Int?
    @Option(help: "A trained denoising model to measure beside the classical filters.") var denoiser: String?
    @Flag(help: "With --denoiser: also measure it averaged over the 8 orientations (vlat denoise --ensemble).") var ensemble = false
    @Option(help: "With --denoiser: also compress the noisy images at this installed quality level, without and with denoising.") var compressQuality: UInt8?
    @Flag(help: "Replace results already in --out.") var force = false

    func validate() throws {
        if let q = compressQuality, !(1...8).contains(q) { throw ValidationError("--compress-quality must be in 1...8") }
        if compressQuality != nil && denoiser == nil { throw ValidationError("--compress-quality needs --denoiser") }
        if ensemble && denoiser == nil { throw ValidationError("--ensemble needs --denoiser") }
    }

    func run() throws {
        var testPaths: [String]
        do { testPaths = try RDSweep.imagePaths(in: input) } catch { throw CLIError("\(error)") }
        if let limit { testPaths = Array(testPaths.prefix(max(1, limit))) }
        let tuningImages: [RGBImage]
        do { tuningImages = try TrainingImages.load(folder: tune).validation } catch { throw CLIError("\(error)") }
        let tuning = Array(tuningImages.prefix(tuneLimit ?? tuningImages.count)).map { image in
            (image.name, Planes(Image(width: image.width, height: image.height, layout: .rgb, pixels: image.pixels)))
        }
        let test = try testPaths.map { path -> (String, Planes) in
            do { return ((path as NSString).lastPathComponent, Planes(try ImageFile.read(path))) } catch { throw CLIError(file: path, error) }
        }
        for name in ["summary.md", "results.json"] where !force && FileManager.default.fileExists(atPath: "\(out)/\(name)") {
            throw CLIError("\(out)/\(name): already exists (use --force to overwrite)")
        }
        try? FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let network = try denoiser.map(loadDenoiser)
        let codec: CodecModel?
        do { codec = try compressQuality.map { try ModelRegistry(folders: []).model(quality: Double($0)) } } catch { throw CLIError("\(error)") }
        let progress = Terminal.Progress(every: 1)
        var blind: [RestorationBench.Method] = []
        if let network {
            blind.append(RestorationBench.learned(name: "vlat denoiser", denoiser: network))
            if ensemble { blind.append(RestorationBench.learned(name: "vlat denoiser --ensemble", denoiser: network, ensemble: true)) }
        }
        let bench = RestorationBench(blind: blind)
        let rows = bench.run(tuning: tuning, test: test, progress: progress.update)
        var compression: [RestorationBench.CompressionRow] = []
        if let network, let codec {
            let noiseOnly = RestorationBench(degradations: RestorationBench.Degradation.standard.filter { $0.blurSigma == 0 })
            do { compression = try noiseOnly.compression(test: test, denoiser: network, codec: codec, progress: progress.update) } catch {
                progress.finish()
                throw CLIError("\(error)")
            }
        }
        progress.finish()
        let command = ShellQuoting.commandLine(["vlat"] + CommandLine.arguments.dropFirst())
        var markdown = RestorationBench.markdown(rows, command: command, tuningCount: tuning.count, testCount: test.count)
        if let q = compressQuality, !compression.isEmpty { markdown += RestorationBench.compressionMarkdown(compression, quality: "quality \(q)") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try AtomicFile.write(Array(markdown.utf8), to: "\(out)/summary.md", overwrite: true)
            try AtomicFile.write(Array(try encoder.encode(RestoreResults(rows: rows, compression: compression))), to: "\(out)/results.json", overwrite: true)
        } catch { throw CLIError("\(error)") }
        print(markdown, terminator: "")
    }
}

/// What `vlat bench-restore` writes to results.json.
struct RestoreResults: Encodable {
    var rows: [RestorationBench.Row]
    var compression: [RestorationBench.CompressionRow]
}
