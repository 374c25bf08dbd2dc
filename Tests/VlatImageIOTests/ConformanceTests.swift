import Foundation
import Testing
import VlatFormat
import VlatTestSupport
@testable import VlatImageIO

/// Other projects' decoder test files (`../shared/conformance/`): PngSuite against known answers
/// from an independent decoder, and JPEG edge cases read or refused in one line.
@Suite("Conformance suites")
struct ConformanceTests {
    struct Reference: Decodable {
        struct Entry: Decodable { var width: Int; var height: Int; var channels: Int; var sha256: String }
        var decoder: String
        var valid: [String: Entry]
        var corrupt: [String]
    }

    static let pngsuite = TestPaths.sharedConformance("pngsuite")
    static let present = FileManager.default.fileExists(atPath: pngsuite)

    /// Made by Scripts/pngsuite_reference.py with pypng, which shares no code with libpng.
    static func reference() throws -> Reference {
        let data = try Data(contentsOf: TestPaths.packageRoot.appendingPathComponent("Tests/VlatImageIOTests/pngsuite_reference.json"))
        return try JSONDecoder().decode(Reference.self, from: data)
    }

    @Test(.enabled(if: present, "../shared/conformance/pngsuite not present; skipping PngSuite"))
    func everyValidPngSuiteImageReadsAsAnIndependentDecoderReadsIt() throws {
        let reference = try Self.reference()
        #expect(reference.valid.count == 162)
        for (name, expected) in reference.valid.sorted(by: { $0.key < $1.key }) {
            let image = try ImageFile.read("\(Self.pngsuite)/\(name)", upright: false)
            #expect(image.width == expected.width && image.height == expected.height && image.layout.channels == expected.channels, "\(name)")
            #expect(SHA256.hex(SHA256.hash(image.pixels)) == expected.sha256, "\(name): samples differ from \(reference.decoder)")
            // And it writes back to the same samples.
            #expect(try PNGCodec.decode(PNGCodec.encode(image)).pixels == image.pixels, "\(name)")
        }
    }

    @Test(.enabled(if: present, "../shared/conformance/pngsuite not present; skipping PngSuite"))
    func theCorruptPngSuiteFilesAreRefusedInOneLine() throws {
        let reference = try Self.reference()
        #expect(reference.corrupt.count == 14)
        for name in reference.corrupt {
            do {
                _ = try ImageFile.read("\(Self.pngsuite)/\(name)")
                Issue.record("\(name) was read")
            } catch {
                let text = "\(error)"
                #expect(!text.isEmpty && !text.contains("\n"), "\(name): \(text)")
            }
        }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: TestPaths.sharedConformance("mozjpeg")), "../shared/conformance/mozjpeg not present"))
    func libjpegsOwnTestImagesAreReadOrRefusedClearly() throws {
        let dir = TestPaths.sharedConformance("mozjpeg")
        // testorig.jpg is libjpeg's reference image; the arithmetic-coded and integer-DCT
        // versions of it decode to nearly the same picture; the 12-bit file is refused.
        let original = try ImageFile.read("\(dir)/testorig.jpg")
        #expect(original.width == 227 && original.height == 149)
        for name in ["testimgari.jpg", "testimgint.jpg"] {
            let other = try ImageFile.read("\(dir)/\(name)")
            #expect(other.width == original.width && other.height == original.height)
            let meanDifference = zip(other.pixels, original.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) } / original.pixels.count
            #expect(meanDifference < 8, "\(name)")
        }
        #expect { try ImageFile.read("\(dir)/testorig12.jpg") } throws: { "\($0)".contains("12") || "\($0)".contains("bit") }
    }

    static let zuneEdgeCases = TestPaths.sharedConformance("zune/test-images/jpeg")

    @Test(.enabled(if: FileManager.default.fileExists(atPath: zuneEdgeCases), "../shared/conformance/zune/test-images/jpeg not present; skipping zune's JPEG edge cases"))
    func zunesJPEGEdgeCasesAreReadConsistentlyOrRefusedInOneLine() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.zuneEdgeCases).filter { $0.lowercased().hasSuffix(".jpg") || $0.lowercased().hasSuffix(".jpeg") }
        #expect(!names.isEmpty)
        for name in names.sorted() {
            let data = Array(try Data(contentsOf: URL(fileURLWithPath: "\(Self.zuneEdgeCases)/\(name)")))
            do {
                let image = try ImageFile.decode(data, limits: ImageLimits(maxPixels: 1 << 26), upright: false)
                // Read: the size the frame header declares, grey or RGB (CMYK converted), every sample there.
                let declared = try #require(ImageFile.dimensions(of: data), "\(name)")
                #expect(image.width == declared.width && image.height == declared.height, "\(name)")
                #expect([1, 3].contains(image.layout.channels) && image.pixels.count == image.pixelCount * image.layout.channels, "\(name)")
            } catch {
                #expect(!"\(error)".isEmpty && !"\(error)".contains("\n"), "\(name): \(error)")
            }
        }
    }
}
