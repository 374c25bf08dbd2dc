// Engine benchmark: how close the convolution layers and whole training steps come to the
// machine's cblas_sgemm rate, measured in the same run. Medians of repeated runs.
//
//   swift run -c release EngineBench [--quick] [--out DIR]
//   swift run -c release EngineBench --copies [--out DIR]
//   swift run -c release EngineBench --paths [--out DIR]
//   swift run -c release EngineBench --direct [--out DIR]
//
// Writes DIR/engine.md and DIR/engine.json when --out is given. --copies measures only the
// copies around a convolution's product (im2col and col2im, one thread) at the hyperprior
// run's training shapes, against memcpy of the same column matrix, and writes DIR/copies.md.
// --paths compares the two inference paths of convolutions and transposed convolutions at the
// hyperprior's shapes and writes DIR/paths.md. --direct compares small 3x3 convolutions at full
// resolution computed directly with the paths they took before, and writes DIR/direct.md.
import Foundation
import VlatCodec
import VlatEntropy
import VlatModels
import VlatTensor

#if canImport(Glibc)
import Glibc
#endif

BLASKernelSelection.reexecIfKernelsMismatchCPU()
MemoryTuning.retainFreedMemory()
let args = CommandLine.arguments
// Refused before any work: a mistyped option or --help must not start a long run.
do {
    var i = 1
    while i < args.count {
        switch args[i] {
        case "--quick", "--copies", "--paths", "--direct": i += 1
        case "--out" where i + 1 < args.count: i += 2
        case "--help", "-h": print("usage: EngineBench [--quick] [--copies] [--paths] [--direct] [--out DIR]"); exit(0)
        default:
            FileHandle.standardError.write(Data("EngineBench: unknown option or missing value '\(args[i])' (usage: EngineBench [--quick] [--copies] [--paths] [--direct] [--out DIR])\n".utf8))
            exit(1)
        }
    }
}
let quick = args.contains("--quick")
let outDir = args.firstIndex(of: "--out").map { args[$0 + 1] }
let repeats = quick ? 3 : 7

func median(_ v: [Double]) -> Double { let s = v.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
func time(_ body: () -> Void) -> Double {
    let c = ContinuousClock()
    let d = c.measure(body)
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
func medianTime(_ n: Int = repeats, _ body: () -> Void) -> Double {
    body() // warm-up
    return median((0..<n).map { _ in time(body) })
}
func peakRSSMiB() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_maxrss) / 1024
}

var lines: [String] = []
var g0 = SeededGenerator(seed: 4)
var json: [String: Any] = [:]
@MainActor func report(_ s: String) { print(s); lines.append(s) }

// 1. The ceiling: sgemm on 1024^3.
func sgemmRate(threads: Int) -> Double {
    let n = 1024
    var g = SeededGenerator(seed: 1)
    let a = (0..<(n * n)).map { _ in g.uniform() }, b = (0..<(n * n)).map { _ in g.uniform() }
    var c = [Float](repeating: 0, count: n * n)
    let t = medianTime {
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            BLAS.rawSgemm(threads: threads, m: n, n: n, k: n, a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!)
        } } }
    }
    return 2 * Double(n * n * n) / t / 1e9
}
// The copies around the products, against a memcpy of the column matrix in the same run.
if args.contains("--copies") {
    Parallel.threads = 1
    report("# The copies around the products\n")
    report("Command: `swift run -c release EngineBench --copies\(outDir.map { " --out \($0)" } ?? "")`; medians of \(repeats) runs, 1 thread.\n")
    report("The convolutions of one image of the hyperprior run's training shapes (batch 8 of 192x192 crops, N = 96): the transforms' 5x5 stride-2 ones (padding 2) and the full-resolution tail's 3x3 stride-1 ones (padding 1). im2col of the input, col2im of the column matrix back into it (what a transposed convolution and a convolution's input gradient do), and memcpy of a buffer of the column matrix's size.\n")
    report("| kernel | input | column matrix MiB | memcpy ms | im2col ms | x memcpy | col2im ms | x memcpy |\n|---|---|---:|---:|---:|---:|---:|---:|")
    var rows: [[String: Any]] = []
    for (k, s, c, side) in [(5, 2, 3, 192), (5, 2, 96, 96), (5, 2, 96, 48), (5, 2, 96, 24), (3, 1, 3, 192), (3, 1, 16, 192)] {
        let geometry = ConvGeometry(channels: c, height: side, width: side, kernel: k, stride: s, padding: k / 2)
        let image = (0..<(c * side * side)).map { _ in g0.uniform() }
        var col = [Float](repeating: 0, count: geometry.patchSize * geometry.positions), copy = col
        var back = [Float](repeating: 0, count: image.count)
        let copyTime = medianTime(3 * repeats) { col.withUnsafeBufferPointer { s in copy.withUnsafeMutableBufferPointer { d in
            d.baseAddress!.update(from: s.baseAddress!, count: s.count) } } }
        let im2colTime = medianTime(3 * repeats) { image.withUnsafeBufferPointer { x in col.withUnsafeMutableBufferPointer { Im2Col.im2col(x.baseAddress!, geometry, $0.baseAddress!) } } }
        let col2imTime = medianTime(3 * repeats) { col.withUnsafeBufferPointer { cp in back.withUnsafeMutableBufferPointer { Im2Col.col2im(cp.baseAddress!, geometry, $0.baseAddress!) } } }
        let mib = Double(col.count * 4) / 1048576
        report("| \(k)x\(k)/\(s) | \(c)x\(side)x\(side) | \(String(format: "%.1f", mib)) | \(String(format: "%.3f", copyTime * 1000)) | \(String(format: "%.3f", im2colTime * 1000)) | \(String(format: "%.2f", im2colTime / copyTime)) | \(String(format: "%.3f", col2imTime * 1000)) | \(String(format: "%.2f", col2imTime / copyTime)) |")
        rows.append(["kernel": "\(k)x\(k)/\(s)", "input": "\(c)x\(side)x\(side)", "memcpyMs": copyTime * 1000, "im2colMs": im2colTime * 1000, "col2imMs": col2imTime * 1000])
    }
    if let outDir {
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        try (lines.joined(separator: "\n") + "\n").write(toFile: "\(outDir)/copies.md", atomically: true, encoding: .utf8)
    }
    exit(0)
}

// Inference of the hyperprior's convolutions both ways, alternating, in one run.
if args.contains("--paths") {
    Parallel.threads = 2
    report("# Convolutions in inference: column matrices against taps\n")
    report("Command: `swift run -c release EngineBench --paths\(outDir.map { " --out \($0)" } ?? "")`; medians of \(repeats) alternating runs, 2 threads, OpenBLAS kernels \(BLAS.kernelName).\n")
    report("The hyperprior's analysis and synthesis layers (5x5, stride 2, N=96, M=128) on a Kodak-sized image (768x512), inference. A convolution: *matrix* is `Im2Col.im2col` of a band, then one product per output row; *taps* is `ConvTaps` (each tap one product per output row, from the input's column phases). A transposed convolution: *matrix* is one product `W^T x` per input row scattered back by `Im2Col.col2im`; *taps* is `ConvTransposePhases` (each tap one product per output row and phase). Same-run `cblas_sgemm` 1024^3 on 2 threads: \(String(format: "%.1f", sgemmRate(threads: 2))) GFLOP/s.\n")
    report("| layer | input | output | MMAC | matrix ms | taps ms | speed-up | taps GFLOP/s | largest difference |\n|---|---|---|---:|---:|---:|---:|---:|---:|")
    var gt = SeededGenerator(seed: 5)
    let shapes: [(transposed: Bool, cin: Int, cout: Int, ih: Int, iw: Int)] = [
        (false, 3, 96, 512, 768), (false, 96, 96, 256, 384), (false, 96, 96, 128, 192), (false, 96, 128, 64, 96),
        (true, 128, 96, 32, 48), (true, 96, 96, 64, 96), (true, 96, 96, 128, 192), (true, 96, 3, 256, 384)]
    for shape in shapes {
        let x = Tensor(shape: [1, shape.cin, shape.ih, shape.iw], data: (0..<(shape.cin * shape.ih * shape.iw)).map { _ in gt.uniform() })
        let conv = Conv2d(name: "c", inChannels: shape.cin, outChannels: shape.cout, kernel: 5, stride: 2, padding: 2, generator: &gt)
        let transposed = ConvTranspose2d(name: "t", inChannels: shape.cin, outChannels: shape.cout, kernel: 5, stride: 2, padding: 2, outputPadding: 1, generator: &gt)
        func run(taps: Bool) -> Tensor {
            if shape.transposed { transposed.inferenceByPhases = taps; return transposed.forward(x, training: false) }
            conv.inferenceByTaps = taps
            conv.tapsMinimumWidth = 0
            return conv.forward(x, training: false)
        }
        var a = Tensor(zeros: [1]), b = Tensor(zeros: [1])
        var tMatrix: [Double] = [], tTaps: [Double] = []
        for _ in 0...repeats {
            tMatrix.append(time { a = run(taps: false) })
            tTaps.append(time { b = run(taps: true) })
        }
        tMatrix.removeFirst(); tTaps.removeFirst()  // warm-up
        let diff = zip(a.data, b.data).map { abs($0 - $1) }.max() ?? 0
        let positions = shape.transposed ? shape.ih * shape.iw : b.h * b.w
        let mac = Double(shape.cin * shape.cout * 25 * positions)
        report("| \(shape.transposed ? "transposed" : "conv") \(shape.cin)->\(shape.cout) | \(shape.cin)x\(shape.ih)x\(shape.iw) | \(b.c)x\(b.h)x\(b.w) | \(String(format: "%.0f", mac / 1e6)) | \(String(format: "%.2f", median(tMatrix) * 1000)) | \(String(format: "%.2f", median(tTaps) * 1000)) | \(String(format: "%.2f", median(tMatrix) / median(tTaps))) | \(String(format: "%.1f", 2 * mac / median(tTaps) / 1e9)) | \(String(format: "%.1e", Double(diff))) |")
    }
    report("\nA layer goes tap by tap when it has at least 16 input channels and an output at least 64 wide (a convolution, `Conv2d.inferenceByTaps`, `tapsMinimumWidth`) or 16 output channels (a transposed one, `ConvTranspose2d.inferenceByPhases`).")
    if let outDir {
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        try (lines.joined(separator: "\n") + "\n").write(toFile: "\(outDir)/paths.md", atomically: true, encoding: .utf8)
    }
    exit(0)
}

// Small 3x3 convolutions at full resolution, directly and as before, alternating, in one run.
if args.contains("--direct") {
    Parallel.threads = 2
    report("# Small 3x3 convolutions in inference: direct against the column matrix or taps\n")
    report("Command: `swift run -c release EngineBench --direct\(outDir.map { " --out \($0)" } ?? "")`; medians of \(repeats) alternating runs, 2 threads, OpenBLAS kernels \(BLAS.kernelName).\n")
    report("3x3, stride-1 convolutions on a Kodak-sized image (768x512): a hyperprior's synthesis tail of 16 channels and a denoiser's full-resolution level of 32. *Before* is the path the layer took without `vlat_conv3x3_direct` (tap by tap from 16 input channels, else the column matrix); *direct* is that kernel. Same-run `cblas_sgemm` 1024^3 on 2 threads: \(String(format: "%.1f", sgemmRate(threads: 2))) GFLOP/s.\n")
    report("| layer | MMAC | before ms | direct ms | speed-up | direct GFLOP/s | largest difference |\n|---|---:|---:|---:|---:|---:|---:|")
    var gd = SeededGenerator(seed: 6)
    var total = (before: 0.0, direct: 0.0)
    for (cin, cout) in [(3, 16), (16, 16), (16, 3), (3, 32), (32, 32), (32, 3)] {
        let x = Tensor(shape: [1, cin, 512, 768], data: (0..<(cin * 512 * 768)).map { _ in gd.uniform() })
        let conv = Conv2d(name: "c", inChannels: cin, outChannels: cout, kernel: 3, stride: 1, padding: 1, generator: &gd)
        var a = Tensor(zeros: [1]), b = Tensor(zeros: [1])
        var tBefore: [Double] = [], tDirect: [Double] = []
        for _ in 0...repeats {
            conv.inferenceDirect = false
            tBefore.append(time { a = conv.forward(x, training: false) })
            conv.inferenceDirect = true
            tDirect.append(time { b = conv.forward(x, training: false) })
        }
        tBefore.removeFirst(); tDirect.removeFirst()  // warm-up
        if cin == 3 && cout == 16 || cin == 16 { total.before += median(tBefore); total.direct += median(tDirect) }
        let diff = zip(a.data, b.data).map { abs($0 - $1) }.max() ?? 0
        let mac = Double(cin * cout * 9 * 512 * 768)
        report("| conv \(cin)->\(cout) | \(String(format: "%.0f", mac / 1e6)) | \(String(format: "%.2f", median(tBefore) * 1000)) | \(String(format: "%.2f", median(tDirect) * 1000)) | \(String(format: "%.2f", median(tBefore) / median(tDirect))) | \(String(format: "%.1f", 2 * mac / median(tDirect) / 1e9)) | \(String(format: "%.1e", Double(diff))) |")
    }
    report("\nThe tail's three convolutions together: \(String(format: "%.1f", total.before * 1000)) ms before, \(String(format: "%.1f", total.direct * 1000)) ms direct (ReLUs not counted).")
    if let outDir {
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        try (lines.joined(separator: "\n") + "\n").write(toFile: "\(outDir)/direct.md", atomically: true, encoding: .utf8)
    }
    exit(0)
}

let sgemm1 = sgemmRate(threads: 1)
let sgemm2 = sgemmRate(threads: 2)
report("# Engine benchmark\n")
report("Command: `swift run -c release EngineBench\(quick ? " --quick" : "")\(outDir.map { " --out \($0)" } ?? "")`; medians of \(repeats) runs.\n")
report("OpenBLAS kernels: \(BLAS.kernelName).\n\n| baseline | GFLOP/s |\n|---|---:|\n| cblas_sgemm 1024^3, 1 thread | \(String(format: "%.1f", sgemm1)) |\n| cblas_sgemm 1024^3, 2 threads | \(String(format: "%.1f", sgemm2)) |\n")
json["sgemmGFLOPS"] = ["threads1": sgemm1, "threads2": sgemm2]

let config = AutoencoderConfig(channels: 128, latentChannels: 192)
let model = Autoencoder(config: config, seed: 3)
let batch = quick ? 4 : 8, crop = 256
var g = SeededGenerator(seed: 2)

// 2. Inference on a 768x512 image, 1 and 2 threads; outputs must match exactly. Runs before
// any training-sized work so that the peak resident memory below is inference alone.
let image = Tensor(shape: [1, 3, 512, 768], data: (0..<(3 * 512 * 768)).map { _ in g.uniform() })
var outputs: [Tensor] = []
var inference: [Int: (Double, Double)] = [:]
for threads in [1, 2] {
    Parallel.threads = threads
    var latent = Tensor(zeros: [1])
    let enc = medianTime(quick ? 3 : 5) { latent = model.analysis.forward(image, training: false) }
    var out = Tensor(zeros: [1])
    let dec = medianTime(quick ? 3 : 5) { out = model.synthesis.forward(latent, training: false) }
    outputs.append(out)
    inference[threads] = (enc, dec)
}
report("Inference on one 768x512 image (N=128, M=192): analysis \(String(format: "%.0f", inference[2]!.0 * 1000)) ms, synthesis \(String(format: "%.0f", inference[2]!.1 * 1000)) ms with 2 threads; \(String(format: "%.0f", inference[1]!.0 * 1000)) / \(String(format: "%.0f", inference[1]!.1 * 1000)) ms with 1. Outputs for 1 and 2 threads identical: \(outputs[0] == outputs[1]).\n")
let inferenceRSS = peakRSSMiB()
report("Peak resident memory after inference (process start, sgemm buffers and both passes): \(String(format: "%.0f", inferenceRSS)) MiB.\n")
json["inferencePeakRSSMiB"] = inferenceRSS
json["inferenceMs"] = ["analysis2": inference[2]!.0 * 1000, "synthesis2": inference[2]!.1 * 1000, "analysis1": inference[1]!.0 * 1000, "synthesis1": inference[1]!.1 * 1000]
json["threadsIdentical"] = outputs[0] == outputs[1]


// 3. Every convolution layer of the N=128, M=192 autoencoder at training shapes.
Parallel.threads = 2
let input = Tensor(shape: [batch, 3, crop, crop], data: (0..<(batch * 3 * crop * crop)).map { _ in g.uniform() })

struct LayerTiming { var name: String; var flops: Double; var forward: Double; var backward: Double }
var timings: [LayerTiming] = []
var x = input
for (stageName, stage) in [("analysis", model.analysis), ("synthesis", model.synthesis)] {
    for (i, layer) in stage.layers.enumerated() {
        let y = layer.forward(x, training: false)
        let macs: Double
        switch layer {
        case let c as Conv2d: macs = Double(c.outChannels * c.inChannels * c.kernel * c.kernel * y.h * y.w * batch)
        case let c as ConvTranspose2d: macs = Double(c.outChannels * c.inChannels * c.kernel * c.kernel * x.h * x.w * batch)
        case let d as GDN: macs = Double(d.channels * d.channels * x.h * x.w * batch)
        default: macs = 0
        }
        let dy = Tensor(shape: y.shape, data: [Float](repeating: 0.01, count: y.count))
        let fwd = medianTime { _ = layer.forward(x, training: false) }
        let bwd = medianTime {
            _ = layer.forward(x, training: true)
            _ = layer.backward(dy)
        } - fwd
        timings.append(LayerTiming(name: "\(stageName).\(i) \(layer.spec.kind.rawValue) \(x.c)->\(y.c) @\(x.h)x\(x.w)",
                                   flops: 2 * macs, forward: fwd, backward: bwd))
        x = y
    }
}
report("Layers of the N=128, M=192 autoencoder, batch \(batch) of \(crop)x\(crop) crops (2 threads). Backward = dx and dW, 2x the forward FLOPs.\n")
report("| layer | GFLOP fwd | fwd ms | fwd GFLOP/s | bwd ms | bwd GFLOP/s |\n|---|---:|---:|---:|---:|---:|")
for t in timings {
    report("| \(t.name) | \(String(format: "%.2f", t.flops / 1e9)) | \(String(format: "%.1f", t.forward * 1000)) | \(String(format: "%.1f", t.flops / t.forward / 1e9)) | \(String(format: "%.1f", t.backward * 1000)) | \(String(format: "%.1f", 2 * t.flops / t.backward / 1e9)) |")
}
let convs = timings.filter { $0.name.contains("conv") }
let convFwd = convs.reduce(0) { $0 + $1.flops } / convs.reduce(0) { $0 + $1.forward } / 1e9
let convBwd = 2 * convs.reduce(0) { $0 + $1.flops } / convs.reduce(0) { $0 + $1.backward } / 1e9
report("\nAll convolution layers together: forward \(String(format: "%.1f", convFwd)) GFLOP/s = **\(String(format: "%.0f", 100 * convFwd / sgemm2)) %** of sgemm; backward \(String(format: "%.1f", convBwd)) GFLOP/s = **\(String(format: "%.0f", 100 * convBwd / sgemm2)) %** (target: 60 %).\n")
json["convForwardFractionOfSgemm"] = convFwd / sgemm2
json["convBackwardFractionOfSgemm"] = convBwd / sgemm2

// 4. Whole training steps: forward, MSE, backward, Adam.
let adam = Adam(parameters: model.parameters, learningRate: 1e-4)
let stepFlops = 3 * 2 * (config.macsPerPixel.analysis + config.macsPerPixel.synthesis) * Double(batch * crop * crop)
let stepTime = medianTime(quick ? 2 : 3) {
    let latent = model.analysis.forward(input, training: true)
    let out = model.synthesis.forward(latent, training: true)
    let (_, grad) = Loss.mse(out, input)
    _ = model.analysis.backward(model.synthesis.backward(grad))
    adam.step()
}
let stepRate = stepFlops / stepTime / 1e9
report("Whole training step (batch \(batch), \(crop)x\(crop)): \(String(format: "%.2f", stepTime)) s, \(String(format: "%.1f", Double(batch) / stepTime)) crops/s, \(String(format: "%.1f", stepRate)) GFLOP/s = **\(String(format: "%.0f", 100 * stepRate / sgemm2)) %** of sgemm (target: 45 %).\n")
json["trainingStepSeconds"] = stepTime
json["cropsPerSecond"] = Double(batch) / stepTime
json["trainingStepFractionOfSgemm"] = stepRate / sgemm2

// 5. The factorized prior (rate term of the codec) on a training batch's latent.
var priorGenerator = SeededGenerator(seed: 4)
let prior = FactorizedPrior(name: "prior", channels: 192, generator: &priorGenerator)
let latentBatch = Tensor(shape: [batch, 192, crop / 16, crop / 16], data: (0..<(batch * 192 * (crop / 16) * (crop / 16))).map { _ in (priorGenerator.uniform() - 0.5) * 8 })
let priorTime = medianTime(quick ? 3 : 5) {
    _ = prior.forward(latentBatch, training: true)
    _ = prior.backward(scale: 1)
}
report("Factorized prior, forward and backward on the latent of that batch (\(latentBatch.count) values): \(String(format: "%.0f", priorTime * 1000)) ms.\n")
json["priorForwardBackwardMs"] = priorTime * 1000

// 6. Entropy coders on a Kodak-sized latent (192 x 32 x 48): per-channel discretised Laplace
// sources of varying scale, coded with their own integer tables (rANS), with adaptive tables
// starting from those (context rANS; the planes are i.i.d., so its contexts can only cost), or
// as zstd planes.
var coderGenerator = SeededGenerator(seed: 6)
let (codedChannels, codedPlane) = (192, 32 * 48)
var coderTables: [QuantizedCDF] = []
var entropyBits = 0.0
var symbols: [Int32] = []
for c in 0..<codedChannels {
    let scale = 0.2 + 3.0 * Double(c) / Double(codedChannels)
    // Laplace(0, scale) mass on each integer in -40...40; the rest is the escape.
    let cdf = { (x: Double) -> Double in x < 0 ? 0.5 * exp(x / scale) : 1 - 0.5 * exp(-x / scale) }
    let pmf = (-40...40).map { cdf(Double($0) + 0.5) - cdf(Double($0) - 0.5) }
    coderTables.append(try QuantizedCDF(offset: -40, pmf: pmf, tail: max(0, 1 - pmf.reduce(0, +))))
    for _ in 0..<codedPlane {
        let u = Double(coderGenerator.uniform()) - 0.5
        let v = Int32((-scale * (u < 0 ? -1.0 : 1.0) * log(1 - 2 * abs(u))).rounded())
        symbols.append(v)
        let k = Int(v) + 40
        entropyBits -= log2(max(pmf[max(0, min(80, k))], 1e-12))
    }
}
var ransBytes: [UInt8] = [], ctxBytes: [UInt8] = [], zstdBytes: [UInt8] = []
let ransEncode = medianTime { ransBytes = try! RANSCoder.encode(symbols, tables: coderTables, tableIndex: { $0 / codedPlane }) }
let ransDecode = medianTime { _ = try! RANSCoder.decode(ransBytes, count: symbols.count, tables: coderTables, tableIndex: { $0 / codedPlane }) }
let ctxEncode = medianTime { ctxBytes = try! ContextRANSCoder.encode(symbols, channels: codedChannels, height: 32, width: 48, tables: coderTables) }
let ctxDecode = medianTime { _ = try! ContextRANSCoder.decode(ctxBytes, channels: codedChannels, height: 32, width: 48, tables: coderTables) }
let zstdEncode = medianTime { zstdBytes = LatentPacking.pack(symbols) }
let zstdDecode = medianTime { _ = try! LatentPacking.unpack(zstdBytes, count: symbols.count) }
let n = Double(symbols.count)
report("Entropy coders on a 192x32x48 latent (\(symbols.count) symbols, \(String(format: "%.3f", entropyBits / n)) bits/symbol of entropy):\n")
report("| coder | bits/symbol | encode Msymbols/s | decode Msymbols/s |\n|---|---:|---:|---:|")
report("| rANS (16-bit tables) | \(String(format: "%.3f", Double(ransBytes.count * 8) / n)) | \(String(format: "%.1f", n / ransEncode / 1e6)) | \(String(format: "%.1f", n / ransDecode / 1e6)) |")
report("| context rANS (16 adaptive tables a channel) | \(String(format: "%.3f", Double(ctxBytes.count * 8) / n)) | \(String(format: "%.1f", n / ctxEncode / 1e6)) | \(String(format: "%.1f", n / ctxDecode / 1e6)) |")
report("| zstd level \(LatentPacking.zstdLevel), planes | \(String(format: "%.3f", Double(zstdBytes.count * 8) / n)) | \(String(format: "%.1f", n / zstdEncode / 1e6)) | \(String(format: "%.1f", n / zstdDecode / 1e6)) |\n")
json["coders"] = ["entropyBitsPerSymbol": entropyBits / n, "ransBitsPerSymbol": Double(ransBytes.count * 8) / n,
                  "zstdBitsPerSymbol": Double(zstdBytes.count * 8) / n, "ransEncodeMsps": n / ransEncode / 1e6,
                  "ransDecodeMsps": n / ransDecode / 1e6, "zstdEncodeMsps": n / zstdEncode / 1e6, "zstdDecodeMsps": n / zstdDecode / 1e6,
                  "ctxBitsPerSymbol": Double(ctxBytes.count * 8) / n, "ctxEncodeMsps": n / ctxEncode / 1e6, "ctxDecodeMsps": n / ctxDecode / 1e6]

if let outDir {
    try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
    try (lines.joined(separator: "\n") + "\n").write(toFile: "\(outDir)/engine.md", atomically: true, encoding: .utf8)
    let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
    try data.write(to: URL(fileURLWithPath: "\(outDir)/engine.json"))
}
