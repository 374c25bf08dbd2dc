import Foundation
import Testing
import VlatFormat
import VlatImageIO

@Suite("vlat train")
struct TrainCommandTests {
    let tiny = ["--channels", "6", "--latent-channels", "4", "--crop", "32", "--batch", "2", "--val-every", "5", "--checkpoint-every", "5"]

    @Test func trainsAndWritesModelCheckpointLogAndPlot() throws {
        let dir = CLI.scratch()
        let out = dir.appendingPathComponent("m.vlatmodel").path
        let r = try CLI.run(["train", "--data", "Corpus/photos", "--out", out, "--steps", "10"] + tiny)
        #expect(r.status == 0, "\(r.stderr)")
        for name in ["m.vlatmodel", "m.ckpt", "m-best.ckpt", "m.csv", "m.svg"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name)")
        }
        let model = try ModelFile.parse(Array(Data(contentsOf: URL(fileURLWithPath: out))))
        #expect(model.json.contains("\"steps\":\"10\"") && model.json.contains("trainerCommit"))
        #expect(model["optimizer.m.analysis.0.weight"] == nil) // the model has no optimizer state
        let log = try String(contentsOfFile: dir.appendingPathComponent("m.csv").path, encoding: .utf8)
        #expect(log.split(separator: "\n").count == 11)
        // Without --force, a second run refuses to overwrite.
        let again = try CLI.run(["train", "--data", "Corpus/photos", "--out", out, "--steps", "10"] + tiny)
        #expect(again.status == 1 && again.stderr.contains("already exists"))
    }

    @Test func listsTheValidationSplitTrainingHoldsOut() throws {
        let r = try CLI.run(["train", "--data", "Corpus/photos", "--list-validation"])
        #expect(r.status == 0, "\(r.stderr)")
        let names = r.stdout.split(separator: "\n").map(String.init)
        #expect(!names.isEmpty && names == names.sorted())
        for name in names { #expect(FileManager.default.fileExists(atPath: "Corpus/photos/\(name)"), "\(name)") }
        // A training run on the same folder holds out that many images, and the listing is stable.
        let dir = CLI.scratch()
        let train = try CLI.run(["train", "--data", "Corpus/photos", "--out", dir.appendingPathComponent("m.vlatmodel").path, "--steps", "1"] + tiny)
        #expect(train.stderr.contains(" training and \(names.count) validation images"), "\(train.stderr)")
        #expect(try CLI.run(["train", "--data", "Corpus/photos", "--list-validation"]).stdout == r.stdout)
        // Without --list-validation, --out is required.
        let missing = try CLI.run(["train", "--data", "Corpus/photos"])
        #expect(missing.status == 64 && missing.stderr.contains("--out"))
    }

    @Test func priorOnlyNeedsAnRDModelToStartFrom() throws {
        let dir = CLI.scratch()
        let rd = dir.appendingPathComponent("rd.vlatmodel").path
        #expect(try CLI.run(["train", "--data", "Corpus/photos", "--out", rd, "--objective", "rd", "--steps", "5"] + tiny).status == 0)
        let out = dir.appendingPathComponent("p.vlatmodel").path
        let alone = try CLI.run(["train", "--data", "Corpus/photos", "--out", out, "--objective", "rd", "--prior-only", "--steps", "5"] + tiny)
        #expect(alone.status == 1 && alone.stderr.contains("--prior-only needs --init-from"), "\(alone.stderr)")
        let r = try CLI.run(["train", "--data", "Corpus/photos", "--out", out, "--objective", "rd", "--prior-only", "--init-from", rd, "--steps", "5"] + tiny)
        #expect(r.status == 0, "\(r.stderr)")
        // The log has no reconstruction columns for steps that did not reconstruct.
        let log = try String(contentsOfFile: dir.appendingPathComponent("p.csv").path, encoding: .utf8).split(separator: "\n")
        #expect(log.count == 6 && log[1].split(separator: ",", omittingEmptySubsequences: false)[4].isEmpty, "\(log)")
        #expect(try CLI.run(["train", "--data", "Corpus/photos", "--out", out, "--prior-only", "--init-from", rd, "--force"] + tiny).status == 64)
    }

    @Test func trainsAResumableDenoiserThatDenoiseUses() throws {
        let dir = CLI.scratch()
        let out = dir.appendingPathComponent("d.vlatmodel").path
        let args = ["train", "--data", "Corpus/photos", "--out", out, "--objective", "denoise", "--channels", "4", "--levels", "1",
                    "--blocks", "1", "--crop", "32", "--batch", "2", "--val-every", "5", "--checkpoint-every", "5"]
        let r = try CLI.run(args + ["--steps", "5"])
        #expect(r.status == 0 && r.stderr.contains("denoise: C=4, 1 levels, 1 blocks, skips on, residual on"), "\(r.stderr)")
        let info = try CLI.run(["info", out])
        #expect(info.stdout.contains("model, denoiser") && info.stdout.contains("C=4, 1 levels"))
        // Resume needs the same architecture flags, and goes on from step 5.
        let resumed = try CLI.run(args + ["--steps", "8", "--resume", dir.appendingPathComponent("d.ckpt").path])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try ModelFile.parse(Array(Data(contentsOf: URL(fileURLWithPath: out)))).json.contains("\"steps\":\"8\""))
        // The model cleans an image.
        let png = dir.appendingPathComponent("out.png").path
        #expect(try CLI.run(["denoise", "Corpus/generated/size_17x9.png", "-o", png, "--model", out]).status == 0)
        #expect(try ImageFile.read(png).width == 17)
    }

    @Test func ctrlCSavesACheckpointAndResumeFinishes() throws {
        let dir = CLI.scratch()
        let out = dir.appendingPathComponent("m.vlatmodel").path
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["train", "--data", "Corpus/photos", "--out", out, "--steps", "20000"] + tiny
        process.currentDirectoryURL = CLI.packageRoot
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let log = dir.appendingPathComponent("m.csv").path
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: log, encoding: .utf8), text.split(separator: "\n").count > 3 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.interrupt() // SIGINT
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        let checkpoint = dir.appendingPathComponent("m.ckpt").path
        let saved = try ModelFile.parse(Array(Data(contentsOf: URL(fileURLWithPath: checkpoint))))
        #expect(saved["optimizer.v.synthesis.6.bias"] != nil)
        let resumed = try CLI.run(["train", "--data", "Corpus/photos", "--out", out, "--steps", "12", "--resume", checkpoint] + tiny)
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }

    @Test func sampleAndInterpolateWriteStrips() throws {
        let dir = CLI.scratch()
        let vae = dir.appendingPathComponent("v.vlatmodel").path
        #expect(try CLI.run(["train", "--data", "Corpus/photos", "--out", vae, "--steps", "2", "--objective", "vae"] + tiny).status == 0)
        let samples = dir.appendingPathComponent("s.png").path
        let s = try CLI.run(["sample", "--model", vae, "-o", samples, "--count", "3", "--size", "32"])
        #expect(s.status == 0, "\(s.stderr)")
        let strip = try ImageFile.read(samples)
        #expect(strip.width == 3 * 32 + 2 * 4 && strip.height == 32)
        let walk = dir.appendingPathComponent("w.png").path
        let i = try CLI.run(["interpolate", "Corpus/photos/chelsea.png", "Corpus/photos/coffee.png", "--model", vae, "-o", walk, "--steps", "4"])
        #expect(i.status == 0, "\(i.stderr)")
        // Common size: min(451, 600) and min(300, 400), rounded down to 16: 448 x 288.
        let w = try ImageFile.read(walk)
        #expect(w.width == 4 * 448 + 3 * 4 && w.height == 288)
        #expect(try CLI.run(["sample", "--model", vae, "-o", samples]).stderr.contains("already exists"))
    }

    @Test func badInputsGiveOneLine() throws {
        let dir = CLI.scratch()
        let corrupt = dir.appendingPathComponent("bad.ckpt")
        try Data("VLATMODL not really".utf8).write(to: corrupt)
        let cases: [([String], Int32, String)] = [
            (["train", "--data", dir.path, "--out", dir.appendingPathComponent("a.vlatmodel").path], 1, "no readable PNG or JPEG"),
            (["train", "--data", dir.appendingPathComponent("none").path, "--out", dir.appendingPathComponent("b.vlatmodel").path], 1, "no such folder"),
            (["train", "--data", "Corpus/photos", "--out", dir.appendingPathComponent("c.vlatmodel").path, "--resume", corrupt.path], 1, "not a vlat model file"),
            (["train", "--data", "Corpus/photos", "--out", dir.appendingPathComponent("d.vlatmodel").path, "--crop", "40"], 64, "multiple of 16"),
            (["train", "--data", "Corpus/photos", "--out", dir.appendingPathComponent("e.vlatmodel").path, "--objective", "gan"], 64, "'ae', 'vae', 'rd', 'denoise' or 'hyperprior'"),
            (["train", "--data", "Corpus/photos", "--out", dir.appendingPathComponent("i.vlatmodel").path, "--objective", "hyperprior",
              "--crop", "96"], 64, "multiple of 64"),
            (["train", "--data", "Corpus/photos", "--out", dir.appendingPathComponent("j.vlatmodel").path, "--objective", "hyperprior",
              "--lambdas", "0.1,x"], 64, "--lambdas must be numbers"),
            (["train", "--data", "Corpus/photos", "--out", dir.appendingPathComponent("f.vlatmodel").path, "--objective", "denoise",
              "--noise-sigma", "none", "--blur-sigma", "none"], 64, "cannot both be none"),
            (["train", "--data", "Corpus/photos", "--out", dir.appendingPathComponent("g.vlatmodel").path, "--objective", "denoise",
              "--noise-sigma", "50-10"], 64, "--noise-sigma must be A-B"),
            (["train", "--data", "Corpus/photos", "--out", dir.appendingPathComponent("h.vlatmodel").path, "--objective", "denoise",
              "--levels", "9"], 64, "the denoiser needs"),
        ]
        for (args, status, message) in cases {
            let r = try CLI.run(args)
            #expect(r.status == status, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(message), "\(r.stderr)")
        }
    }
}
