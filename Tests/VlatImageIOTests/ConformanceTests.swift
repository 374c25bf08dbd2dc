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

    struct JPEGReference: Decodable {
        struct File: Decodable {
            var file_sha256: String
            var width: Int?, height: Int?, channels: Int?, sha256: String?, sha256_every_13th: String?, error: String?
        }
        var decoder: String
        var files: [String: File]
    }

    /// Every zune edge case against Scripts/zune_jpeg_reference.py's record (Pillow, its own
    /// libjpeg-turbo and colour conversion, then vlat's documented CMYK formula): what Pillow
    /// reads, vlat reads to the same samples, or refuses in one line; what Pillow refuses (a
    /// truncated file), vlat refuses too. Never a different picture.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: zuneEdgeCases), "../shared/conformance/zune/test-images/jpeg not present; skipping zune's JPEG edge cases"))
    func zunesJPEGEdgeCasesReadAsAnIndependentDecoderReadsThem() throws {
        let data = try Data(contentsOf: TestPaths.packageRoot.appendingPathComponent("Tests/VlatImageIOTests/zune_jpeg_reference.json"))
        let reference = try JSONDecoder().decode(JPEGReference.self, from: data)
        #expect(reference.files.count == 22)
        var compared = 0
        for (name, expected) in reference.files.sorted(by: { $0.key < $1.key }) {
            let path = "\(Self.zuneEdgeCases)/\(name)"
            guard let bytes = try? Array(Data(contentsOf: URL(fileURLWithPath: path))),
                  SHA256.hex(SHA256.hash(bytes)) == expected.file_sha256 else { continue }  // another copy of the suite
            compared += 1
            let image: Image
            do { image = try ImageFile.decode(bytes, limits: ImageLimits(maxPixels: 1 << 26), upright: false) } catch {
                #expect(!"\(error)".isEmpty && !"\(error)".contains("\n"), "\(name): \(error)")
                continue
            }
            guard let sha = expected.sha256 else {
                Issue.record("\(name) was read, but \(reference.decoder) refuses it: \(expected.error ?? "")")
                continue
            }
            #expect(image.width == expected.width && image.height == expected.height && image.layout.channels == expected.channels, "\(name)")
            // Every sample of the smaller images; every 13th of the largest (hashing 100 MB is slow in a debug build).
            if image.pixels.count <= 1 << 22 {
                #expect(SHA256.hex(SHA256.hash(image.pixels)) == sha, "\(name): samples differ from \(reference.decoder)'s")
            } else {
                let sampled = stride(from: 0, to: image.pixels.count, by: 13).map { image.pixels[$0] }
                #expect(SHA256.hex(SHA256.hash(sampled)) == expected.sha256_every_13th, "\(name): samples differ from \(reference.decoder)'s")
            }
        }
        #expect(compared > 0, "no file of the record matched the shared copy")
    }

}
