import Foundation
import Testing
import VlatTestSupport
import VlatFormat
import VlatImageIO
import VlatModels
import VlatTensor
@testable import VlatCodec

enum CodecFixtures {
    static let root = TestPaths.packageRoot

    /// A small rate-distortion model with tables; untrained, which is enough to test the pipeline
    /// (its latents also exercise the escape path).
    static let modelBytes: [UInt8] = {
        let network = Autoencoder(config: AutoencoderConfig(objective: .rd, channels: 8, latentChannels: 6), seed: 11)
        return try! CodecModel.export(network).serialized()
    }()

    static func model(quality: UInt8 = 0) -> CodecModel { try! CodecModel(bytes: modelBytes, quality: quality) }

    static func image(_ name: String) -> Image {
        try! ImageFile.read(root.appendingPathComponent(name).path)
    }
}

@Suite("Image codec")
struct ImageCodecTests {
    /// What the decoder must produce: the network's reconstruction, cropped, clamped, rounded.
    func reference(_ image: Image, _ model: CodecModel) throws -> [UInt8] {
        let latent = try ImageCodec.latents(of: image, model: model)
        let y = TensorOps.crop(model.network.synthesis.forward(latent, training: false), height: image.height, width: image.width)
        let n = image.pixelCount
        return (0..<n).flatMap { i in (0..<3).map { c in UInt8((min(1, max(0, y.data[c * n + i])) * 255).rounded()) } }
    }

    @Test(arguments: ["Corpus/photos/chelsea.png", "Corpus/generated/size_17x9.png", "Corpus/generated/size_1x1.png",
                      "Corpus/generated/size_4097x3.png"])
    func everyCoderRoundTripsToTheNetworksReconstruction(path: String) throws {
        let model = CodecFixtures.model()
        let image = CodecFixtures.image(path)
        let expected = try reference(image, model)
        var decoded: [Image] = [], payloads: [CoderChoice: Container] = [:]
        for coder in CoderChoice.factorized {
            let container = try ImageCodec.encode(image, model: model, coder: coder)
            let back = try ImageCodec.decode(Container.parse(container.serialized()), model: model)
            #expect(back.width == image.width && back.height == image.height && back.layout == .rgb)
            #expect(back.pixels == expected, "\(coder)")
            decoded.append(back)
            payloads[coder] = container
        }
        #expect(decoded.allSatisfy { $0 == decoded[0] })
        // auto keeps the smallest payload (the first of equals, in the order rans, ctx, zstd) and
        // its header says which coder made it.
        let (auto, rans, ctx, zstd) = (payloads[.auto]!, payloads[.rans]!, payloads[.ctx]!, payloads[.zstd]!)
        #expect(rans.header.coder == .rans && ctx.header.coder == .ctx && zstd.header.coder == .zstd)
        let smallest = [rans, ctx, zstd].min { $0.payload.count < $1.payload.count }!
        #expect(auto.payload == smallest.payload && auto.header.coder == smallest.header.coder)
    }

    @Test func greyStaysGreyAlphaIsExactAndICCIsCarried() throws {
        let model = CodecFixtures.model()
        let grey = CodecFixtures.image("Corpus/generated/png_greyalpha8.png")
        let back = try ImageCodec.decode(Container.parse(ImageCodec.encode(grey, model: model).serialized()), model: model)
        #expect(back.layout == .greyAlpha)
        #expect(back.alphaPlane() == grey.alphaPlane())
        let rgba = CodecFixtures.image("Corpus/generated/png_palette8_trns.png")
        let back2 = try ImageCodec.decode(Container.parse(ImageCodec.encode(rgba, model: model).serialized()), model: model)
        #expect(back2.layout == .rgba && back2.alphaPlane() == rgba.alphaPlane())
        let icc = CodecFixtures.image("Corpus/generated/png_rgb8_icc.png")
        let container = try ImageCodec.encode(icc, model: model)
        #expect(container.header.sourceColorType == ImageSource.ColorType.rgb.rawValue)
        #expect(try ImageCodec.decode(Container.parse(container.serialized()), model: model).iccProfile == icc.iccProfile)
    }

    @Test func iccEXIFAndXMPAreCarriedCompressedAndVersion10RawICCStillReads() throws {
        let model = CodecFixtures.model()
        var image = CodecFixtures.image("Corpus/generated/png_rgb8_icc.png")
        let profile = try #require(image.iccProfile)
        image.exif = Array("MM\0\u{2A}".utf8) + [UInt8](repeating: 0, count: 400)
        image.xmp = Array(String(repeating: "<rdf:Description/>", count: 50).utf8)
        var container = try ImageCodec.encode(image, model: model)
        #expect(container.iccProfile == nil && container.compressedICC?.size == profile.count)
        #expect(container.exif!.data.count < 400 && container.xmp!.data.count < image.xmp!.count)
        let back = try ImageCodec.decode(Container.parse(container.serialized()), model: model)
        #expect(back.iccProfile == profile && back.exif == image.exif && back.xmp == image.xmp)
        // A version 1.0 file holds its profile raw in iccp.
        container.compressedICC = nil
        container.iccProfile = profile
        container.header.versionMinor = 0
        #expect(try ImageCodec.decode(Container.parse(container.serialized()), model: model).iccProfile == profile)
        // A compressed chunk that does not decompress to its declared size is an error.
        container.exif = .init(size: 401, data: container.exif!.data)
        #expect(throws: CodecError.self) { try ImageCodec.decode(Container.parse(container.serialized()), model: model) }
    }

    @Test func headerDescribesTheImageAndModel() throws {
        let model = CodecFixtures.model(quality: 3)
        let image = CodecFixtures.image("Corpus/photos/camera.png")
        let h = try ImageCodec.encode(image, model: model, coder: .zstd).header
        #expect(h.width == 512 && h.height == 512 && h.sourceColorType == 0 && h.sourceBitDepth == 8)
        #expect(h.quality == 3 && h.coder == .zstd && h.latentChannels == 6 && h.latentHeight == 32 && h.latentWidth == 32)
        #expect(h.modelDigest == ModelFile.digest(of: CodecFixtures.modelBytes))
    }

    @Test func anotherModelIsRefusedByDigest() throws {
        let other = try CodecModel(bytes: CodecModel.export(Autoencoder(config: AutoencoderConfig(objective: .rd, channels: 8, latentChannels: 6), seed: 12)).serialized())
        let container = try ImageCodec.encode(CodecFixtures.image("Corpus/generated/size_17x9.png"), model: CodecFixtures.model())
        #expect {
            try ImageCodec.decode(container, model: other)
        } throws: { error in
            guard case CodecError.wrongModel(let file, let given) = error else { return false }
            return file == SHA256.hex(CodecFixtures.model().digest) && given == SHA256.hex(other.digest)
        }
    }

    @Test func nonCodecModelsAreRefused() throws {
        let ae = Autoencoder(config: AutoencoderConfig(objective: .ae, channels: 4, latentChannels: 3), seed: 1).modelFile().serialized()
        #expect(throws: CodecError.self) { try CodecModel(bytes: ae) }
        let rdWithoutTables = Autoencoder(config: AutoencoderConfig(objective: .rd, channels: 4, latentChannels: 3), seed: 1).modelFile().serialized()
        #expect(throws: CodecError.missingTables) { try CodecModel(bytes: rdWithoutTables) }
    }

    @Test func damagedPayloadsAreErrors() throws {
        let model = CodecFixtures.model()
        let image = CodecFixtures.image("Corpus/photos/chelsea.png")
        for coder in CoderChoice.factorized {
            var container = try ImageCodec.encode(image, model: model, coder: coder)
            container.payload = Array(container.payload.prefix(container.payload.count / 2))
            #expect(throws: CodecError.self) { try ImageCodec.decode(container, model: model) }
        }
    }

    @Test func decodedPixelsAreIdenticalFor1And2Threads() throws {
        let model = CodecFixtures.model()
        let container = try ImageCodec.encode(CodecFixtures.image("Corpus/photos/coffee.png"), model: model)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let one = try ImageCodec.decode(container, model: model)
        Parallel.threads = 2
        let two = try ImageCodec.decode(container, model: model)
        #expect(one == two)
    }

    @Test func imagesWiderThanTheHeaderCanHoldAreRefused() throws {
        // 1048576 pixels wide would need a latent 65536 wide, over the header's u16.
        let wide = Image(width: 1 << 20, height: 1, layout: .grey, pixels: [UInt8](repeating: 7, count: 1 << 20))
        #expect(throws: CodecError.tooLarge(width: 1 << 20, height: 1)) { try ImageCodec.encode(wide, model: CodecFixtures.model()) }
    }

    @Test func latentPackingRoundTrips() throws {
        for values in [[Int32](), [0, -1, 1, 127, -128], [300, -40000, 5], [Int32.max, Int32.min, 0]] {
            #expect(try LatentPacking.unpack(LatentPacking.pack(values), count: values.count) == values)
        }
        #expect(throws: CodecError.self) { try LatentPacking.unpack([3, 1, 2], count: 2) }
    }
}

@Suite("Entropy tables in model files")
struct EntropyTablesTests {
    @Test func tablesSurviveTheModelFileExactly() throws {
        let network = Autoencoder(config: AutoencoderConfig(objective: .rd, channels: 4, latentChannels: 5), seed: 3)
        let tables = try network.prior!.quantizedTables()
        let file = try ModelFile.parse(CodecModel.export(network).serialized())
        #expect(try EntropyTables.read(file, channels: 5) == tables)
        #expect(throws: CodecError.self) { try EntropyTables.read(file, channels: 4) }
        #expect(try EntropyTables.readContextPriors(file, tables: tables) == nil)
    }

    @Test func contextPriorsAreFittedStoredAndUsedByTheContextCoder() throws {
        let network = Autoencoder(config: AutoencoderConfig(objective: .rd, channels: 8, latentChannels: 6), seed: 11)
        let photo = CodecFixtures.image("Corpus/photos/chelsea.png")
        let file = try CodecModel.export(network, contextPriors: CodecModel.fitContextPriors(network, on: [photo]))
        let model = try CodecModel(bytes: file.serialized())
        let plain = CodecFixtures.model()  // the same network without fitted priors
        let priors = try #require(model.contextPriors)
        #expect(plain.contextPriors == nil && model.tables == plain.tables)
        #expect(priors.counts.count == 6 * 16)
        // Counts survive the file exactly, and the context coder codes with them: another
        // image round-trips, and the photo they were fitted on takes fewer bytes than with
        // tables started from the prior.
        #expect(try EntropyTables.readContextPriors(file, tables: model.tables) == priors)
        let other = CodecFixtures.image("Corpus/generated/size_17x9.png")
        let back = try ImageCodec.decode(ImageCodec.encode(other, model: model, coder: .ctx), model: model)
        #expect(back.pixels == (try ImageCodec.decode(ImageCodec.encode(other, model: plain, coder: .ctx), model: plain)).pixels)
        #expect(try ImageCodec.encode(other, model: model, coder: .ctx).header.coder == .ctxFitted)
        #expect(try ImageCodec.encode(other, model: plain, coder: .ctx).header.coder == .ctx)
        let fitted = try ImageCodec.encode(photo, model: model, coder: .ctx).payload.count
        let unfitted = try ImageCodec.encode(photo, model: plain, coder: .ctx).payload.count
        #expect(fitted < unfitted, "\(fitted) vs \(unfitted)")
        // A damaged count tensor makes the model unusable, with a reason.
        for damage in [{ (v: inout [Float]) in v[3] = 0.5 }, { v in v.removeLast() }, { v in v[15] = 1e7 }] {
            var tensors = file.tensors
            let i = tensors.firstIndex { $0.name == EntropyTables.contextCountsName }!
            var values = tensors[i].values
            damage(&values)
            tensors[i] = .init(name: tensors[i].name, shape: [values.count], values: values)
            #expect(throws: CodecError.self) {
                try CodecModel(bytes: ModelFile(json: file.json, tensors: tensors).serialized())
            }
        }
    }
}

@Suite("Latent coders")
struct LatentCoderTests {
    /// Every factorized coder round-trips random latents (escapes included), names the header
    /// its files carry, and is what a file's header finds again.
    @Test func everyFactorizedCoderRoundTripsAndIsFoundByItsHeader() throws {
        let model = CodecFixtures.model()
        let c = model.network.config.latentChannels, h = 5, w = 7
        var g = SeededGenerator(seed: 4)
        let symbols = (0..<(c * h * w)).map { i -> Int32 in i % 17 == 0 ? Int32(Int(g.next() % 2001) - 1000) : Int32(Int(g.next() % 7) - 3) }
        let coders = FactorizedLatentCoder.coders(for: .auto, model: model)
        #expect(coders.map(\.header) == [.rans, model.contextPriors == nil ? .ctx : .ctxFitted, .zstd])
        for coder in coders {
            let payload = try coder.encode(symbols, channels: c, height: h, width: w)
            #expect(try coder.decode(payload, channels: c, height: h, width: w) == symbols, "\(coder.header)")
            let found = try #require(FactorizedLatentCoder.coder(for: coder.header, model: model))
            #expect(try found.decode(payload, channels: c, height: h, width: w) == symbols, "\(coder.header)")
            #expect(throws: (any Error).self) { try coder.decode(Array(payload.prefix(payload.count / 2)), channels: c, height: h, width: w) }
        }
        #expect(FactorizedLatentCoder.coders(for: .hyperprior, model: model).isEmpty)
        #expect(FactorizedLatentCoder.coder(for: .hyperprior, model: model) == nil)
    }
}
