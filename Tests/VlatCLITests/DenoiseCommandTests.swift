import Foundation
import Testing
import VlatCodec
import VlatFormat
import VlatImageIO
import VlatModels

@Suite("vlat denoise")
struct DenoiseCommandTests {
    /// A small untrained denoiser saved as `dir/denoise.vlatmodel`.
    func installDenoiser(in dir: URL) throws -> String {
        let net = Denoiser(config: DenoiserConfig(channels: 4, levels: 2, blocks: 1), seed: 2)
        let path = dir.appendingPathComponent(ModelRegistry.denoiserName).path
        try Data(net.modelFile(extra: [], trainer: nil, storage: .float16).serialized()).write(to: URL(fileURLWithPath: path))
        return path
    }

    func copy(_ names: [String], to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in names {
            try FileManager.default.copyItem(atPath: CLI.packageRoot.appendingPathComponent("Corpus/generated/\(name)").path,
                                             toPath: folder.appendingPathComponent(name).path)
        }
    }

    @Test func foldersGreyAlphaAndTiles() throws {
        let dir = CLI.scratch()
        _ = try installDenoiser(in: dir)
        let inputs = dir.appendingPathComponent("in")
        try copy(["edges_256x192.png", "png_grey8.png", "png_rgba8.png", "size_17x9.png"], to: inputs)
        let out = dir.appendingPathComponent("out").path
        let r = try CLI.run(["denoise", inputs.path, "-o", out, "--model-dir", dir.path, "--jobs", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("[4/4]") || r.stderr.contains("[1/4]"))
        for name in ["edges_256x192", "png_grey8", "png_rgba8", "size_17x9"] {
            let before = try ImageFile.read(inputs.appendingPathComponent("\(name).png").path)
            let after = try ImageFile.read("\(out)/\(name).denoised.png")
            #expect(after.width == before.width && after.height == before.height && after.layout == before.layout, "\(name)")
            #expect(after.alphaPlane() == before.alphaPlane(), "\(name): alpha kept exactly")
        }
        // Small tiles give the same pixels as one pass: no seams.
        let edges = inputs.appendingPathComponent("edges_256x192.png").path
        let small = dir.appendingPathComponent("small.png").path, whole = dir.appendingPathComponent("whole.png").path
        #expect(try CLI.run(["denoise", edges, "-o", small, "--model-dir", dir.path, "--tile", "32"]).status == 0)
        #expect(try CLI.run(["denoise", edges, "-o", whole, "--model-dir", dir.path, "--tile", "4096"]).status == 0)
        #expect(try ImageFile.read(small).pixels == ImageFile.read(whole).pixels)
    }

    @Test func badInputsAndModels() throws {
        let dir = CLI.scratch()
        let model = try installDenoiser(in: dir)
        let bad = dir.appendingPathComponent("bad.png")
        try Data("GIF89a....".utf8).write(to: bad)
        let r = try CLI.run(["denoise", bad.path, "--model", model])
        #expect(r.status == 1 && r.stderr.hasPrefix("Error: \(bad.path):"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad.denoised.png").path))
        // A codec model is not a denoiser, and a missing file is named.
        let codec = dir.appendingPathComponent("codec.vlatmodel").path
        let network = Autoencoder(config: AutoencoderConfig(objective: .rd, channels: 8, latentChannels: 6), seed: 1)
        try Data(CodecModel.export(network).serialized()).write(to: URL(fileURLWithPath: codec))
        let png = CLI.packageRoot.appendingPathComponent("Corpus/generated/size_17x9.png").path
        let wrong = try CLI.run(["denoise", png, "-o", dir.appendingPathComponent("w.png").path, "--model", codec])
        #expect(wrong.status == 1 && wrong.stderr.contains("not a denoising model"))
        let missing = try CLI.run(["denoise", png, "-o", dir.appendingPathComponent("m.png").path, "--model", "/nonexistent.vlatmodel"])
        #expect(missing.status == 1 && missing.stderr.contains("/nonexistent.vlatmodel"))
        #expect(try CLI.run(["denoise", png, "--tile", "3"]).status == 64)
    }

    @Test func strengthBlendsBetweenInputAndNetwork() throws {
        let dir = CLI.scratch()
        let model = try installDenoiser(in: dir)
        // An untrained network's correction is small but not zero on a photo.
        let png = CLI.packageRoot.appendingPathComponent("Corpus/photos/coffee.png").path
        func run(_ strength: String) throws -> [UInt8] {
            let out = dir.appendingPathComponent("s\(strength).png").path
            let r = try CLI.run(["denoise", png, "-o", out, "--model", model, "--strength", strength])
            #expect(r.status == 0, "\(r.stderr)")
            return try ImageFile.read(out).pixels
        }
        let input = try ImageFile.read(png).pixels
        let (none, half, full) = (try run("0"), try run("0.5"), try run("1"))
        #expect(none == input)
        #expect(full != input)
        // Halfway lies between the two, to the rounding of each.
        var worst = 0
        for i in input.indices {
            let mid = (Int(input[i]) + Int(full[i])) / 2
            worst = max(worst, abs(Int(half[i]) - mid))
        }
        #expect(worst <= 1)
        // The self-ensemble is another image, and no slower to refuse bad options.
        let ensembleOut = dir.appendingPathComponent("e.png").path
        let e = try CLI.run(["denoise", png, "-o", ensembleOut, "--model", model, "--ensemble"])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(try ImageFile.read(ensembleOut).pixels != full)
        #expect(try CLI.run(["bench-restore", png, "--tune", dir.path, "--ensemble"]).status == 64)
        for bad in ["1.5", "-0.1", "nan"] {
            #expect(try CLI.run(["denoise", png, "--model", model, "--strength", bad]).status == 64, "\(bad)")
        }
        #expect(!FileManager.default.fileExists(atPath: CLI.packageRoot.appendingPathComponent("Corpus/photos/coffee.denoised.png").path))
    }

    @Test func compressDenoiseCodesTheCleanedImage() throws {
        let dir = CLI.scratch()
        let denoiser = try installDenoiser(in: dir)
        let codec = dir.appendingPathComponent("codec.vlatmodel").path
        let network = Autoencoder(config: AutoencoderConfig(objective: .rd, channels: 8, latentChannels: 6), seed: 1)
        try Data(CodecModel.export(network).serialized()).write(to: URL(fileURLWithPath: codec))
        let png = CLI.packageRoot.appendingPathComponent("Corpus/generated/edges_256x192.png").path
        let oneStep = dir.appendingPathComponent("a.vlat").path
        let r = try CLI.run(["compress", png, "-o", oneStep, "--model", codec, "--denoise", "--denoise-model", denoiser])
        #expect(r.status == 0 && r.stderr.contains("denoised first"), "\(r.stderr)")
        let cleaned = dir.appendingPathComponent("clean.png").path
        #expect(try CLI.run(["denoise", png, "-o", cleaned, "--model", denoiser]).status == 0)
        let twoSteps = dir.appendingPathComponent("b.vlat").path
        #expect(try CLI.run(["compress", cleaned, "-o", twoSteps, "--model", codec]).status == 0)
        #expect(try Container.parse(Array(Data(contentsOf: URL(fileURLWithPath: oneStep)))).payload
                == Container.parse(Array(Data(contentsOf: URL(fileURLWithPath: twoSteps)))).payload)
        #expect(try CLI.run(["compress", png, "--denoise-model", denoiser, "--model", codec]).status == 64)
    }
}
