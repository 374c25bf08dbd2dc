// Codec benchmark: vlat's encode and decode times and peak memory beside libjpeg's, measured
// in the same run on the same images, and the picture that shows one crop from each codec at
// about the same rate.
//
//   swift build -c release --product CodecBench
//   .build/release/CodecBench speed [--images DIR] [--quality N] [--jpeg-quality Q] [--repeats R] [--out DIR]
//   .build/release/CodecBench speed-vs --baseline-model-dir DIR [--images DIR] [--quality N] [--repeats R] [--out DIR]
//                             [--analysis float32|bfloat16] [--baseline-analysis float32|bfloat16]
//     (in-process encode and decode times of two models at the same quality, alternating image by
//     image, so that their ratio is from one run: the installed model against DIR's; each model's
//     analysis in the arithmetic named, default the codec's)
//   .build/release/CodecBench picture [--image FILE] [--bpp 0.25] [--crop X,Y,W,H] [--zoom Z] [--out DIR]
//     (vlat at its level closest to --bpp, JPEG and WebP matched to the rate vlat reached)
//   .build/release/CodecBench restore-picture --denoiser MODEL [--images DIR] [--count N] [--out DIR]
//   .build/release/CodecBench prior-fit [--images DIR] [--out DIR]
//     (per level: the prior's estimate, rANS, context rANS and zstd payloads, and the best factorized entropy)
//   .build/release/CodecBench hyperprior-vs-ctx [--model FILE] [--images DIR] [--out DIR]
//     (per level of a hyperprior: its payload against the context coder and zstd on the same latents)
//   .build/release/CodecBench y-tables --fit DIR [--fit-count N] [--model FILE] [--images DIR] [--out DIR]
//     (what tables fitted to real residual symbols would save over the model's Gaussian ones)
//   .build/release/CodecBench latent-offsets --fit DIR [--fit-count N] [--levels 1,2,3,4] [--model FILE] [--images DIR] [--out DIR]
//     (dequantizing each latent at its interval's mean, fitted per scale index and symbol on other
//     images, instead of at the interval's centre: PSNR of the synthesis both ways)
//   .build/release/CodecBench png-levels [--images DIR] [--repeats R] [--out DIR]
//     (the decoded PNG's size and write time at each zlib level and row filter, on vlat's decoded images)
//   .build/release/CodecBench stages [--images DIR] [--quality Q] [--repeats R] [--out DIR] [--analysis float32|bfloat16]
//     (the hyperprior's encode and decode stage by stage, and its layers one by one, against the
//     same-run sgemm rate: where the time goes)
//   .build/release/CodecBench ceiling [--model FILE] [--images DIR] [--out DIR]
//     (per level of a hyperprior: PSNR of the synthesis of the unquantized latent, the transforms'
//     limit at unbounded rate, beside that of the latent rounded at the level's gains)
//   .build/release/CodecBench detail --images DIR [--model FILE] [--levels 4,5,6] [--steps 16,24,32] [--roundings 0.35] [--trims 0] [--out DIR]
//     (the detail layer over a hyperprior's levels: bits and PSNR of every level and step; run it on
//     held-out training images, Scripts/validation_images.sh, to choose QualitySchedule's constants)
//   .build/release/CodecBench channels [--model FILE] [--images DIR] [--out DIR]
//     (how much of the latent's width a hyperprior's transforms use: each channel's spread, and
//     the unquantized synthesis with the least-spread channels flattened)
//
// restore-picture: for a few images (default: the first three of Corpus/photos, which may be
// committed, unlike the shared test sets), crops of the degraded input, the best classical filter
// (its parameter as bench-restore chose it on the held-out photos), the vlat denoiser and the
// clean original, side by side, for noise sigma 25 and for blur sigma 2 + noise 2.
//
// Times are in-process (models loaded, files in memory): the median over images of each
// image's median of --repeats runs, with every core (vlat's engine threads; libjpeg has one).
// Peak memory is each operation's maximum resident set, run alone in a fresh child process of
// this program (`CodecBench child ...`) that reads its input file, does the one operation and
// writes its output, so runtime, image and model loading are counted for both codecs alike.
import Foundation
import VlatBench
import VlatCodec
import VlatEntropy
import VlatFiles
import VlatFilters
import VlatFormat
import VlatImageIO
import VlatMetrics
import VlatModels
import VlatTensor

#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("CodecBench: \(message)\n".utf8))
    exit(1)
}

BLASKernelSelection.reexecIfKernelsMismatchCPU()
let args = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }

/// A hyperprior model's analysis arithmetic from option `name` (unchanged without it); its
/// effective value for reports.
@discardableResult
func applyAnalysis(_ name: String, to model: CodecModel) -> InferencePrecision? {
    guard let hyper = model.hyperprior else { return nil }
    if let value = option(name) {
        guard let precision = InferencePrecision(rawValue: value) else { fail("\(name) takes \(InferencePrecision.allCases.map(\.rawValue).joined(separator: " or "))") }
        hyper.analysisPrecision = precision
    }
    return hyper.analysisPrecision.effective
}

/// Each mode's options (all take a value). Anything else is refused before any work starts, so
/// a mistyped option or `--help` cannot run a long benchmark with the defaults.
let modeOptions: [String: Set<String>] = [
    "speed": ["--images", "--quality", "--jpeg-quality", "--repeats", "--out", "--model-dir"],
    "speed-vs": ["--images", "--quality", "--baseline-model-dir", "--repeats", "--out", "--model-dir", "--analysis", "--baseline-analysis"],
    "picture": ["--image", "--bpp", "--crop", "--zoom", "--out", "--model-dir"],
    "restore-picture": ["--denoiser", "--images", "--count", "--out", "--model-dir"],
    "prior-fit": ["--images", "--out", "--model-dir"],
    "hyperprior-vs-ctx": ["--model", "--images", "--out", "--model-dir"],
    "png-levels": ["--images", "--repeats", "--out", "--model-dir"],
    "ceiling": ["--model", "--images", "--out", "--model-dir"],
    "ceiling-optimized": ["--model", "--images", "--out", "--model-dir", "--level", "--steps", "--lr"],
    "channels": ["--model", "--images", "--out", "--model-dir"],
    "detail": ["--model", "--images", "--levels", "--steps", "--roundings", "--trims", "--out", "--model-dir"],
    "stages": ["--images", "--quality", "--repeats", "--out", "--model-dir", "--analysis"],
    "y-tables": ["--model", "--images", "--fit", "--fit-count", "--out", "--model-dir"],
    "latent-offsets": ["--model", "--images", "--fit", "--fit-count", "--levels", "--out", "--model-dir"],
]
let usage = "usage: CodecBench \(modeOptions.keys.sorted().joined(separator: "|")) [options] (see the comment at the top of Benchmarks/CodecBench/main.swift)"
if args.first != "child" {
    guard let mode = args.first, let known = modeOptions[mode] else {
        if args.first == "--help" || args.first == "-h" { print(usage); exit(0) }
        fail(usage)
    }
    var i = 1
    while i < args.count {
        guard known.contains(args[i]) else { fail("\(mode): unknown option '\(args[i])' (it takes \(known.sorted().joined(separator: ", ")))") }
        guard i + 1 < args.count else { fail("\(mode): \(args[i]) needs a value") }
        i += 2
    }
}
func median(_ v: [Double]) -> Double { let s = v.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    return (ContinuousClock.now - start).seconds
}
func f(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }
func write(_ text: String, to path: String) {
    do { try AtomicFile.write(Array(text.utf8), to: path, overwrite: true) } catch { fail("\(error)") }
}

/// Runs `arguments` as a child of this program and returns its peak resident memory in MiB,
/// which the child reports itself from /proc/self/status (VmHWM: the high-water mark of its own
/// address space; rusage would count the parent's pages it was spawned from).
func peakMiB(ofChild arguments: [String]) -> Double {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    do { try process.run() } catch { fail("cannot start a child: \(error)") }
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0, let kib = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        fail("child \(arguments.joined(separator: " ")) failed (status \(process.terminationStatus))")
    }
    return kib / 1024
}

/// This process's peak resident memory in KiB (VmHWM).
func ownPeakKiB() -> String {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? "VmHWM: 0 kB"
    return line.split(separator: " ", omittingEmptySubsequences: true)[1].description
}

// MARK: child: one operation, for its peak memory

if args.first == "child" {
    MemoryTuning.retainFreedMemory() // as `vlat compress` does
    let a = Array(args.dropFirst())
    do {
        switch a.first {
        case "read": _ = try ImageFile.read(a[1])
        case "vlat-encode":
            let model = try CodecModel(bytes: FileReader.read(a[2]))
            let bytes = try ImageCodec.encode(ImageFile.read(a[1]), model: model).serialized()
            try AtomicFile.write(bytes, to: a[3], overwrite: true)
        case "vlat-decode":
            let model = try CodecModel(bytes: FileReader.read(a[2]))
            let image = try ImageCodec.decode(Container.parse(FileReader.read(a[1])), model: model)
            try AtomicFile.write(PNGCodec.encode(image), to: a[3], overwrite: true)
        case "jpeg-encode":
            let bytes = try JPEGCodec.encode(ImageFile.read(a[1]), quality: Int(a[2])!)
            try AtomicFile.write(bytes, to: a[3], overwrite: true)
        case "jpeg-decode":
            let image = try JPEGCodec.decode(FileReader.read(a[1]))
            try AtomicFile.write(PNGCodec.encode(image), to: a[2], overwrite: true)
        default: fail("unknown child operation \(a.first ?? "")")
        }
    } catch { fail("\(error)") }
    print(ownPeakKiB())
    exit(0)
}

MemoryTuning.retainFreedMemory()
let out = option("--out")
if let out { try? FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
let registry = ModelRegistry(folders: option("--model-dir").map { [$0] } ?? [])
let command = "CodecBench " + args.joined(separator: " ")
// The kernels move the times (see the README's speed section), so the speed report's command
// line reproduces the user's OPENBLAS_CORETYPE, or its absence (then OpenBLAS's choice from the
// CPU, or BLASKernelSelection's where OpenBLAS fell back below the CPU's level).
let blasChoice = BLASKernelSelection.userKernelSet.map { "OPENBLAS_CORETYPE=\($0) " } ?? "env -u OPENBLAS_CORETYPE "

// MARK: speed and memory

if args.first == "speed" {
    let folder = option("--images") ?? "../shared/corpus/kodak"
    guard FileManager.default.fileExists(atPath: folder) else { fail("\(folder) not found (the Kodak images live in ../shared/corpus/kodak)") }
    let paths: [String]
    do { paths = try RDSweep.imagePaths(in: folder) } catch { fail("\(error)") }
    let quality = UInt8(option("--quality") ?? "\(ModelRegistry.defaultQuality)") ?? ModelRegistry.defaultQuality
    let jpegQuality = Int(option("--jpeg-quality") ?? "75") ?? 75
    let repeats = Int(option("--repeats") ?? "3") ?? 3
    guard let entry = try? registry.entry(quality: Double(quality)) else { fail("no model for quality \(quality) installed") }
    let model: CodecModel
    do { model = try registry.model(quality: Double(quality)) } catch { fail("\(error)") }
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("codecbench-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }

    var rows: [(name: String, vEnc: Double, vDec: Double, jEnc: Double, jDec: Double, vBpp: Double, jBpp: Double)] = []
    var memory: [String: [Double]] = [:]
    for (i, path) in paths.enumerated() {
        FileHandle.standardError.write(Data("[\(i + 1)/\(paths.count)] \(path)\n".utf8))
        let image: Image
        do { image = try ImageFile.read(path).toRGB() } catch { fail("\(path): \(error)") }
        var vBytes: [UInt8] = [], jBytes: [UInt8] = []
        var vEnc: [Double] = [], vDec: [Double] = [], jEnc: [Double] = [], jDec: [Double] = []
        do {
            if i == 0 { _ = try ImageCodec.decode(ImageCodec.encode(image, model: model), model: model) } // warm-up
            for _ in 0..<repeats {
                vEnc.append(try seconds { vBytes = try ImageCodec.encode(image, model: model).serialized() })
                vDec.append(try seconds { _ = try ImageCodec.decode(Container.parse(vBytes), model: model) })
                jEnc.append(try seconds { jBytes = try JPEGCodec.encode(image, quality: jpegQuality) })
                jDec.append(try seconds { _ = try JPEGCodec.decode(jBytes) })
            }
        } catch { fail("\(path): \(error)") }
        let pixels = Double(image.pixelCount)
        rows.append(((path as NSString).lastPathComponent, median(vEnc), median(vDec), median(jEnc), median(jDec),
                     Double(vBytes.count * 8) / pixels, Double(jBytes.count * 8) / pixels))
        // Peak memory, each operation alone in a fresh process.
        let vlatFile = "\(scratch)/x.vlat", jpegFile = "\(scratch)/x.jpg"
        try! AtomicFile.write(vBytes, to: vlatFile, overwrite: true)
        try! AtomicFile.write(jBytes, to: jpegFile, overwrite: true)
        memory["read PNG only", default: []].append(peakMiB(ofChild: ["child", "read", path]))
        memory["vlat encode", default: []].append(peakMiB(ofChild: ["child", "vlat-encode", path, entry.path, "\(scratch)/y.vlat"]))
        memory["vlat decode", default: []].append(peakMiB(ofChild: ["child", "vlat-decode", vlatFile, entry.path, "\(scratch)/y.png"]))
        memory["libjpeg encode", default: []].append(peakMiB(ofChild: ["child", "jpeg-encode", path, "\(jpegQuality)", "\(scratch)/y.jpg"]))
        memory["libjpeg decode", default: []].append(peakMiB(ofChild: ["child", "jpeg-decode", jpegFile, "\(scratch)/z.png"]))
    }
    let vEnc = median(rows.map(\.vEnc)) * 1000, vDec = median(rows.map(\.vDec)) * 1000
    let jEnc = median(rows.map(\.jEnc)) * 1000, jDec = median(rows.map(\.jDec)) * 1000
    var md = "# vlat and libjpeg: speed and memory\n\nCommand: `\(blasChoice)\(command)`\n\n"
    md += "\(paths.count) images from `\(folder)`; vlat quality \(quality) (`\((entry.path as NSString).lastPathComponent)`, "
    md += "N=\(model.network.config.channels), M=\(model.network.config.latentChannels), \(ImageCodec.defaultCoder.description)), libjpeg quality \(jpegQuality) (4:2:0); "
    md += "\(ProcessInfo.processInfo.activeProcessorCount) cores, vlat engine threads \(Parallel.threads), OpenBLAS kernels \(BLAS.kernelName). "
    md += "Times: median over images of each image's median of \(repeats) runs, in-process.\n\n"
    md += "| | vlat | libjpeg | vlat / libjpeg |\n|---|---:|---:|---:|\n"
    md += "| mean bpp | \(f(rows.map(\.vBpp).reduce(0, +) / Double(rows.count), 3)) | \(f(rows.map(\.jBpp).reduce(0, +) / Double(rows.count), 3)) | |\n"
    md += "| encode ms (median) | \(f(vEnc)) | \(f(jEnc)) | \(f(vEnc / jEnc, 0))x |\n"
    md += "| decode ms (median) | \(f(vDec)) | \(f(jDec)) | \(f(vDec / jDec, 0))x |\n"
    md += "| encode ms (slowest image) | \(f(rows.map(\.vEnc).max()! * 1000)) | \(f(rows.map(\.jEnc).max()! * 1000)) | |\n"
    md += "| decode ms (slowest image) | \(f(rows.map(\.vDec).max()! * 1000)) | \(f(rows.map(\.jDec).max()! * 1000)) | |\n\n"
    md += "Peak resident memory of one operation in a fresh process (MiB; median and largest over the images):\n\n"
    md += "| operation | median | largest |\n|---|---:|---:|\n"
    for key in ["read PNG only", "vlat encode", "vlat decode", "libjpeg encode", "libjpeg decode"] {
        md += "| \(key) | \(f(median(memory[key]!))) | \(f(memory[key]!.max()!)) |\n"
    }
    print(md, terminator: "")
    if let out {
        write(md, to: "\(out)/speed.md")
        var csv = "image,vlat_bpp,vlat_encode_ms,vlat_decode_ms,jpeg_bpp,jpeg_encode_ms,jpeg_decode_ms\n"
        for r in rows { csv += "\(r.name),\(f(r.vBpp, 4)),\(f(r.vEnc * 1000, 2)),\(f(r.vDec * 1000, 2)),\(f(r.jBpp, 4)),\(f(r.jEnc * 1000, 2)),\(f(r.jDec * 1000, 2))\n" }
        write(csv, to: "\(out)/speed.csv")
    }
    exit(0)
}

// MARK: speed-vs

if args.first == "speed-vs" {
    let folder = option("--images") ?? "../shared/corpus/kodak"
    guard FileManager.default.fileExists(atPath: folder) else { fail("\(folder) not found (the Kodak images live in ../shared/corpus/kodak)") }
    guard let baselineFolder = option("--baseline-model-dir") else { fail("speed-vs needs --baseline-model-dir DIR") }
    let paths: [String]
    do { paths = try RDSweep.imagePaths(in: folder) } catch { fail("\(error)") }
    guard let quality = Double(option("--quality") ?? "\(ModelRegistry.defaultQuality)") else { fail("--quality takes a number") }
    let repeats = Int(option("--repeats") ?? "3") ?? 3
    let baselineRegistry = ModelRegistry(folders: [baselineFolder])
    let models: [(name: String, model: CodecModel)]
    do {
        models = [((try registry.entry(quality: quality).path as NSString).lastPathComponent, try registry.model(quality: quality)),
                  ((try baselineRegistry.entry(quality: quality).path as NSString).lastPathComponent, try baselineRegistry.model(quality: quality))]
    } catch { fail("\(error)") }
    let precisions = [applyAnalysis("--analysis", to: models[0].model), applyAnalysis("--baseline-analysis", to: models[1].model)]
    // times[model][0 encode, 1 decode][image]
    var times = [[[Double]]](repeating: [[], []], count: 2)
    for (i, path) in paths.enumerated() {
        FileHandle.standardError.write(Data("[\(i + 1)/\(paths.count)] \(path)\n".utf8))
        let image: Image
        do { image = try ImageFile.read(path).toRGB() } catch { fail("\(path): \(error)") }
        var enc = [[Double]](repeating: [], count: 2), dec = [[Double]](repeating: [], count: 2)
        do {
            var files = try models.map { try ImageCodec.encode(image, model: $0.model).serialized() }  // and warm-up
            for _ in 0..<repeats {
                for m in 0..<2 { enc[m].append(try seconds { files[m] = try ImageCodec.encode(image, model: models[m].model).serialized() }) }
                for m in 0..<2 { dec[m].append(try seconds { _ = try ImageCodec.decode(Container.parse(files[m]), model: models[m].model) }) }
            }
        } catch { fail("\(path): \(error)") }
        for m in 0..<2 { times[m][0].append(median(enc[m])); times[m][1].append(median(dec[m])) }
    }
    var md = "# Two models' speed, in one run\n\nCommand: `\(blasChoice)\(command)`\n\n"
    md += "\(paths.count) images from `\(folder)`, quality \(quality); each image encoded and decoded \(repeats) times by both models in turn "
    md += "(in-process, models loaded, 2 threads, OpenBLAS kernels \(BLAS.kernelName)). Times: median over images of each image's median; "
    md += "*ratio*: the median over images of the per-image ratio."
    if precisions[0] != nil || precisions[1] != nil {
        md += " Analysis arithmetic: \(precisions.map { $0?.rawValue ?? "none" }.joined(separator: " and "))."
    }
    md += "\n\n"
    md += "| | \(models[0].name) ms | \(models[1].name) ms | ratio |\n|---|---:|---:|---:|\n"
    for (k, what) in ["encode", "decode"].enumerated() {
        let ratios = zip(times[0][k], times[1][k]).map { $0 / $1 }
        md += "| \(what) | \(f(median(times[0][k]) * 1000)) | \(f(median(times[1][k]) * 1000)) | \(f(median(ratios), 2)) |\n"
    }
    print(md, terminator: "")
    if let out { write(md, to: "\(out)/speed-vs.md") }
    exit(0)
}

// MARK: the detail layer

if args.first == "detail" {
    guard option("--images") != nil else { fail("detail needs --images DIR: held-out training images (Scripts/validation_images.sh), not a test set") }
    let (folder, path, images, base, _) = hyperpriorInputs()
    func numbers(_ name: String, _ fallback: String) -> [Double] {
        let v = (option(name) ?? fallback).split(separator: ",").map { Double($0) }
        guard !v.isEmpty, v.allSatisfy({ $0 != nil }) else { fail("detail: \(name) takes numbers separated by commas") }
        return v.map { $0! }
    }
    let rows: [DetailReport.Row]
    do {
        rows = try DetailReport.run(images: images, model: base, levels: numbers("--levels", "4,5,6"), steps: numbers("--steps", "16,24,32,48"),
                                    roundings: numbers("--roundings", "\(DetailLayer.defaultRounding)"), trims: numbers("--trims", "\(DetailLayer.defaultTrim)"))
    } catch { fail("\(error)") }
    var md = "# The detail layer over the model's levels\n\nCommand: `\(command)`\n\n"
    md += "\(images.count) images from `\(folder)`, model `\(path)`; means over the images of the whole file's bits per pixel and of "
    md += "the PSNR-RGB of its decoded image. No step: the level alone.\n\n| level | step | rounding | trim | bpp | PSNR-RGB (dB) |\n|---:|---:|---:|---:|---:|---:|\n"
    var csv = "level,step,rounding,trim,bpp,psnr_rgb\n"
    for r in rows {
        md += "| \(r.level) | \(r.step.map { "\($0)" } ?? "-") | \(r.step == nil ? "-" : "\(r.rounding)") | \(r.step == nil ? "-" : "\(r.trim)") | \(f(r.bpp, 4)) | \(f(r.psnr, 3)) |\n"
        csv += "\(r.level),\(r.step.map { "\($0)" } ?? ""),\(r.step == nil ? "" : "\(r.rounding)"),\(r.step == nil ? "" : "\(r.trim)"),\(f(r.bpp, 5)),\(f(r.psnr, 4))\n"
    }
    print(md, terminator: "")
    if let out { write(md, to: "\(out)/detail.md"); write(csv, to: "\(out)/detail.csv") }
    exit(0)
}

// MARK: stages

if args.first == "stages" {
    let folder = option("--images") ?? "../shared/corpus/kodak"
    guard FileManager.default.fileExists(atPath: folder) else { fail("\(folder) not found (the Kodak images live in ../shared/corpus/kodak)") }
    let paths: [String]
    do { paths = try RDSweep.imagePaths(in: folder) } catch { fail("\(error)") }
    guard let quality = Double(option("--quality") ?? "\(ModelRegistry.defaultQuality)"),
          let repeats = Int(option("--repeats") ?? "3"), repeats >= 1 else { fail("stages: --quality must be a number, --repeats a positive count") }
    guard let entry = try? registry.entry(quality: quality) else { fail("no model for quality \(quality) installed") }
    let model: CodecModel
    do { model = try registry.model(quality: quality) } catch { fail("\(error)") }
    guard model.hyperprior != nil else { fail("stages: \(entry.path) is not a hyperprior model") }
    let analysis = applyAnalysis("--analysis", to: model)!
    var header = "# Where the time goes: the hyperprior's encode and decode, stage by stage\n\nCommand: `\(blasChoice)\(command)`\n\n"
    header += "\(paths.count) images from `\(folder)`; vlat quality \(quality) (`\((entry.path as NSString).lastPathComponent)`); "
    header += "\(ProcessInfo.processInfo.activeProcessorCount) cores, engine threads \(Parallel.threads), OpenBLAS kernels \(BLAS.kernelName), "
    header += "analysis in \(analysis.rawValue); in-process, model loaded.\n\n"
    let report: StageReport
    do { report = try StageReport.run(paths: paths, model: model, quality: quality, repeats: repeats, header: header) } catch { fail("\(error)") }
    print(report.markdown, terminator: "")
    if let out {
        write(report.markdown, to: "\(out)/stages.md")
        write(report.csv, to: "\(out)/stages.csv")
    }
    exit(0)
}

// MARK: picture

if args.first == "picture" {
    let path = option("--image") ?? "Corpus/photos/astronaut.png"
    let target = Double(option("--bpp") ?? "0.25") ?? 0.25
    let zoom = Int(option("--zoom") ?? "2") ?? 2
    let image: Image
    do { image = try ImageFile.read(path).toRGB() } catch { fail("\(path): \(error)") }
    let crop = (option("--crop") ?? "\(image.width / 2 - 80),\(image.height / 2 - 80),160,160").split(separator: ",").compactMap { Int($0) }
    guard crop.count == 4, crop[0] >= 0, crop[1] >= 0, crop[2] > 0, crop[3] > 0,
          crop[0] + crop[2] <= image.width, crop[1] + crop[3] <= image.height else { fail("--crop X,Y,W,H must lie inside the \(image.width)x\(image.height) image") }
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("codecbench-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }

    /// The setting whose whole-image rate is closest to `rate`.
    func closest(_ codec: any BenchCodec, to rate: Double) throws -> (setting: Int, run: CodecRun) {
        var best: (Int, CodecRun, Double)?
        for s in codec.settings {
            let run = try codec.run(image, setting: s, scratch: scratch)
            let gap = abs(Double(run.bytes * 8) / Double(image.pixelCount) - rate)
            if best == nil || gap < best!.2 { best = (s, run, gap) }
        }
        return (best!.0, best!.1)
    }
    var tiles: [(label: String, image: Image, bpp: Double)] = [("original", image, 24)]
    func bpp(_ run: CodecRun) -> Double { Double(run.bytes * 8) / Double(image.pixelCount) }
    // vlat first (its default coder), at its level closest to the target; the other codecs are
    // then matched to the rate vlat actually reached, so every tile costs about the same.
    var rate = target
    do {
        let models = try registry.qualities.map { try registry.model(quality: Double($0)) }
        guard !models.isEmpty else { fail("no vlat quality level installed") }
        let v = try closest(VlatBenchCodec(models: models), to: target)
        rate = bpp(v.run)
        let jpeg = try closest(LibJPEGCodec(settings: Array(1...100)), to: rate)
        tiles.append(("JPEG q\(jpeg.setting) (libjpeg 4:2:0)", jpeg.run.decoded, bpp(jpeg.run)))
        let webp = ExternalToolCodec.webp(settings: Array(stride(from: 0, through: 100, by: 2)))
        if webp.isAvailable {
            let w = try closest(webp, to: rate)
            tiles.append(("WebP q\(w.setting)", w.run.decoded, bpp(w.run)))
        } else {
            FileHandle.standardError.write(Data("note: \(webp.missingNote)\n".utf8))
        }
        tiles.append(("vlat q\(v.setting) (\(ImageCodec.defaultCoder) coder)", v.run.decoded, bpp(v.run)))
    } catch { fail("\(error)") }

    // Tiles side by side, each crop enlarged `zoom` times (nearest neighbour), 8-pixel white gaps.
    let (cw, ch, gap) = (crop[2] * zoom, crop[3] * zoom, 8)
    let width = tiles.count * cw + (tiles.count - 1) * gap
    var pixels = [UInt8](repeating: 255, count: width * ch * 3)
    for (t, tile) in tiles.enumerated() {
        let rgb = tile.image.rgbSamples()
        for y in 0..<ch {
            for x in 0..<cw {
                let sx = crop[0] + x / zoom, sy = crop[1] + y / zoom
                let dst = (y * width + t * (cw + gap) + x) * 3, src = (sy * image.width + sx) * 3
                pixels[dst] = rgb[src]; pixels[dst + 1] = rgb[src + 1]; pixels[dst + 2] = rgb[src + 2]
            }
        }
    }
    let strip = Image(width: width, height: ch, layout: .rgb, pixels: pixels)
    var md = "Command: `\(command)`\n\n`\(path)`, crop \(crop.map(String.init).joined(separator: ",")) (x, y, w, h) enlarged \(zoom)x; "
    md += "vlat at its level closest to \(target) bpp on the whole image (\(f(rate, 3)) bpp), JPEG and WebP at their settings closest to that rate. Left to right:\n\n"
    md += "| tile | bpp | PSNR-RGB (dB) | MS-SSIM |\n|---|---:|---:|---:|\n"
    for tile in tiles {
        if tile.label == "original" { md += "| original | 24 | | |\n"; continue }
        let psnr = (try? PSNR.compute(reference: image, distorted: tile.image).rgb) ?? .nan
        let ms = (try? MSSSIM.compute(reference: image, distorted: tile.image)) ?? .nan
        md += "| \(tile.label) | \(f(tile.bpp, 3)) | \(f(psnr, 2)) | \(f(ms, 4)) |\n"
    }
    print(md, terminator: "")
    if let out {
        do { try AtomicFile.write(PNGCodec.encode(strip), to: "\(out)/picture.png", overwrite: true) } catch { fail("\(error)") }
        write(md, to: "\(out)/picture.md")
    }
    exit(0)
}

// MARK: restoration picture

if args.first == "restore-picture" {
    guard let modelPath = option("--denoiser") else { fail("restore-picture needs --denoiser MODEL") }
    // Corpus/ by default: the picture is committed, and the shared test sets must not be.
    let folder = option("--images") ?? "Corpus/photos"
    let count = Int(option("--count") ?? "3") ?? 3
    let denoiser: Denoiser
    do { denoiser = try Denoiser(modelFile: ModelFile.parse(FileReader.read(modelPath))) } catch { fail("\(modelPath): \(error)") }
    let paths: [String]
    do { paths = Array(try RDSweep.imagePaths(in: folder).prefix(count)) } catch { fail("\(error)") }
    let side = 128, zoom = 2, gap = 8
    let cases: [(file: String, degradation: RestorationBench.Degradation, classical: String, restore: (Planes) -> Planes)] = [
        ("restore-noise25", .init(name: "noise 25", blurSigma: 0, noiseSigma: 25), "Gaussian filter sigma 0.75",
         { GaussianBlur.apply($0, sigma: 0.75) }),
        ("restore-blur2", .init(name: "blur 2 + noise 2", blurSigma: 2, noiseSigma: 2), "Wiener (true kernel) nsr 0.01",
         { WienerDeconvolution.apply($0, sigma: 2, nsr: 0.01) }),
    ]
    let learned = RestorationBench.learned(name: "vlat", denoiser: denoiser)
    var md = "Command: `\(command)`\n\n"
    for c in cases {
        let tile = side * zoom, width = 4 * tile + 3 * gap, height = paths.count * tile + (paths.count - 1) * gap
        var pixels = [UInt8](repeating: 255, count: width * height * 3)
        md += "`\(c.file).png`: \(c.degradation.name); columns: degraded input, \(c.classical), vlat denoiser, clean. "
        md += "Rows: \(paths.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")) (centre \(side)x\(side) crops, enlarged \(zoom)x).\n\n"
        md += "| image | input (dB) | classical (dB) | vlat (dB) |\n|---|---:|---:|---:|\n"
        for (row, path) in paths.enumerated() {
            let clean: Planes
            do { clean = Planes(try ImageFile.read(path)) } catch { fail("\(path): \(error)") }
            let name = (path as NSString).lastPathComponent
            let degraded = c.degradation.apply(clean, imageName: name)
            let columns = [degraded, c.restore(degraded), learned.run(degraded, c.degradation, 0), clean]
            md += "| \(name) | " + columns.prefix(3).map { f(RestorationBench.psnr($0, clean), 2) }.joined(separator: " | ") + " |\n"
            let x0 = (clean.width - side) / 2, y0 = (clean.height - side) / 2
            for (col, planes) in columns.enumerated() {
                for y in 0..<tile {
                    for x in 0..<tile {
                        let src = (y0 + y / zoom) * planes.width + x0 + x / zoom
                        let dst = ((row * (tile + gap) + y) * width + col * (tile + gap) + x) * 3
                        for ch in 0..<3 { pixels[dst + ch] = UInt8(min(255, max(0, planes.channels[ch][src].rounded()))) }
                    }
                }
            }
        }
        md += "\n"
        if let out {
            let image = Image(width: width, height: height, layout: .rgb, pixels: pixels)
            do { try AtomicFile.write(PNGCodec.encode(image), to: "\(out)/\(c.file).png", overwrite: true) } catch { fail("\(error)") }
        }
    }
    print(md, terminator: "")
    if let out { write(md, to: "\(out)/restore-picture.md") }
    exit(0)
}

// MARK: how well the prior fits

// For every installed level: the bits the latents of the test images cost under the model's
// prior (its own continuous estimate), in real rANS and zstd payloads, and the entropy of the
// best factorized model for exactly these latents (each channel's histogram over all the
// images, an oracle no shipped prior can beat). rANS far above the oracle: the prior is
// undertrained. zstd under the oracle: the latents have spatial structure that no factorized
// prior can use (a hyperprior or a context model would).
if args.first == "prior-fit" {
    let folder = option("--images") ?? "../shared/corpus/kodak"
    guard FileManager.default.fileExists(atPath: folder) else { fail("\(folder) not found (the Kodak images live in ../shared/corpus/kodak)") }
    let images: [Image]
    do { images = try RDSweep.imagePaths(in: folder).map { try ImageFile.read($0).toRGB() } } catch { fail("\(error)") }
    let pixels = Double(images.reduce(0) { $0 + $1.pixelCount })
    var md = "# The factorized prior against the latents it codes\n\nCommand: `\(command)`\n\n"
    md += "\(images.count) images from `\(folder)`; bits per pixel summed over all of them. *Oracle*: the entropy of each latent channel's own "
    md += "histogram over these latents (the best any factorized prior could do on them, knowing them in advance). "
    md += "*ctx*: the context-adaptive rANS coder (coder 3), which is not factorized and can go below the oracle, with its tables "
    md += "starting from the model's fitted context priors; *ctx, prior start*: the same coder with its tables starting from the prior. "
    md += "*Dead channels*: channels whose every symbol is 0.\n\n"
    md += "| level | prior's estimate | rANS payload | ctx payload | ctx, prior start | zstd payload | oracle | rANS / oracle | ctx / oracle | zstd / oracle | dead channels |\n"
    md += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    for quality in registry.qualities {
        let model: CodecModel
        do { model = try registry.model(quality: Double(quality)) } catch { fail("\(error)") }
        FileHandle.standardError.write(Data("q\(quality)\n".utf8))
        let channels = model.network.config.latentChannels
        var histograms = [[Int32: Int]](repeating: [:], count: channels)
        var estimate = 0.0, rans = 0, ctx = 0, ctxPlain = 0, zstd = 0
        for image in images {
            do {
                let latent = try ImageCodec.latents(of: image, model: model)
                let plane = latent.h * latent.w
                let symbols = latent.data.map { Int32($0) }
                for (i, s) in symbols.enumerated() { histograms[i / plane][s, default: 0] += 1 }
                estimate += model.network.prior?.forward(latent, training: false).bits ?? .nan
                rans += try RANSCoder.encode(symbols, tables: model.tables, tableIndex: { $0 / plane }).count
                ctx += try ContextRANSCoder.encode(symbols, channels: latent.c, height: latent.h, width: latent.w, tables: model.tables,
                                                   priors: model.contextPriors).count
                ctxPlain += try ContextRANSCoder.encode(symbols, channels: latent.c, height: latent.h, width: latent.w, tables: model.tables).count
                zstd += LatentPacking.pack(symbols).count
            } catch { fail("\(error)") }
        }
        var oracle = 0.0
        for h in histograms {
            let n = Double(h.values.reduce(0, +))
            for count in h.values { oracle -= Double(count) * log2(Double(count) / n) }
        }
        let dead = histograms.filter { $0.keys.allSatisfy { $0 == 0 } }.count
        let (e, r, x, z, o) = (estimate / pixels, Double(rans * 8) / pixels, Double(ctx * 8) / pixels, Double(zstd * 8) / pixels, oracle / pixels)
        md += "| q\(quality) | \(f(e, 4)) | \(f(r, 4)) | \(f(x, 4)) | \(f(Double(ctxPlain * 8) / pixels, 4)) | \(f(z, 4)) | \(f(o, 4)) | \(f(r / o, 3)) | \(f(x / o, 3)) | \(f(z / o, 3)) | \(dead) of \(channels) |\n"
    }
    print(md, terminator: "")
    if let out { write(md, to: "\(out)/prior-fit.md") }
    exit(0)
}

// MARK: the hyperprior against the context coder, on the same latents

/// The hyperprior modes' inputs: --images (default Kodak) as RGB, and --model (default the package's).
func hyperpriorInputs() -> (folder: String, path: String, images: [Image], base: CodecModel, hyper: HyperpriorCodecModel) {
    let folder = option("--images") ?? "../shared/corpus/kodak"
    let path = option("--model") ?? "Sources/VlatCodec/Models/hyperprior.vlatmodel"
    guard FileManager.default.fileExists(atPath: folder) else { fail("\(folder) not found (the Kodak images live in ../shared/corpus/kodak)") }
    let images: [Image], base: CodecModel
    do {
        images = try RDSweep.imagePaths(in: folder).map { try ImageFile.read($0).toRGB() }
        base = try CodecModel(bytes: FileReader.read(path))
    } catch { fail("\(error)") }
    guard let hyper = base.hyperprior else { fail("\(path) is not a hyperprior model") }
    return (folder, path, images, base, hyper)
}

/// What a hyperprior model's file of `image` codes: each latent's table index, residual symbol,
/// mean and gain, and the level code (the latent's size from the file's header).
func codedSymbols(_ image: Image, _ model: CodecModel, _ hyper: HyperpriorCodecModel)
    -> (indices: [Int], symbols: [Int32], means: [Double], gains: [Double], levelCode: Int) {
    do {
        let c = try ImageCodec.encode(image, model: model)
        let h = c.header
        let d = try HyperpriorCoding.decodeSymbols(c.payload, model: hyper, height: Int(h.latentHeight), width: Int(h.latentWidth))
        return (d.indices, d.symbols, d.means, d.gains, try HyperpriorCoding.levelCode(c.payload))
    } catch { fail("\(error)") }
}

/// PSNR-RGB of a synthesis output (padded to multiples of 16) against the image it reconstructs.
func synthesisPSNR(_ out: Tensor, _ image: Image) -> Double {
    let cropped = TensorOps.crop(out, height: image.height, width: image.width)
    let decoded = Image(width: image.width, height: image.height, layout: .rgb, pixels: ImageTensor.rgb(from: cropped, grey: false))
    guard let psnr = try? PSNR.compute(reference: image, distorted: decoded) else { fail("PSNR of unequal shapes") }
    return psnr.rgb
}

// For every level of a hyperprior model: what its own coder (z, then the residuals under the
// predicted means and scales) spends on the test images, against the factorized coders on the
// same quantized latents round(g * y): the context-adaptive rANS coder with tables and starting
// counts fitted to exactly these latents (an oracle, so a bound in the context coder's favour:
// a real one would transmit or train them), the oracle's factorized entropy, and zstd.
if args.first == "y-tables" {
    let (folder, path, images, base, hyper) = hyperpriorInputs()
    guard let fitFolder = option("--fit") else { fail("y-tables needs --fit DIR") }
    let fitImages: [Image]
    let fitCount = option("--fit-count").map { Int($0) ?? -1 } ?? Int.max
    guard fitCount > 0 else { fail("--fit-count takes a positive number") }
    do { fitImages = try RDSweep.imagePaths(in: fitFolder).prefix(fitCount).map { try ImageFile.read($0).toRGB() } } catch { fail("\(error)") }
    let tables = hyper.yTables
    func symbols(_ image: Image, _ model: CodecModel) -> (indices: [Int], symbols: [Int32]) {
        let d = codedSymbols(image, model, hyper)
        return (d.indices, d.symbols)
    }
    var counts = [[Int32: Double]](repeating: [:], count: tables.count)
    var evals: [[(indices: [Int], symbols: [Int32])]] = []
    for level in 1...hyper.levels {
        FileHandle.standardError.write(Data("level \(level)\n".utf8))
        let model: CodecModel
        do { model = try base.atQuality(Double(level)) } catch { fail("\(error)") }
        for image in fitImages { let s = symbols(image, model); for (i, v) in zip(s.indices, s.symbols) { counts[i][v, default: 0] += 1 } }
        evals.append(images.map { symbols($0, model) })
    }
    func modelP(_ t: QuantizedCDF, _ v: Int32) -> Double {
        let j = Int(v) - Int(t.offset)
        let k = j >= 0 && j < t.escape ? j : t.escape
        return Double(t.cdf[k + 1] - t.cdf[k]) / 65536 / (k == t.escape ? 65536 : 1)
    }
    let pixels = Double(images.reduce(0) { $0 + $1.pixelCount })
    let totals = counts.map { $0.values.reduce(0, +) }
    var md = "# The Gaussian tables against tables fitted to real symbols\n\nCommand: `\(command)`\n\n"
    md += "The residual symbols of \(images.count) images from `\(folder)` (model `\(path)`, every level), in bits per pixel: "
    md += "*model*: their ideal code length under the model's tables (a discretized zero-mean Gaussian per scale index); "
    md += "*fitted*: under tables fitted, per scale index, to the symbols of \(fitImages.count) other images (the first of `\(fitFolder)`, every "
    md += "level), smoothed with the model's table as a prior of 16 or 256 symbols. z and the escapes' bypass bits are left out.\n\n"
    md += "| level | model | fitted (prior 16) | fitted (prior 256) | fitted / model (16) | fitted / model (256) |\n|---:|---:|---:|---:|---:|---:|\n"
    for (l, e) in evals.enumerated() {
        var own = 0.0, fit16 = 0.0, fit256 = 0.0
        for s in e {
            for (i, v) in zip(s.indices, s.symbols) {
                let pm = modelP(tables[i], v)
                own -= log2(pm)
                let n = totals[i], c = counts[i][v] ?? 0
                fit16 -= log2((c + 16 * pm) / (n + 16))
                fit256 -= log2((c + 256 * pm) / (n + 256))
            }
        }
        md += "| \(l + 1) | \(String(format: "%.4f", own / pixels)) | \(String(format: "%.4f", fit16 / pixels)) | \(String(format: "%.4f", fit256 / pixels)) | \(String(format: "%.3f", fit16 / own)) | \(String(format: "%.3f", fit256 / own)) |\n"
    }
    print(md, terminator: "")
    if let out = option("--out") { write(md, to: "\(out)/y-tables.md") }
    exit(0)
}

// Dequantization at each interval's conditional mean: the decoder knows a latent's table (scale
// index) and symbol k, and the true gained latent lies in [k - 1/2, k + 1/2) around its mean, but
// not at the centre on average (the density falls away from the mean). Fit the mean offset per
// scale index and |k| (signed towards the mean) on the --fit images, then compare the synthesis of
// the test images' latents dequantized at the centre (what the decoder does) and at the fitted means.
if args.first == "latent-offsets" {
    let (folder, path, images, base, hyper) = hyperpriorInputs()
    guard let fitFolder = option("--fit") else { fail("latent-offsets needs --fit DIR") }
    let fitCount = option("--fit-count").map { Int($0) ?? -1 } ?? Int.max
    guard fitCount > 0 else { fail("--fit-count takes a positive number") }
    let levels = (option("--levels") ?? "1,2,3,4").split(separator: ",").compactMap { Int($0) }
    let fitImages: [Image]
    do { fitImages = try RDSweep.imagePaths(in: fitFolder).prefix(fitCount).map { try ImageFile.read($0).toRGB() } } catch { fail("\(error)") }
    let tables = hyper.yTables.count, classes = 4
    struct Coded { var y: Tensor; var indices: [Int]; var symbols: [Int32]; var means: [Double]; var gains: [Double]; var code: Int }
    func coded(_ image: Image, _ model: CodecModel) -> Coded {
        let d = codedSymbols(image, model, hyper)
        return Coded(y: hyper.analysis(image, levelCode: d.levelCode), indices: d.indices, symbols: d.symbols, means: d.means,
                     gains: d.gains, code: d.levelCode)
    }
    @inline(__always) func cls(_ k: Int32) -> Int { min(Int(k.magnitude), classes - 1) }
    var md = "# Dequantizing latents at their intervals' means\n\nCommand: `\(command)`\n\n"
    md += "\(images.count) images from `\(folder)`, model `\(path)`. Offsets (towards the mean, per scale index and |k| in 0 | 1 | 2 | 3+) "
    md += "fitted on \(fitImages.count) images of `\(fitFolder)` at each level; PSNR-RGB of the synthesis with the centre and with the fitted offsets.\n\n"
    md += "| level | centre (dB) | fitted (dB) | gain (dB) | mean offset at k=1 |\n|---:|---:|---:|---:|---:|\n"
    for level in levels {
        FileHandle.standardError.write(Data("level \(level)\n".utf8))
        let model: CodecModel
        do { model = try base.atQuality(Double(level)) } catch { fail("\(error)") }
        var sum = [Double](repeating: 0, count: tables * classes), count = sum
        for image in fitImages {
            let c = coded(image, model)
            let plane = c.y.h * c.y.w
            for i in 0..<c.symbols.count {
                let k = c.symbols[i]
                let e = Double(c.y.data[i]) * c.gains[i / plane] - c.means[i] - Double(k)
                let j = c.indices[i] * classes + cls(k)
                sum[j] += k < 0 ? -e : e
                count[j] += 1
            }
        }
        // Shrink towards zero where few samples were seen.
        let offsets = (0..<sum.count).map { count[$0] > 0 ? sum[$0] / (count[$0] + 16) : 0 }
        var centre = 0.0, fitted = 0.0, k1 = 0.0, k1n = 0.0
        for image in images {
            let c = coded(image, model)
            let plane = c.y.h * c.y.w
            var a = Tensor(zeros: c.y.shape), b = a
            for i in 0..<c.symbols.count {
                let k = c.symbols[i], g = c.gains[i / plane]
                let o = offsets[c.indices[i] * classes + cls(k)]
                a.data[i] = Float((Double(k) + c.means[i]) / g)
                b.data[i] = Float((Double(k) + c.means[i] + (k < 0 ? -o : o)) / g)
                if k.magnitude == 1 { k1 += o; k1n += 1 }
            }
            hyper.network.setLevels([Double(c.code) / 256])
            centre += synthesisPSNR(hyper.network.synthesis.forward(a, training: false), image)
            fitted += synthesisPSNR(hyper.network.synthesis.forward(b, training: false), image)
        }
        let n = Double(images.count)
        md += "| \(level) | \(f(centre / n, 3)) | \(f(fitted / n, 3)) | \(f((fitted - centre) / n, 3)) | \(f(k1 / max(k1n, 1), 3)) |\n"
    }
    print(md, terminator: "")
    if let out = option("--out") { write(md, to: "\(out)/latent-offsets.md") }
    exit(0)
}

if args.first == "hyperprior-vs-ctx" {
    let (folder, path, images, _, hyper) = hyperpriorInputs()
    let pixels = Double(images.reduce(0) { $0 + $1.pixelCount })
    let channels = hyper.network.config.latentChannels
    var md = "# The hyperprior against the context coder, on the same latents\n\nCommand: `\(command)`\n\n"
    md += "\(images.count) images from `\(folder)`, model `\(path)`; bits per pixel summed over all of them. *Hyperprior*: the "
    md += "model's own payload (z and the residuals round(g y - mean) under the predicted scales), split into z and y. The other "
    md += "columns code the same quantized latents round(g y) without the hyper-synthesis: *ctx (oracle tables)*: the "
    md += "context-adaptive rANS coder (coder 3) with each channel's table and its contexts' starting counts fitted to exactly "
    md += "these latents, which no real file could use for free; *oracle entropy*: each channel's histogram's entropy (the best "
    md += "factorized prior for them); *zstd*: coder 4's packing.\n\n"
    md += "| level | hyperprior | of which z | ctx (oracle tables) | oracle entropy | zstd | hyperprior / ctx |\n|---:|---:|---:|---:|---:|---:|---:|\n"
    for level in 1...hyper.levels {
        FileHandle.standardError.write(Data("level \(level)\n".utf8))
        let code = hyper.levelCode(Double(level - 1))
        let gains: [Double]
        do { gains = try hyper.logGains(levelCode: code).map { exp(Double($0) / 65536) } } catch { fail("\(error)") }
        var own = 0, zBytes = 0
        var grids: [(symbols: [Int32], h: Int, w: Int)] = []
        for image in images {
            // The level itself, not the quality of that number (above 4 a quality codes a lower
            // level with the detail layer): the payload of this latent at this level.
            let y = hyper.analysis(image, levelCode: code)
            do {
                let payload = try HyperpriorCoding.encode(y, model: hyper, levelCode: code).payload
                own += payload.count
                zBytes += 6 + (0..<4).reduce(0) { $0 | Int(payload[2 + $1]) << (8 * $1) }
            } catch { fail("\(error)") }
            let plane = y.h * y.w
            grids.append((y.data.enumerated().map { Int32((Double($0.element) * gains[$0.offset / plane]).rounded()) }, y.h, y.w))
        }
        // Each channel's histogram over all images: the oracle's tables and entropy.
        var histograms = [[Int32: Int]](repeating: [:], count: channels)
        for g in grids { let plane = g.h * g.w; for (i, s) in g.symbols.enumerated() { histograms[i / plane][s, default: 0] += 1 } }
        var oracle = 0.0
        let tables: [QuantizedCDF]
        do {
            tables = try histograms.map { h in
                let n = Double(h.values.reduce(0, +))
                for count in h.values { oracle -= Double(count) * log2(Double(count) / n) }
                let low = h.keys.min()!, high = h.keys.max()!
                return try QuantizedCDF(offset: low, pmf: (low...high).map { Double(h[$0] ?? 0) / n }, tail: 1e-6)
            }
        } catch { fail("\(error)") }
        var ctx = 0, zstd = 0
        do {
            let priors = try ContextPriors.fit(grids.map { ContextPriors.Grid(values: $0.symbols, channels: channels, height: $0.h, width: $0.w) }, tables: tables)
            for g in grids {
                ctx += try ContextRANSCoder.encode(g.symbols, channels: channels, height: g.h, width: g.w, tables: tables, priors: priors).count
                zstd += LatentPacking.pack(g.symbols).count
            }
        } catch { fail("\(error)") }
        let bpp = { (bytes: Int) in Double(bytes * 8) / pixels }
        md += "| \(level) | \(f(bpp(own), 4)) | \(f(bpp(zBytes), 4)) | \(f(bpp(ctx), 4)) | \(f(oracle / pixels, 4)) | \(f(bpp(zstd), 4)) | \(f(Double(own) / Double(ctx), 3)) |\n"
    }
    print(md, terminator: "")
    if let out { write(md, to: "\(out)/hyperprior-vs-ctx.md") }
    exit(0)
}

if args.first == "png-levels" {
    let (folder, path, images, base, _) = hyperpriorInputs()
    let repeats = option("--repeats").flatMap(Int.init) ?? 3
    var md = "# PNG output: size and write time per zlib level and row filter\n\nCommand: `\(command)`\n\n"
    md += "\(images.count) images from `\(folder)` coded and decoded by `\(path)` at quality 4; each decoded image written as PNG "
    md += "(`PNGCodec.encode`) at each zlib level with each row filter (*adaptive*: libpng's choice among the five, row by row; "
    md += "*average*: the Average filter on every row): total bytes, against libpng's defaults (level 6, adaptive), and the median "
    md += "over images of each image's median of \(repeats) writes (one thread). vlat writes level \(PNGCodec.defaultCompressionLevel), "
    md += "\(PNGCodec.defaultRowFilter).\n\n| zlib level | row filter | bytes | vs level 6 adaptive | write ms (median) |\n|---:|---|---:|---:|---:|\n"
    let decoded: [Image]
    do {
        let model = try base.atQuality(4)
        decoded = try images.map { try ImageCodec.decode(ImageCodec.encode($0, model: model), model: model) }
    } catch { fail("\(error)") }
    var rows: [(level: Int, filter: PNGCodec.RowFilter, bytes: Int, ms: Double)] = []
    for level in [1, 2, 3, 4, 6, 9] {
        for filter in PNGCodec.RowFilter.allCases {
            var bytes = 0, times: [Double] = []
            for image in decoded {
                var t: [Double] = []
                for _ in 0..<repeats {
                    var out: [UInt8] = []
                    t.append(1000 * (try! seconds { out = try PNGCodec.encode(image, compressionLevel: level, rowFilter: filter) }))
                    if t.count == 1 { bytes += out.count }
                }
                times.append(median(t))
            }
            rows.append((level, filter, bytes, median(times)))
        }
    }
    let reference = Double(rows.first { $0.level == 6 && $0.filter == .adaptive }!.bytes)
    for r in rows {
        md += "| \(r.level) | \(r.filter) | \(r.bytes) | \(f(100 * (Double(r.bytes) / reference - 1), 1)) % | \(f(r.ms, 1)) |\n"
    }
    print(md, terminator: "")
    if let out { write(md, to: "\(out)/png-levels.md") }
    exit(0)
}

if args.first == "ceiling" {
    let (folder, path, images, _, hyper) = hyperpriorInputs()
    var md = "# The transforms' limit\n\nCommand: `\(command)`\n\n"
    md += "\(images.count) images from `\(folder)`, model `\(path)`; mean PSNR-RGB over the images of the synthesis of "
    md += "*unquantized*: the latent y itself (what unbounded rate would give at this level's modulations), *rounded*: "
    md += "round(g y) / g, the latent quantized at the level's gains without the hyperprior's means.\n\n"
    md += "| level | unquantized (dB) | rounded (dB) |\n|---:|---:|---:|\n"
    for level in 1...hyper.levels {
        FileHandle.standardError.write(Data("level \(level)\n".utf8))
        let code = hyper.levelCode(Double(level - 1))
        let gains = hyper.network.gainValues(level: Double(level - 1))
        var exact = 0.0, rounded = 0.0
        for image in images {
            let y = hyper.analysis(image, levelCode: code)
            exact += synthesisPSNR(hyper.network.synthesis.forward(y, training: false), image)
            var q = y
            let plane = y.h * y.w
            for i in 0..<q.count { let g = Float(gains[i / plane]); q.data[i] = (q.data[i] * g).rounded() / g }
            rounded += synthesisPSNR(hyper.network.synthesis.forward(q, training: false), image)
        }
        let n = Double(images.count)
        md += "| \(level) | \(f(exact / n, 2)) | \(f(rounded / n, 2)) |\n"
    }
    print(md, terminator: "")
    if let out { write(md, to: "\(out)/ceiling.md") }
    exit(0)
}

// Whether the analysis or the synthesis limits the top: the synthesis of the analysis output
// y against that of a latent optimised for this image's MSE alone (Adam on y through the frozen
// synthesis, no rate, no rounding), at one level. If the optimised latent reaches far above
// the analysis', the analysis transform is what falls short; if not, the synthesis is.
if args.first == "ceiling-optimized" {
    let (folder, path, images, _, hyper) = hyperpriorInputs()
    let level = Int(option("--level") ?? "8") ?? 8
    let steps = Int(option("--steps") ?? "200") ?? 200
    let lr = Float(option("--lr") ?? "0.01") ?? 0.01
    let synthesis = hyper.network.synthesis
    let frozen = synthesis.parameters.filter(\.requiresGradient)
    for p in frozen { p.requiresGradient = false }
    var md = "# Analysis or synthesis: the synthesis of an optimised latent\n\nCommand: `\(command)`\n\n"
    md += "\(images.count) images from `\(folder)`, model `\(path)`, level \(level): PSNR-RGB of the synthesis of the analysis "
    md += "output y, and of y after \(steps) Adam steps (lr \(lr)) on this image's MSE alone through the frozen synthesis.\n\n"
    md += "| image | analysis y (dB) | optimised y (dB) |\n|---|---:|---:|\n"
    var sumA = 0.0, sumB = 0.0
    for (k, image) in images.enumerated() {
        let code = hyper.levelCode(Double(level - 1))
        var y = hyper.analysis(image, levelCode: code)
        let before = synthesisPSNR(synthesis.forward(y, training: false), image)
        let padded = synthesis.forward(y, training: false)
        var x = Tensor(zeros: padded.shape)
        let px = ImageTensor.tensor(from: image)
        for c in 0..<3 { for r in 0..<image.height { for col in 0..<image.width {
            x.data[(c * x.h + r) * x.w + col] = px.data[(c * image.height + r) * image.width + col] } } }
        var m = [Float](repeating: 0, count: y.count), v = m
        for t in 1...steps {
            let out = synthesis.forward(y, training: true)
            var grad = Tensor(zeros: out.shape)
            for c in 0..<3 { for r in 0..<image.height { for col in 0..<image.width {
                let i = (c * x.h + r) * x.w + col; grad.data[i] = out.data[i] - x.data[i] } } }
            let dy = synthesis.backward(grad)
            let c1 = 1 - pow(Float(0.9), Float(t)), c2 = 1 - pow(Float(0.999), Float(t))
            for i in 0..<y.count {
                let d = dy.data[i]
                m[i] = 0.9 * m[i] + 0.1 * d
                v[i] = 0.999 * v[i] + 0.001 * d * d
                y.data[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + 1e-12)
            }
        }
        let after = synthesisPSNR(synthesis.forward(y, training: false), image)
        FileHandle.standardError.write(Data("image \(k): \(f(before, 2)) -> \(f(after, 2))\n".utf8))
        sumA += before; sumB += after
        md += "| \(k + 1) | \(f(before, 2)) | \(f(after, 2)) |\n"
    }
    let n = Double(images.count)
    md += "| mean | \(f(sumA / n, 2)) | \(f(sumB / n, 2)) |\n"
    print(md, terminator: "")
    if let out = option("--out") { write(md, to: "\(out)/ceiling-optimized.md") }
    exit(0)
}

// How much of the latent's width the transforms use: at levels 4 and 8, the spread of each
// channel's gained values and the share of nonzero symbols, and the synthesis of the unquantized
// latent with the least-spread channels flattened to their mean. A latent whose weakest channels
// carry nothing loses nothing when they go; one that needs every channel is the bottleneck.
if args.first == "channels" {
    let (folder, path, images, _, hyper) = hyperpriorInputs()
    let m = hyper.network.config.latentChannels
    let quantiles = [0, m / 4, m / 2, 3 * m / 4, m - 1]
    var md = "# How much of the latent the transforms use\n\nCommand: `\(command)`\n\n"
    md += "\(images.count) images from `\(folder)`, model `\(path)` (M = \(m)). Per channel over the images: the spread (standard "
    md += "deviation about its mean) of g y, and the share of |g y - its mean| >= 0.5 (a nonzero symbol, roughly); quantiles "
    md += "over the channels. Then the mean PSNR-RGB of the synthesis of the unquantized latent with the K least-spread "
    md += "channels set to their mean.\n\n"
    var spreadTable = "| level | spread 0 / 25 / 50 / 75 / 100 % | nonzero 0 / 25 / 50 / 75 / 100 % |\n|---:|---|---|\n"
    let drops = [0, 8, 16, 32, 64].filter { $0 < m }
    var dropTable = "| level |" + drops.map { " K = \($0) |" }.joined() + "\n|---:|" + String(repeating: "---:|", count: drops.count) + "\n"
    for level in [4, 8] where level <= hyper.levels {
        FileHandle.standardError.write(Data("level \(level)\n".utf8))
        let code = hyper.levelCode(Double(level - 1))
        let gains = hyper.network.gainValues(level: Double(level - 1))
        var spread = [Double](repeating: 0, count: m), nonzero = [Double](repeating: 0, count: m)
        var latents: [(Tensor, [Float], Image)] = []
        for image in images {
            let y = hyper.analysis(image, levelCode: code), plane = y.h * y.w
            var means = [Float](repeating: 0, count: m)
            for c in 0..<m {
                let values = y.data[(c * plane)..<((c + 1) * plane)]
                let mean = values.reduce(0.0) { $0 + Double($1) } / Double(plane)
                means[c] = Float(mean)
                for v in values {
                    let d = (Double(v) - mean) * gains[c]
                    spread[c] += d * d / Double(plane)
                    if abs(d) >= 0.5 { nonzero[c] += 1 / Double(plane) }
                }
            }
            latents.append((y, means, image))
        }
        let n = Double(images.count)
        let order = (0..<m).sorted { spread[$0] < spread[$1] }
        spreadTable += "| \(level) | " + quantiles.map { f((spread[order[$0]] / n).squareRoot(), 2) }.joined(separator: " / ")
            + " | " + quantiles.map { f(nonzero[order[$0]] / n, 3) }.joined(separator: " / ") + " |\n"
        dropTable += "| \(level) |"
        for drop in drops {
            var total = 0.0
            for (y, means, image) in latents {
                var flat = y
                let plane = y.h * y.w
                for c in order.prefix(drop) { for i in 0..<plane { flat.data[c * plane + i] = means[c] } }
                total += synthesisPSNR(hyper.network.synthesis.forward(flat, training: false), image)
            }
            dropTable += " \(f(total / n, 2)) |"
        }
        dropTable += "\n"
    }
    md += spreadTable + "\nPSNR-RGB (dB) with the K least-spread channels flattened:\n\n" + dropTable
    print(md, terminator: "")
    if let out { write(md, to: "\(out)/channels.md") }
    exit(0)
}

fail(usage)
