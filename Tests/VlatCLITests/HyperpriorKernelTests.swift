import Foundation
import Testing
import VlatTestSupport
import VlatCodec
import VlatImageIO
import VlatModels
import VlatTensor

/// A hyperprior file's symbols are chosen by integer arithmetic, so a file encoded with one set
/// of OpenBLAS kernels decodes with another (the float transforms differ in their last bits,
/// which moves a decoded pixel by one level at most, and rarely).
@Suite("Hyperprior files across OpenBLAS kernels")
struct HyperpriorKernelTests {
    static func environment(_ coretype: String?) -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { $0.key != "OPENBLAS_CORETYPE" && $0.key != BLASKernelSelection.markerVariable }
        if let coretype { env["OPENBLAS_CORETYPE"] = coretype }
        return env
    }

    /// With and without a checkerboard context (coders 6 and 5).
    @Test(arguments: [false, true])
    func aFileEncodedWithOneKernelSetDecodesWithAnother(context: Bool) throws {
        let dir = CLI.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let net = MeanScaleHyperprior(config: HyperpriorConfig(channels: 8, latentChannels: 6, hyperChannels: 4, lambdas: [0.01, 0.1],
                                                              contextChannels: context ? 5 : nil), seed: 4)
        var g = SeededGenerator(seed: 3)
        for p in net.context?.head.layers[3].parameters ?? [] { for i in 0..<p.value.count { p.value.data[i] = (g.uniform() - 0.5) * 0.5 } }
        for i in 0..<net.gains.value.count { net.gains.value.data[i] = Float(3 + i % 3) / MeanScaleHyperprior.gainScale }
        let photo = CLI.packageRoot.appendingPathComponent("Corpus/photos/chelsea.png").path
        let model = dir.appendingPathComponent("hp.vlatmodel").path
        try Data(HyperpriorCodecModel.export(net, calibration: [ImageFile.read(photo)]).serialized()).write(to: URL(fileURLWithPath: model))
        // Prescott is SSE3 only: unlike any kernel set a modern CPU picks for itself.
        let sets: [String?] = [nil, "Prescott"]
        var decoded: [Image] = []
        for (encodeWith, decodeWith) in [(sets[0], sets[1]), (sets[1], sets[0]), (sets[0], sets[0])] {
            let file = dir.appendingPathComponent("x.vlat").path, out = dir.appendingPathComponent("x.png").path
            let c = try CLI.run(["compress", photo, "-o", file, "--model", model, "--quality", "1.5", "--force"], environment: Self.environment(encodeWith))
            #expect(c.status == 0, "\(c.stderr)")
            let d = try CLI.run(["decompress", file, "-o", out, "--model", model, "--force"], environment: Self.environment(decodeWith))
            #expect(d.status == 0, "\(d.stderr)")
            decoded.append(try ImageFile.read(out))
        }
        let reference = decoded[2]
        for image in decoded.prefix(2) {
            #expect(image.width == reference.width && image.height == reference.height)
            let differences = zip(image.pixels, reference.pixels).map { abs(Int($0) - Int($1)) }
            #expect(differences.max()! <= 2 && differences.filter { $0 > 0 }.count * 100 < differences.count, "\(differences.max()!)")
        }
    }
}
