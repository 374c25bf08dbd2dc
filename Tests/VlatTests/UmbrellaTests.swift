import Foundation
import Testing
import Vlat

/// The README's "Using vlat from Swift" example, through the one import users write.
@Suite("import Vlat")
struct UmbrellaTests {
    @Test func theReadmeExampleRunsThroughOneImport() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let model = try ModelRegistry(folders: []).model(quality: 4)
        let image = try ImageFile.read(root.appendingPathComponent("Corpus/photos/chelsea.png").path)
        let bytes = try ImageCodec.encode(image, model: model).serialized()
        let restored = try ImageCodec.decode(Container.parse(bytes), model: model)
        #expect(restored.width == image.width && restored.height == image.height)
        let psnr = try PSNR.compute(reference: image, distorted: restored)
        #expect(psnr.rgb > 25, "\(psnr.rgb)")
    }
}
