import Foundation
import Testing
import VlatCodec
import VlatFormat
import VlatModels

@Suite("model registry")
struct ModelRegistryTests {
    func folder(with names: [String: UInt64]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vlat-registry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, seed) in names {
            let network = Autoencoder(config: AutoencoderConfig(objective: .rd, channels: 4, latentChannels: 3), seed: seed)
            try Data(CodecModel.export(network).serialized()).write(to: dir.appendingPathComponent(name))
        }
        return dir.path
    }

    @Test func findsLevelsAndDigestsInSearchOrder() throws {
        let first = try folder(with: ["q2.vlatmodel": 1, "other.vlatmodel": 2])
        let second = try folder(with: ["q2.vlatmodel": 3, "q5.vlatmodel": 4, "q9.vlatmodel": 5])
        let registry = ModelRegistry(folders: [first, second], environment: [:], includeShipped: false)
        // q9 is no level (1...8): found only by digest.
        #expect(registry.qualities == [2, 5])
        // The first folder wins for a level.
        let q2 = try registry.model(quality: 2.0)
        let firstQ2 = try CodecModel(bytes: Array(Data(contentsOf: URL(fileURLWithPath: first + "/q2.vlatmodel"))))
        #expect(q2.digest == firstQ2.digest && q2.quality == 2)
        // Any model is found by digest, from either folder.
        let other = try CodecModel(bytes: Array(Data(contentsOf: URL(fileURLWithPath: first + "/other.vlatmodel"))))
        #expect(try registry.model(digest: other.digest).quality == 0)
        let q9 = try CodecModel(bytes: Array(Data(contentsOf: URL(fileURLWithPath: second + "/q9.vlatmodel"))))
        #expect(try registry.model(digest: q9.digest).digest == q9.digest)
    }

    @Test func theInstalledModelsAreFoundFromTheExecutablesPlace() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("vlat-registry-\(UUID().uuidString)")
        let exe = root.appendingPathComponent("bin/vlat")
        let installed = root.appendingPathComponent("share/vlat/models").path
        let built = root.appendingPathComponent("bin/vlat_VlatCodec.resources/Models").path
        // Neither exists: the install location, so that the error names it.
        #expect(ModelRegistry.shippedFolder(executable: exe) == installed)
        try FileManager.default.createDirectory(atPath: built, withIntermediateDirectories: true)
        #expect(ModelRegistry.shippedFolder(executable: exe) == built)
        try FileManager.default.createDirectory(atPath: installed, withIntermediateDirectories: true)
        #expect(ModelRegistry.shippedFolder(executable: exe) == installed)
    }

    @Test func missingModelsAreNamed() throws {
        let dir = try folder(with: ["q3.vlatmodel": 1])
        let registry = ModelRegistry(folders: [dir], environment: ["VLAT_MODELS": "/nonexistent/a:/nonexistent/b"], includeShipped: false)
        #expect(registry.folders == [dir, "/nonexistent/a", "/nonexistent/b"])
        #expect(throws: RegistryError.noQuality(5, searched: registry.folders)) { try registry.model(quality: 5.0) }
        let digest = [UInt8](repeating: 0xab, count: 32)
        #expect(throws: RegistryError.noDenoiser(searched: registry.folders)) { try registry.denoiser() }
        let error = #expect(throws: RegistryError.self) { try registry.model(digest: digest) }
        #expect("\(error!)".contains("needs model sha256:" + String(repeating: "ab", count: 32)))
    }

    @Test func aVariableRateModelServesEveryQualityFirstInSearchOrder() throws {
        let first = try folder(with: ["q2.vlatmodel": 1])
        try Data(HyperpriorFixtures.modelBytes).write(to: URL(fileURLWithPath: first + "/" + ModelRegistry.variableRateName))
        let second = try folder(with: ["q5.vlatmodel": 4])
        let registry = ModelRegistry(folders: [second, first], environment: [:], includeShipped: false)
        #expect(registry.qualities == Array(1...8))
        // q5 comes first in search order; 2.5 and 2 only the variable-rate model serves (the
        // fixture has 3 levels: above 3 it serves its top level with the detail layer).
        #expect(try registry.model(quality: 5.0).hyperprior == nil)
        let mid = try registry.model(quality: 2.5)
        #expect(mid.hyperprior != nil && mid.hyperpriorQuality == 2.5)
        #expect(try registry.model(quality: 2.0).hyperprior != nil)
        let above = try ModelRegistry(folders: [first], environment: [:], includeShipped: false).model(quality: 4.0)
        #expect(above.hyperpriorLevel == 3 && above.detailStep != nil)
        let single = ModelRegistry(folders: [second], environment: [:], includeShipped: false)
        #expect(throws: RegistryError.noQuality(2.5, searched: single.folders)) { try single.model(quality: 2.5) }
    }
}
