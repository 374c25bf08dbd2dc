import Foundation
import Testing
import VlatCodec
import VlatFormat
import VlatImageIO
import VlatModels
import VlatTensor

@Suite("vlat compress and decompress")
struct CompressCommandTests {
    /// A small untrained rate-distortion model written to `dir`.
    func modelFile(in dir: URL, seed: UInt64 = 5) throws -> String {
        let network = Autoencoder(config: AutoencoderConfig(objective: .rd, channels: 8, latentChannels: 6), seed: seed)
        let path = dir.appendingPathComponent("m\(seed).vlatmodel").path
        try Data(CodecModel.export(network).serialized()).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func roundTripThroughFiles() throws {
        let dir = CLI.scratch()
        let model = try modelFile(in: dir)
        let input = dir.appendingPathComponent("chelsea.png").path
        try FileManager.default.copyItem(atPath: CLI.packageRoot.appendingPathComponent("Corpus/photos/chelsea.png").path, toPath: input)
        let c = try CLI.run(["compress", input, "--model", model])
        #expect(c.status == 0, "\(c.stderr)")
        let vlat = dir.appendingPathComponent("chelsea.vlat").path
        let info = try CLI.run(["info", vlat])
        #expect(info.stdout.contains("451 x 300, source RGB 8-bit") && info.stdout.contains("entropy coder   zstd"))
        let out = dir.appendingPathComponent("back.png").path
        let d = try CLI.run(["decompress", vlat, "-o", out, "--model", model])
        #expect(d.status == 0, "\(d.stderr)")
        // The file decodes to what the library decodes.
        let codec = try CodecModel(bytes: Array(Data(contentsOf: URL(fileURLWithPath: model))))
        let expected = try ImageCodec.decode(Container.parse(Array(Data(contentsOf: URL(fileURLWithPath: vlat)))), model: codec)
        #expect(try ImageFile.read(out).pixels == expected.pixels)
    }

    @Test func refusalsGiveOneLineAndNoOutput() throws {
        let dir = CLI.scratch()
        let model = try modelFile(in: dir), other = try modelFile(in: dir, seed: 6)
        let input = CLI.packageRoot.appendingPathComponent("Corpus/generated/size_17x9.png").path
        let vlat = dir.appendingPathComponent("a.vlat").path
        #expect(try CLI.run(["compress", input, "-o", vlat, "--model", model]).status == 0)
        // Another model: refused, naming both digests.
        let wrong = try CLI.run(["decompress", vlat, "-o", dir.appendingPathComponent("w.png").path, "--model", other])
        #expect(wrong.status == 1 && wrong.stderr.contains("encoded with model sha256:"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("w.png").path))
        // A damaged file: one line, no output.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: vlat))
        bytes[bytes.count - 20] ^= 0x55
        let damaged = dir.appendingPathComponent("d.vlat").path
        try bytes.write(to: URL(fileURLWithPath: damaged))
        let bad = try CLI.run(["decompress", damaged, "--model", model])
        #expect(bad.status == 1 && bad.stderr.contains("checksum mismatch"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("d.png").path))
        // No overwrite without --force, and never the input, even with it.
        #expect(try CLI.run(["compress", input, "-o", vlat, "--model", model]).stderr.contains("already exists"))
        #expect(try CLI.run(["compress", input, "-o", vlat, "--model", model, "--force"]).status == 0)
        let copy = dir.appendingPathComponent("in.png").path
        try FileManager.default.copyItem(atPath: input, toPath: copy)
        let clobber = try CLI.run(["decompress", vlat, "-o", vlat, "--model", model, "--force"])
        #expect(clobber.status == 1 && clobber.stderr.contains("would overwrite an input"))
        // An image that would need more memory than allowed is refused before coding, and so is
        // a file whose decoding would.
        let big = try CLI.run(["compress", CLI.packageRoot.appendingPathComponent("Corpus/photos/chelsea.png").path, "-o",
                               dir.appendingPathComponent("big.vlat").path, "--model", model, "--max-memory", "64"])
        #expect(big.status == 1 && big.stderr.contains("needs about") && big.stderr.contains("over the limit of 64 MiB"), "\(big.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("big.vlat").path))
        let heavy = try CLI.run(["decompress", vlat, "-o", dir.appendingPathComponent("h.png").path, "--model", model, "--max-memory", "1"])
        #expect(heavy.status == 1 && heavy.stderr.contains("over the limit of 1 MiB"))
        // Not a codec model.
        let notModel = try CLI.run(["compress", input, "-o", dir.appendingPathComponent("x.vlat").path, "--model", input])
        #expect(notModel.status == 1 && notModel.stderr.contains("not a vlat model file"))
    }

    @Test func benchRunsVlatWithEveryCoder() throws {
        let dir = CLI.scratch()
        let model = try modelFile(in: dir)
        let out = dir.appendingPathComponent("bench").path
        let r = try CLI.run(["bench", "Corpus/photos/chelsea.png", "--codecs", "jpeg,vlat,vlat-rans,vlat-ctx,vlat-zstd", "--jpeg-qualities", "50",
                             "--vlat-model", model, "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try String(contentsOfFile: out + "/results.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let rans = rows.first { $0[0] == "vlat-rans" }!, zstd = rows.first { $0[0] == "vlat-zstd" }!
        let ctx = rows.first { $0[0] == "vlat-ctx" }!
        // Same latents, same decoder: identical quality, different sizes; all carry the model's
        // rate estimate, and the summary compares it with the real size.
        #expect(rans[7] == zstd[7] && rans[7] == ctx[7] && rans[5] != zstd[5] && rans[5] != ctx[5])
        #expect(Double(rans[12]) != nil && rans[12] == zstd[12] && rans[12] == ctx[12])
        // The default (auto) is the smallest of the three.
        let auto = rows.first { $0[0] == "vlat" }!
        #expect(Int(auto[5])! == min(Int(rans[5])!, Int(ctx[5])!, Int(zstd[5])!) && auto[7] == rans[7])
        #expect(try String(contentsOfFile: out + "/summary.md", encoding: .utf8).contains("model's estimate (bpp)"))
        // Without --vlat-model, every installed quality level runs, labelled by its level.
        let models = dir.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: model, toPath: models.appendingPathComponent("q1.vlatmodel").path)
        let levels = try CLI.run(["bench", "Corpus/generated/size_17x9.png", "--codecs", "vlat", "--model-dir", models.path,
                                  "--out", dir.appendingPathComponent("b2").path])
        #expect(levels.status == 0, "\(levels.stderr)")
        let settings = try String(contentsOfFile: dir.appendingPathComponent("b2/results.csv").path, encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",")[1] }
        #expect(settings.first == "1" && settings.count == ModelRegistry(folders: [models.path]).qualities.count)
    }

    @Test func refineEncodesForThePlainDecoderAndBenchShowsTheRefinedCurve() throws {
        let dir = CLI.scratch()
        let input = CLI.packageRoot.appendingPathComponent("Corpus/generated/size_17x9.png").path
        let vlat = dir.appendingPathComponent("r.vlat").path
        let c = try CLI.run(["compress", input, "-o", vlat, "--quality", "8", "--refine", "3"])
        #expect(c.status == 0, "\(c.stderr)")
        let d = try CLI.run(["decompress", vlat, "-o", dir.appendingPathComponent("r.png").path])
        #expect(d.status == 0, "\(d.stderr)")
        for bad in ["-1", "1001"] {
            let r = try CLI.run(["compress", input, "-o", dir.appendingPathComponent("bad.vlat").path, "--refine=\(bad)"])
            #expect(r.status == 64 && r.stderr.contains("--refine must be in 0...1000"), "\(r.stderr)")
        }
        // A model without a recorded training lambda cannot be refined: one line, no file.
        let untrained = try modelFile(in: dir)
        let noLambda = try CLI.run(["compress", input, "-o", dir.appendingPathComponent("n.vlat").path, "--model", untrained, "--refine", "1"])
        #expect(noLambda.status == 1 && noLambda.stderr.contains("records no training lambda"), "\(noLambda.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("n.vlat").path))
        let q8 = CLI.packageRoot.appendingPathComponent("RetiredModels/q8.vlatmodel").path
        let out = dir.appendingPathComponent("bench").path
        let b = try CLI.run(["bench", input, "--codecs", "vlat,vlat-refined", "--vlat-model", q8, "--refine", "2", "--out", out])
        #expect(b.status == 0, "\(b.stderr)")
        let codecs = try String(contentsOfFile: out + "/results.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",")[0] }
        #expect(codecs == ["vlat", "vlat-refined"])
        for bad in ["0", "-0.1", "11", "nan"] {
            let r = try CLI.run(["bench", input, "--codecs", "vlat-refined", "--vlat-model", q8, "--refine-step-size=\(bad)", "--out", out + bad])
            #expect(r.status == 64 && r.stderr.contains("--refine-step-size must be in (0, 10]"), "\(bad): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out + bad))
        }
        for bad in ["0", "0.6", "nan"] {
            let r = try CLI.run(["bench", input, "--codecs", "vlat-refined", "--vlat-model", q8, "--refine-anneal=\(bad)", "--out", out + "a" + bad])
            #expect(r.status == 64 && r.stderr.contains("--refine-anneal must be in (0, 0.5]"), "\(bad): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out + "a" + bad))
        }
        let annealed = try CLI.run(["bench", input, "--codecs", "vlat-refined", "--vlat-model", q8, "--refine", "2", "--refine-anneal", "0.1",
                                    "--out", out + "-annealed"])
        #expect(annealed.status == 0, "\(annealed.stderr)")
    }

    /// A factorized level and the previous package hyperprior (coder 7).
    @Test(arguments: ["RetiredModels/q3.vlatmodel", "RetiredModels/hyperprior-phase25.vlatmodel"])
    func filesOfARetiredModelNameItAndDecodeWithRetiredModels(model: String) throws {
        let dir = CLI.scratch()
        let file = dir.appendingPathComponent("old.vlat").path
        let c = try CLI.run(["compress", "Corpus/generated/size_17x9.png", "-o", file, "--model", model])
        #expect(c.status == 0, "\(c.stderr)")
        let digest = SHA256.hex(try Container.parse(Array(Data(contentsOf: URL(fileURLWithPath: file)))).header.modelDigest)
        let missing = try CLI.run(["decompress", file, "-o", dir.appendingPathComponent("a.png").path])
        #expect(missing.status == 1 && missing.stderr.contains("sha256:\(digest)") && missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")
        let found = try CLI.run(["decompress", file, "-o", dir.appendingPathComponent("b.png").path, "--model-dir", "RetiredModels"])
        #expect(found.status == 0, "\(found.stderr)")
    }

    @Test func modelsAreFoundByQualityAndByDigest() throws {
        let dir = CLI.scratch()
        let models = dir.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        let q3 = try modelFile(in: dir, seed: 7)
        try FileManager.default.moveItem(atPath: q3, toPath: models.appendingPathComponent("q3.vlatmodel").path)
        let input = CLI.packageRoot.appendingPathComponent("Corpus/generated/size_17x9.png").path
        let vlat = dir.appendingPathComponent("a.vlat").path
        let c = try CLI.run(["compress", input, "-o", vlat, "--quality", "3", "--model-dir", models.path])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(try CLI.run(["info", vlat]).stdout.contains("3 of 8"))
        // The receiver finds the model by the digest in the header.
        let d = try CLI.run(["decompress", vlat, "-o", dir.appendingPathComponent("a.png").path, "--model-dir", models.path])
        #expect(d.status == 0, "\(d.stderr)")
        // Without it installed, the error names the digest the file needs.
        let missing = try CLI.run(["decompress", vlat, "-o", dir.appendingPathComponent("b.png").path])
        let digest = SHA256.hex(try Container.parse(Array(Data(contentsOf: URL(fileURLWithPath: vlat)))).header.modelDigest)
        #expect(missing.status == 1 && missing.stderr.contains("needs model sha256:\(digest)"))
    }

    @Test func foldersCompressInParallelAndOneBadFileDoesNotStopTheOthers() throws {
        let dir = CLI.scratch()
        let model = try modelFile(in: dir)
        let photos = dir.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        for name in ["size_17x9.png", "edges_256x192.png", "png_grey8.png", "png_rgba8.png"] {
            try FileManager.default.copyItem(atPath: CLI.packageRoot.appendingPathComponent("Corpus/generated/\(name)").path,
                                             toPath: photos.appendingPathComponent(name).path)
        }
        try Data("not a png".utf8).write(to: photos.appendingPathComponent("broken.png"))
        try Data("ignored: not an image extension".utf8).write(to: photos.appendingPathComponent("notes.txt"))
        let packed = dir.appendingPathComponent("packed").path
        let c = try CLI.run(["compress", photos.path, "-o", packed + "/", "--model", model, "--jobs", "2"])
        // The broken file fails alone, with one line; the four images are written.
        #expect(c.status == 1 && c.stderr.contains("broken.png") && c.stderr.contains("1 of 5 files failed"))
        #expect(c.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }.count == 1)
        let written = try FileManager.default.contentsOfDirectory(atPath: packed).sorted()
        #expect(written == ["edges_256x192.vlat", "png_grey8.vlat", "png_rgba8.vlat", "size_17x9.vlat"])
        // Parallel files are byte-identical to one-at-a-time files.
        let serial = dir.appendingPathComponent("serial").path
        #expect(try CLI.run(["compress", photos.appendingPathComponent("edges_256x192.png").path, photos.appendingPathComponent("png_grey8.png").path,
                             "-o", serial, "--model", model, "--jobs", "1"]).status == 0)
        for name in ["edges_256x192.vlat", "png_grey8.vlat"] {
            #expect(FileManager.default.contents(atPath: serial + "/" + name) == FileManager.default.contents(atPath: packed + "/" + name))
        }
        // The folder decodes back, grey stays grey and alpha is kept.
        let back = dir.appendingPathComponent("back").path
        let d = try CLI.run(["decompress", packed, "-o", back, "--model", model])
        #expect(d.status == 0, "\(d.stderr)")
        #expect(try ImageFile.read(back + "/png_grey8.decoded.png").layout == .grey)
        #expect(try ImageFile.read(back + "/png_rgba8.decoded.png").pixels.count == (try ImageFile.read(photos.appendingPathComponent("png_rgba8.png").path)).pixels.count)
        // Two inputs can't share one output name.
        let clash = try CLI.run(["compress", photos.appendingPathComponent("png_grey8.png").path, photos.appendingPathComponent("png_grey8.png").path,
                                 "-o", dir.appendingPathComponent("clash").path, "--model", model])
        #expect(clash.status == 1 && clash.stderr.contains("would both be written to"))
        // An empty folder is one clear error.
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let none = try CLI.run(["compress", empty.path, "--model", model])
        #expect(none.status == 1 && none.stderr.contains("no .jpeg/.jpg/.png files in this folder"))
    }

    @Test func exportWritesAFloat16ModelThatCodesLikeTheOriginal() throws {
        let dir = CLI.scratch()
        let network = Autoencoder(config: AutoencoderConfig(objective: .rd, channels: 8, latentChannels: 6), seed: 9)
        let full = dir.appendingPathComponent("full.vlatmodel").path
        try Data(CodecModel.export(network, storage: .float32).serialized()).write(to: URL(fileURLWithPath: full))
        let half = dir.appendingPathComponent("half.vlatmodel").path
        let e = try CLI.run(["export", full, "-o", half])
        #expect(e.status == 0, "\(e.stderr)")
        let fullBytes = try Data(contentsOf: URL(fileURLWithPath: full)), halfBytes = try Data(contentsOf: URL(fileURLWithPath: half))
        let parsed = try ModelFile.parse(Array(halfBytes))
        // Two bytes saved per weight (the JSON grows by the provenance note).
        let weights = parsed.tensors.filter { $0.storage == .float16 }.reduce(0) { $0 + $1.values.count }
        #expect(fullBytes.count - halfBytes.count > 2 * weights - 300 && weights > 1000)
        #expect(parsed.tensors.filter { $0.name.hasPrefix("entropy.") }.allSatisfy { $0.storage == .float32 })
        #expect(parsed.tensors.filter { $0.name.hasPrefix("analysis.") }.allSatisfy { $0.storage == .float16 })
        // Both code the same photo to nearly the same pixels.
        let image = try ImageFile.read(CLI.packageRoot.appendingPathComponent("Corpus/photos/chelsea.png").path)
        let a = try ImageCodec.decode(ImageCodec.encode(image, model: CodecModel(bytes: Array(fullBytes))), model: CodecModel(bytes: Array(fullBytes)))
        let b = try ImageCodec.decode(ImageCodec.encode(image, model: CodecModel(bytes: Array(halfBytes))), model: CodecModel(bytes: Array(halfBytes)))
        let meanDifference = zip(a.pixels, b.pixels).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(a.pixels.count)
        #expect(meanDifference < 0.5)
        // Never over the input, and bad inputs are one line.
        #expect(try CLI.run(["export", full, "-o", full, "--force"]).stderr.contains("would overwrite an input"))
        let notModel = try CLI.run(["export", CLI.packageRoot.appendingPathComponent("Corpus/photos/chelsea.png").path, "-o", dir.appendingPathComponent("x").path])
        #expect(notModel.status == 1 && notModel.stderr.contains("not a vlat model file"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x").path))
        // --fit-contexts fits the context coder's tables on a folder's training split.
        let fitted = dir.appendingPathComponent("fitted.vlatmodel").path
        let f = try CLI.run(["export", full, "-o", fitted, "--fit-contexts", "Corpus/photos", "--fit-images", "2"])
        #expect(f.status == 0, "\(f.stderr)")
        let fittedModel = try CodecModel(bytes: Array(Data(contentsOf: URL(fileURLWithPath: fitted))))
        #expect(fittedModel.contextPriors != nil && fittedModel.network.metadata["contextPriors"]?.contains("2 training-split images") == true)
        // Exported again without refitting, it keeps them.
        let again = dir.appendingPathComponent("again.vlatmodel").path
        #expect(try CLI.run(["export", fitted, "-o", again, "--storage", "float32"]).status == 0)
        #expect(try CodecModel(bytes: Array(Data(contentsOf: URL(fileURLWithPath: again)))).contextPriors == fittedModel.contextPriors)
        let noFolder = try CLI.run(["export", full, "-o", dir.appendingPathComponent("y").path, "--fit-contexts", dir.appendingPathComponent("nowhere").path])
        #expect(noFolder.status == 1 && noFolder.stderr.split(separator: "\n").count == 1, "\(noFolder.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("y").path))
    }

    @Test func targetBppPicksTheHighestLevelThatFits() throws {
        let dir = CLI.scratch()
        let models = dir.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        let input = CLI.packageRoot.appendingPathComponent("Corpus/photos/chelsea.png").path
        // Two untrained models of different latent widths give different rates; name the
        // smaller one q1.
        func bpp(_ model: String) throws -> Double {
            let out = dir.appendingPathComponent("probe.vlat").path
            #expect(try CLI.run(["compress", input, "-o", out, "--model", model, "--force", "--coder", "rans"]).status == 0)
            return Double(try FileManager.default.attributesOfItem(atPath: out)[.size] as! Int * 8) / (451 * 300)
        }
        let small = dir.appendingPathComponent("s.vlatmodel").path, large = dir.appendingPathComponent("l.vlatmodel").path
        try Data(CodecModel.export(Autoencoder(config: AutoencoderConfig(objective: .rd, channels: 8, latentChannels: 2), seed: 3)).serialized())
            .write(to: URL(fileURLWithPath: small))
        try Data(CodecModel.export(Autoencoder(config: AutoencoderConfig(objective: .rd, channels: 8, latentChannels: 12), seed: 3)).serialized())
            .write(to: URL(fileURLWithPath: large))
        let (b1, b2) = (try bpp(small), try bpp(large))
        try #require(b1 < b2)
        try FileManager.default.copyItem(atPath: small, toPath: models.appendingPathComponent("q1.vlatmodel").path)
        try FileManager.default.copyItem(atPath: large, toPath: models.appendingPathComponent("q2.vlatmodel").path)
        func level(target: Double) throws -> (UInt8, String) {
            let out = dir.appendingPathComponent("t.vlat").path
            // rANS: its size grows with the latent count even for untrained models (zstd packs their near-zero latents to almost nothing).
            let r = try CLI.run(["compress", input, "-o", out, "--target-bpp", "\(target)", "--model-dir", models.path, "--force", "--coder", "rans"])
            #expect(r.status == 0, "\(r.stderr)")
            return (try Container.parse(Array(Data(contentsOf: URL(fileURLWithPath: out)))).header.quality, r.stderr)
        }
        #expect(try level(target: (b1 + b2) / 2).0 == 1)
        #expect(try level(target: b2 * 1.01).0 == 2)
        let tooLow = try level(target: b1 / 2)
        #expect(tooLow.0 == 1 && tooLow.1.contains("the lowest level, is above --target-bpp"))
        let both = try CLI.run(["compress", input, "--target-bpp", "1", "--quality", "2"])
        #expect(both.status == 64 && both.stderr.contains("give one of --quality and --target-bpp"))
    }

    @Test func benchSkipsTheFactorizedCodersForTheInstalledHyperprior() throws {
        let out = CLI.scratch().appendingPathComponent("b").path
        let r = try CLI.run(["bench", "Corpus/generated/size_17x9.png", "--codecs", "vlat,vlat-zstd", "--out", out])
        #expect(r.status == 0 && r.stderr.contains("vlat-zstd: skipped, the installed model is a hyperprior"), "\(r.stderr)")
        let codecs = try String(contentsOfFile: out + "/results.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",")[0] }
        #expect(Set(codecs) == ["vlat"] && codecs.count == 8)
    }

    @Test func standardInputAndOutput() throws {
        let dir = CLI.scratch()
        let model = try modelFile(in: dir)
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["compress", "-", "-o", "-", "--model", model]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        stdin.fileHandleForWriting.write(try Data(contentsOf: CLI.packageRoot.appendingPathComponent("Corpus/generated/size_17x9.png")))
        try stdin.fileHandleForWriting.close()
        let bytes = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(try Container.parse(Array(bytes)).header.width == 17)
    }
}

@Suite("The format specification against the coders")
struct ReferenceDecoderTests {
    /// Scripts/reference_latents.py decodes coders 1 and 3 from docs/FORMAT.md alone; the same
    /// image coded both ways must give it the same latents (`Scripts/install-deps.sh --tests`
    /// installs python3, so this runs wherever the suite does).
    @Test func anIndependentDecoderFindsTheSameLatentsInRansAndCtxFiles() throws {
        let dir = CLI.scratch()
        var digests: [String] = []
        for coder in ["rans", "ctx"] {
            let file = dir.appendingPathComponent("\(coder).vlat").path
            let r = try CLI.run(["compress", "Corpus/photos/chelsea.png", "--quality", "2", "--coder", coder, "--model-dir", "RetiredModels", "-o", file])
            #expect(r.status == 0, "\(r.stderr)")
            let (status, text) = try Self.referenceDecoder(file, model: "RetiredModels/q2.vlatmodel")
            #expect(status == 0, "reference decoder failed on the \(coder) file")
            digests.append(text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(digests[0].count > 64 && digests[0] == digests[1], "\(digests)")
    }

    /// Runs Scripts/reference_latents.py on `file` with `model`: its exit status and output.
    static func referenceDecoder(_ file: String, model: String) throws -> (Int32, String) {
        try python("Scripts/reference_latents.py", [file, model])
    }

    /// Runs a Python script of the package with `arguments`: its exit status and output.
    static func python(_ script: String, _ arguments: [String]) throws -> (Int32, String) {
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", script] + arguments
        python.currentDirectoryURL = CLI.packageRoot
        let out = Pipe()
        python.standardOutput = out
        try python.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        return (python.terminationStatus, text)
    }
}

@Suite("The format specification against the detail layer")
struct DetailReferenceDecoderTests {
    /// Scripts/reference_detail.py decodes the detail layer's coefficients from docs/FORMAT.md
    /// alone: they must be the Swift decoder's, for a colour and a grey image (the latter over a
    /// stripe boundary), at a preset and a fractional quality.
    @Test(arguments: [("Corpus/photos/chelsea.png", "8"), ("Corpus/photos/camera.png", "6.3")])
    func anIndependentDecoderFindsTheSameCoefficients(photo: String, quality: String) throws {
        let dir = CLI.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("x.vlat").path
        let r = try CLI.run(["compress", photo, "--quality", quality, "-o", file])
        #expect(r.status == 0, "\(r.stderr)")
        let container = try Container.parse(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
        let detail = try #require(container.detail)
        let h = container.header
        let grey = h.sourceColorType == ImageSource.ColorType.grey.rawValue
        var values: [Int32] = []
        try DetailLayer.forEachStripe(detail, width: h.width, height: h.height, grey: grey) { values += $2 }
        #expect(values.contains { $0 != 0 } && values.contains { abs($0) > 1 })
        let code = Int(detail[2]) | Int(detail[3]) << 8
        let expected = [HyperpriorReferenceDecoderTests.digest(values), grey ? "1" : "3", "\(code)"]

        let (status, text) = try ReferenceDecoderTests.python("Scripts/reference_detail.py", [file])
        #expect(status == 0)
        #expect(text.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } == expected, "\(text)")
    }

    /// A layer written with method 0 (flat starting tables, as files from before method 1) reads
    /// the same way: the reference decoder finds the Swift decoder's coefficients.
    @Test func anIndependentDecoderReadsMethodZero() throws {
        let dir = CLI.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = CLI.packageRoot
        let model = try CodecModel(bytes: Array(Data(contentsOf: root.appendingPathComponent("Sources/VlatCodec/Models/hyperprior.vlatmodel"))))
        let layers = try DetailEncoder(ImageFile.read(root.appendingPathComponent("Corpus/photos/chelsea.png").path), model: model, level: 4.5)
        let h = layers.base.header
        var container = layers.base
        container.detail = try DetailLayer.encode(original: layers.original, base: layers.reconstruction, width: h.width,
                                                  height: h.height, grey: false, step: 24, method: 0)
        let file = dir.appendingPathComponent("m0.vlat").path
        try Data(container.serialized()).write(to: URL(fileURLWithPath: file))
        var values: [Int32] = []
        try DetailLayer.forEachStripe(container.detail!, width: h.width, height: h.height, grey: false) { values += $2 }
        #expect(container.detail![0] == 0 && values.contains { abs($0) > 1 })
        let (status, text) = try ReferenceDecoderTests.python("Scripts/reference_detail.py", [file])
        #expect(status == 0)
        #expect(text.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                    == [HyperpriorReferenceDecoderTests.digest(values), "3", "\(24 * 16)"], "\(text)")
    }
}

@Suite("The format specification against the hyperprior coder")
struct HyperpriorReferenceDecoderTests {
    static func digest(_ values: [Int32]) -> String {
        SHA256.hex(SHA256.hash(values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: UInt32(bitPattern: v) >> (8 * $0)) } }))
    }

    /// Scripts/reference_latents.py decodes coders 5 and 6 from docs/FORMAT.md alone, integer
    /// hyper-synthesis and context included: its z, table indices and symbols must be the
    /// Swift decoder's.
    @Test(arguments: [(false, false), (true, false), (true, true)])
    func anIndependentDecoderFindsTheSameSymbolsZAndTables(context: Bool, channel: Bool) throws {
        let dir = CLI.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let net = MeanScaleHyperprior(config: HyperpriorConfig(channels: 8, latentChannels: 6, hyperChannels: 4, lambdas: [0.01, 0.1],
                                                              contextChannels: context ? 5 : nil, channelGroups: channel ? 3 : nil,
                                                              channelContextChannels: 4), seed: 9)
        // Contexts that correct (their output layers start at zero).
        var g = SeededGenerator(seed: 2)
        for p in net.context?.head.layers[3].parameters ?? [] { for i in 0..<p.value.count { p.value.data[i] = (g.uniform() - 0.5) * 0.5 } }
        for net in (net.channelContext?.anchorNetworks ?? []) + (net.channelContext?.otherNetworks ?? []) {
            for p in net.layers[4].parameters { for i in 0..<p.value.count { p.value.data[i] = (g.uniform() - 0.5) * 0.5 } }
        }
        for i in 0..<net.gains.value.count { net.gains.value.data[i] = Float(2 + i % 4) / MeanScaleHyperprior.gainScale }
        // Spread the predicted log-scales over the table (an untrained network predicts about 0).
        let bias = net.hyperSynthesis.parameters.last!
        for c in 6..<12 { bias.value.data[c] = Float(c % 6) - 2 }
        let photo = CLI.packageRoot.appendingPathComponent("Corpus/photos/chelsea.png").path
        // The context case reads a compressed model file (version 4), as `vlat export` writes.
        let modelBytes = try HyperpriorCodecModel.export(net, calibration: [ImageFile.read(photo)]).serialized(compressionLevel: context ? 19 : nil)
        let modelPath = dir.appendingPathComponent("hp.vlatmodel").path
        try Data(modelBytes).write(to: URL(fileURLWithPath: modelPath))
        let file = dir.appendingPathComponent("x.vlat").path
        let r = try CLI.run(["compress", photo, "--model", modelPath, "--quality", "1.3", "-o", file])
        #expect(r.status == 0, "\(r.stderr)")

        let container = try Container.parse(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
        let model = try #require(try CodecModel(bytes: modelBytes).hyperprior)
        let d = try HyperpriorCoding.decodeSymbols(container.payload, model: model, height: container.header.latentHeight,
                                                   width: container.header.latentWidth)
        let expected = [Self.digest(d.symbols), "\(container.header.latentChannels)", "\(container.header.latentHeight)",
                        "\(container.header.latentWidth)", Self.digest(d.zHat), Self.digest(d.indices.map { Int32($0) })]
        #expect(Set(d.indices).count > 3, "the test image should use several scales")
        #expect(container.header.coder == (channel ? .hyperpriorChannelContext : context ? .hyperpriorContext : .hyperprior))

        let (status, text) = try ReferenceDecoderTests.referenceDecoder(file, model: modelPath)
        #expect(status == 0)
        #expect(text.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } == expected, "\(text)")
    }
}
