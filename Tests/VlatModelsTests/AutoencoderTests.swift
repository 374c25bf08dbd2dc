import Testing
import VlatFormat
@testable import VlatModels
import VlatTensor

@Suite("Autoencoder and model files")
struct AutoencoderTests {
    @Test(arguments: Objective.allCases)
    func shapesAndRoundTripThroughAModelFile(objective: Objective) throws {
        let config = AutoencoderConfig(objective: objective, channels: 8, latentChannels: 6)
        let model = Autoencoder(config: config, seed: 42, metadata: ["note": "test"])
        var g = SeededGenerator(seed: 1)
        let x = Tensor(shape: [1, 3, 32, 48], data: (0..<(3 * 32 * 48)).map { _ in g.uniform() })
        let latent = model.analysis.forward(x, training: false)
        #expect(latent.shape == [1, objective == .vae ? 12 : 6, 2, 3])
        let y = model.reconstruct(x)
        #expect(y.shape == x.shape)

        let bytes = model.modelFile().serialized()
        let file = try ModelFile.parse(bytes)
        let loaded = try Autoencoder(modelFile: file)
        #expect(loaded.config == config && loaded.metadata == ["note": "test"])
        #expect(loaded.reconstruct(x) == y)
        // Deterministic: the same weights give the same digest.
        #expect(ModelFile.digest(of: model.modelFile().serialized()) == ModelFile.digest(of: bytes))
    }

    @Test func everyByteOfAModelFileIsCovered() throws {
        let bytes = Autoencoder(config: AutoencoderConfig(channels: 4, latentChannels: 3), seed: 1).modelFile().serialized()
        for i in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 300)) {
            var copy = bytes
            copy[i] ^= 0x40
            #expect(throws: ModelFileError.self) { try ModelFile.parse(copy) }
        }
        #expect(throws: ModelFileError.self) { try ModelFile.parse(Array(bytes.prefix(bytes.count - 1))) }
    }

    @Test func parameterCountMatchesTheBuiltNetwork() {
        for objective in Objective.allCases {
            let config = AutoencoderConfig(objective: objective, channels: 5, latentChannels: 4)
            let built = Autoencoder(config: config, seed: 1).parameters.reduce(0) { $0 + $1.value.count }
            #expect(built > 0)
            // Includes the rd prior's per-channel parameters: matrices 3+9+9+3, biases 3+3+3+1, factors 3+3+3.
            #expect(Autoencoder.parameterCount(config) == built)
        }
    }

    @Test func absurdArchitecturesAreRefusedBeforeBuilding() throws {
        // A tiny file whose JSON claims N = 100000: must be refused, not allocated.
        let small = Autoencoder(config: AutoencoderConfig(channels: 4, latentChannels: 3), seed: 1).modelFile()
        let huge = ModelFile(json: small.json.replacingOccurrences(of: "\"channels\":4", with: "\"channels\":100000"), tensors: small.tensors)
        #expect(huge.json != small.json)
        #expect(throws: ModelFileError.self) { try Autoencoder(modelFile: huge) }
        let claimsMore = ModelFile(json: small.json, tensors: Array(small.tensors.prefix(2)))
        #expect(throws: ModelFileError.self) { try Autoencoder(modelFile: claimsMore) }
    }

    @Test func anotherArchitectureIsRefused() throws {
        let small = Autoencoder(config: AutoencoderConfig(channels: 4, latentChannels: 3), seed: 1)
        let other = Autoencoder(config: AutoencoderConfig(channels: 5, latentChannels: 3), seed: 1)
        #expect(throws: ModelFileError.self) { try other.load(small.modelFile()) }
    }

    @Test func macCountOfTheReferenceArchitecture() {
        // Balle's N=128, M=192 net, by hand: conv 3*128*25/4 + GDN 128^2/4 + conv 128^2*25/16
        // + GDN 128^2/16 + conv 128^2*25/64 + GDN 128^2/64 + conv 128*192*25/256
        // = 2400 + 4096 + 25600 + 1024 + 6400 + 256 + 2400 = 42176 (DESIGN.md: "42 kMAC").
        let macs = AutoencoderConfig(channels: 128, latentChannels: 192).macsPerPixel
        #expect(macs.analysis == 42_176, "\(macs)")
        #expect(macs.synthesis == 42_176, "\(macs)")
    }
}
