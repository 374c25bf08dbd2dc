import ArgumentParser
import Foundation
import VlatBench
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
        on the test images. Published CBSD68 results are added, marked as quoted.

        Examples:
          vlat bench-restore ../shared/corpus/cbsd68 --tune ../shared/corpus/train --out restore-bench
          vlat bench-restore ../shared/corpus/cbsd68 --tune ../shared/corpus/train --limit 8 --tune-limit 4
        """)

    @Argument(help: "Folder of clean test images.") var input: String
    @Option(help: "Training folder whose held-out split tunes the parameters.") var tune: String
    @Option(help: "Folder for summary.md and results.json.") var out = "restore-out"
    @Option(help: "Use only the first N test images.") var limit: Int?
    @Option(help: "Use only the first N tuning images.") var tuneLimit: Int?
    @Flag(help: "Replace results already in --out.") var force = false

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
        let progress = Terminal.Progress(every: 1)
        let rows = RestorationBench().run(tuning: tuning, test: test, progress: progress.update)
        progress.finish()
        let command = (["vlat"] + CommandLine.arguments.dropFirst().map(BenchCommand.shellQuoted)).joined(separator: " ")
        let markdown = RestorationBench.markdown(rows, command: command, tuningCount: tuning.count, testCount: test.count)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try AtomicFile.write(Array(markdown.utf8), to: "\(out)/summary.md", overwrite: true)
            try AtomicFile.write(Array(try encoder.encode(rows)), to: "\(out)/results.json", overwrite: true)
        } catch { throw CLIError("\(error)") }
        print(markdown, terminator: "")
    }
}
