import Foundation
import VlatFiles
import VlatFormat
import VlatModels
import VlatPlot

/// What a training run writes besides the weights' updates, and how: its files, the record each
/// saved model carries (the command chain that made it, data, steps, wall time, trainer commit),
/// the model file of each objective, the logs and their plot, and the progress line. `vlat train`
/// builds one and runs it.
///
/// ```swift
/// let files = TrainingRun.Files(out: "runs/denoiser.vlatmodel")
/// let run = TrainingRun(trainer: trainer, files: files, record: record, resumed: false,
///                       export: TrainingRun.modelFile(rateDistortion: { try CodecModel.export($0) }))
/// let outcome = try run.run(progress: { print($0) }, shouldStop: { false })
/// ```
public final class TrainingRun {
    /// Where a run's files go, from the model path `out` (`stem.vlatmodel`): `stem.ckpt` (or
    /// `checkpoint`), its best-validation twin `stem-best.ckpt`, `stem.csv`, `stem-levels.csv`
    /// (hyperprior) and `stem.svg`.
    public struct Files: Sendable {
        public var out: String
        public var checkpoint: String
        public var stem: String

        public init(out: String, checkpoint: String? = nil) {
            self.out = out
            stem = out.hasSuffix(".vlatmodel") ? String(out.dropLast(".vlatmodel".count)) : out
            self.checkpoint = checkpoint ?? stem + ".ckpt"
        }

        /// The checkpoint of the best validation so far (`Trainer.validationScore`), beside the latest.
        public var bestCheckpoint: String { (checkpoint.hasSuffix(".ckpt") ? String(checkpoint.dropLast(5)) : checkpoint) + "-best.ckpt" }
        public var log: String { stem + ".csv" }
        public var levelLog: String { stem + "-levels.csv" }
        public var plot: String { stem + ".svg" }
    }

    /// How the saved models were made, stored in their metadata.
    public struct Record: Sendable {
        /// Every command that built the model, in order, joined by `&&`.
        public var command: String
        public var data: [String]
        /// How many images the data gave for training and for validation.
        public var trainingImages: Int
        public var validationImages: Int
        public var trainerCommit: String
        /// The warm start and its digest, if any.
        public var initFrom: String?

        /// The record of a run started by `thisCommand`, continuing the chain of `parent`'s model
        /// (its own `command` metadata) when there is one.
        public init(thisCommand: String, parentCommand: String?, data: [String], images: TrainingImages, trainerCommit: String,
                    initFrom: String?) {
            command = parentCommand.map { "\($0) && \(thisCommand)" } ?? thisCommand
            self.data = data
            trainingImages = images.train.count
            validationImages = images.validation.count
            self.trainerCommit = trainerCommit
            self.initFrom = initFrom
        }
    }

    public let trainer: Trainer
    public let files: Files
    public let record: Record
    let resumed: Bool
    /// The model file written beside the checkpoints at every save (a codec model needs its tables).
    let export: (Trainer) throws -> ModelFile
    /// Writes the saves while training goes on.
    private let writer = BackgroundWriter()

    /// The model file of each objective: a denoiser's in float16, a hyperprior's in float32 (its
    /// codec export, `vlat export`, adds the integer parts from calibration images), any other
    /// autoencoder's as it trains; a rate-distortion model's through `rateDistortion`, the
    /// codec's export, which adds the integer entropy tables that `vlat compress` needs (VlatCodec,
    /// which training does not depend on, provides it).
    public static func modelFile(rateDistortion: @escaping (Autoencoder) throws -> ModelFile) -> (Trainer) throws -> ModelFile {
        { trainer in
            switch trainer.options.objective {
            case .rd: try rateDistortion(trainer.model)
            case .denoise: trainer.network.modelFile(extra: [], trainer: nil, storage: .float16)
            case .hyperprior: trainer.network.modelFile(extra: [], trainer: nil, storage: .float32)
            default: trainer.model.modelFile()
            }
        }
    }

    public init(trainer: Trainer, files: Files, record: Record, resumed: Bool, export: @escaping (Trainer) throws -> ModelFile) {
        self.trainer = trainer
        self.files = files
        self.record = record
        self.resumed = resumed
        self.export = export
    }

    /// Trains to the options' step count or until `shouldStop`, appending to the logs, passing
    /// each step's progress line to `progress`, and saving checkpoint, best checkpoint and model
    /// every `checkpointEvery` steps and at the end.
    public func run(progress: (String) -> Void, shouldStop: () -> Bool) throws -> TrainingOutcome {
        let log = try TrainingLog(path: files.log, append: resumed)
        let levelLog = try trainer.hyperprior.map { _ in try LevelLog(path: files.levelLog, append: resumed) }
        let trainer = self.trainer
        // Whatever happens, the saves handed over are on disk before the run returns.
        var written = false
        defer { if !written { try? writer.wait() } }
        let outcome = try trainer.run(
            report: { p in
                log.append(p)
                if p.validationPSNR != nil, let h = trainer.hyperprior {
                    levelLog?.append(step: p.step, lambdas: h.config.lambdas, points: trainer.lastLevelValidation)
                }
                progress(Self.statusLine(p, trainer: trainer))
            },
            save: { trainer, elapsed in try self.save(trainer, elapsed: elapsed) },
            shouldStop: shouldStop)
        written = true
        try writer.wait()
        // The plot is a convenience: a log it cannot read leaves the run's result as it is.
        let name = files.out.split(separator: "/").last.map(String.init) ?? files.out
        try? Self.writePlot(log: files.log, to: files.plot, title: "validation PSNR: \(name)")
        return outcome
    }

    /// Validation PSNR against step, from a run's CSV log (`TrainingLog`), as an SVG line chart.
    public static func writePlot(log: String, to path: String, title: String) throws {
        let rows = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").dropFirst()
        let points = rows.compactMap { row -> (Double, Double)? in
            let f = row.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count >= 8, let s = Double(f[0]), let v = Double(f[7]) else { return nil }
            return (s, v)
        }
        let svg = SVGPlot(title: title, xLabel: "step", yLabel: "validation PSNR (dB)",
                          series: [.init(name: "validation", points: points)]).render()
        try AtomicFile.write(Array(svg.utf8), to: path, overwrite: true)
    }

    /// The model's metadata at a save: the record, the data's split, steps, wall time, the last
    /// validation, and what the objective adds (lambdas, each level's validation).
    public func metadata(_ trainer: Trainer, elapsed: Double) -> [String: String] {
        var m = [
            "command": record.command, "data": record.data.joined(separator: ","), "trainingImages": "\(record.trainingImages)",
            "validationImages": "\(record.validationImages)", "steps": "\(trainer.step)",
            "wallSeconds": String(format: "%.0f", elapsed), "trainerCommit": record.trainerCommit,
            "validationPSNR": trainer.lastValidationPSNR.map { String(format: "%.3f", $0) } ?? "",
            "validationBPP": trainer.lastValidationBPP.map { String(format: "%.4f", $0) } ?? "",
            "seed": "\(trainer.options.seed)", "batch": "\(trainer.options.batch)", "crop": "\(trainer.options.crop)",
        ]
        if let initFrom = record.initFrom { m["initFrom"] = initFrom }
        if trainer.options.objective == .rd { m["lambda"] = "\(trainer.options.lambda)" }
        if let h = trainer.hyperprior {
            m["lambdas"] = h.config.lambdas.map { "\($0)" }.joined(separator: ",")
            if let t = trainer.options.trainedLevels { m["trainedLevels"] = t.map { "\($0 + 1)" }.joined(separator: ",") }
            m["validationLevels"] = trainer.lastLevelValidation.map { String(format: "%.3f dB / %.4f bpp", $0.psnr, $0.bpp) }.joined(separator: "; ")
        }
        if let p = trainer.validationInputPSNR { m["validationInputPSNR"] = String(format: "%.3f", p) }
        return m
    }

    /// Serializes the checkpoint and model now, and hands their bytes to `writer`.
    func save(_ trainer: Trainer, elapsed: Double) throws {
        trainer.network.metadata = metadata(trainer, elapsed: elapsed)
        let checkpointBytes = trainer.checkpoint(elapsed: elapsed).serialized()
        var files = [(bytes: checkpointBytes, path: self.files.checkpoint)]
        if trainer.isBestValidation { files.append((checkpointBytes, self.files.bestCheckpoint)) }
        files.append((try export(trainer).serialized(), self.files.out))
        try writer.write(files)
    }

    /// What is being trained, for the log's first lines: the architecture, its size and cost,
    /// and where the run starts.
    public static func summary(of trainer: Trainer) -> [String] {
        let count = trainer.network.parameters.reduce(0) { $0 + $1.value.count }
        let start = "step \(trainer.step) of \(trainer.options.steps)"
        func kmac(_ v: Double) -> String { String(format: "%.1f", v / 1000) }
        if let denoiser = trainer.denoiser {
            let c = denoiser.config
            var lines: [String] = []
            if let p = trainer.validationInputPSNR {
                lines.append(String(format: "validation: half the crops with noise sigma 25, half blur sigma 2 + noise 2; as corrupted: %.2f dB", p))
            }
            lines.append("denoise: C=\(c.channels), \(c.levels) levels, \(c.blocks) blocks, skips \(c.skips ? "on" : "off"), residual \(c.residual ? "on" : "off"), \(count) parameters, \(kmac(c.macsPerPixel)) kMAC/pixel; \(start)")
            return lines
        }
        if let hyperprior = trainer.hyperprior {
            let c = hyperprior.config, macs = c.transforms.macsPerPixel, hyper = c.hyperMacsPerPixel
            let context = c.contextsDescription + c.tailDescription
            let trained = trainer.options.trainedLevels.map { " (training level \($0.map { "\($0 + 1)" }.joined(separator: ",")) only)" } ?? ""
            return ["hyperprior: \(c.widthsDescription), z \(c.hyperChannels), \(c.levels) levels\(trained)\(context), \(count) parameters, \(kmac(macs.analysis + macs.synthesis + hyper.analysis + hyper.synthesis + c.tailMacsPerPixel)) kMAC/pixel; \(start)"]
        }
        let config = trainer.options.config, macs = config.macsPerPixel
        return ["\(config.objective.rawValue): N=\(config.channels), M=\(config.latentChannels), \(count) parameters, \(kmac(macs.analysis + macs.synthesis)) kMAC/pixel; \(start)"]
    }

    /// `step 120/1000  1.20 steps/s  9.6 crops/s  loss 1.23456  train 29.10 dB  rate 0.700 bpp  val 30.95 dB at 0.846 bpp  ETA 12m13s`
    public static func statusLine(_ p: TrainingProgress, trainer: Trainer) -> String {
        var line = String(format: "step %d/%d  %.2f steps/s  %.1f crops/s  loss %.5f",
                          p.step, p.steps, p.stepsPerSecond, p.stepsPerSecond * Double(trainer.options.batch), p.loss)
        if !p.mse.isNaN { line += String(format: "  train %.2f dB", p.psnr) }
        if let kl = p.klBitsPerPixel { line += String(format: [.rd, .hyperprior].contains(trainer.options.objective) ? "  rate %.3f bpp" : "  KL %.3f bpp", kl) }
        if let v = trainer.lastValidationPSNR { line += String(format: "  val %.2f dB", v) }
        if let b = trainer.lastValidationBPP { line += String(format: " at %.3f bpp", b) }
        return line + "  ETA " + duration(p.eta)
    }

    /// `1h05m` or `3m07s`; `?` when unknown.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds)
        return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" : "\(s / 60)m\(String(format: "%02d", s % 60))s"
    }

    /// The commit of the working tree the trainer runs from, with "+dirty" when tracked files
    /// have changes; "unknown" outside git.
    public static func gitCommit() -> String {
        func git(_ args: [String]) -> String? {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["git"] + args
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = FileHandle.nullDevice
            guard (try? p.run()) != nil else { return nil }
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return p.terminationStatus == 0 ? String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : nil
        }
        guard let head = git(["rev-parse", "HEAD"]) else { return "unknown" }
        let dirty = !(git(["status", "--porcelain", "--untracked-files=no"]) ?? "").isEmpty
        return head + (dirty ? "+dirty" : "")
    }
}
