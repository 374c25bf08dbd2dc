import Foundation
import Testing
import VlatTestSupport
@testable import VlatImageIO

/// EXIF, XMP and ICC through the PNG and JPEG readers and writers, and the EXIF orientation.
@Suite("Image metadata")
struct MetadataTests {
    /// A minimal EXIF block: IFD0 with one entry, the orientation.
    static func exif(orientation: UInt16, bigEndian: Bool = false) -> [UInt8] {
        func u16(_ v: UInt16) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: UInt32) -> [UInt8] { bigEndian ? (0..<4).reversed().map { UInt8(v >> (8 * $0) & 0xFF) } : (0..<4).map { UInt8(v >> (8 * $0) & 0xFF) } }
        return (bigEndian ? [0x4D, 0x4D] : [0x49, 0x49]) + u16(42) + u32(8) + u16(1)
            + u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0) + u32(0)
    }

    static let xmp = Array(#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>"#.utf8)

    /// 3 wide, 2 tall, every pixel distinct: pixel (x, y) has value 10 * y + x.
    static let small = Image(width: 3, height: 2, layout: .grey, pixels: [0, 1, 2, 10, 11, 12])

    @Test func pngAndJPEGCarryEXIFAndXMPAndICC() throws {
        var image = Image(width: 16, height: 8, layout: .rgb, pixels: (0..<384).map { UInt8($0 % 251) })
        image.exif = Self.exif(orientation: 1)
        image.xmp = Self.xmp
        image.iccProfile = [UInt8](repeating: 7, count: 300)
        for bytes in [try PNGCodec.encode(image), try JPEGCodec.encode(image, quality: 90)] {
            let back = try ImageFile.decode(bytes)
            #expect(back.exif == image.exif && back.xmp == image.xmp)
            #expect(back.iccProfile == image.iccProfile || back.source.droppedICCReason != nil)
        }
        // JPEG segments hold at most 64 KB: a larger XMP is refused with a message, not cut.
        image.xmp = [UInt8](repeating: 0x20, count: 70_000)
        #expect(throws: ImageIOError.self) { try JPEGCodec.encode(image, quality: 90) }
        let png = try ImageFile.decode(try PNGCodec.encode(image))
        #expect(png.xmp?.count == 70_000)
        // Byte for byte, even a NUL (libpng's text API would cut there; found by FuzzPNG).
        image.xmp = Array("<x:xmpmeta>".utf8) + [0] + Array("</x:xmpmeta>".utf8)
        #expect(try ImageFile.decode(try PNGCodec.encode(image)).xmp == image.xmp)
        #expect(try ImageFile.decode(try JPEGCodec.encode(image, quality: 90)).xmp == image.xmp)
        // EXIF that is not a valid TIFF structure is still carried as it came (libpng would drop
        // it on reading; found by libFuzzer through FuzzPNG).
        image.exif = Array("not TIFF".utf8) + [0, 1, 2]
        #expect(try ImageFile.decode(try PNGCodec.encode(image)).exif == image.exif)
    }

    @Test func orientationReadsFromBothByteOrdersAndIsSetInPlace() {
        for big in [false, true] {
            for o in 1...8 {
                let exif = Self.exif(orientation: UInt16(o), bigEndian: big)
                #expect(ExifOrientation.read(exif) == o)
                let upright = ExifOrientation.setting(exif, to: 1)
                #expect(ExifOrientation.read(upright) == 1 && upright.count == exif.count)
            }
            #expect(ExifOrientation.read(Self.exif(orientation: 9, bigEndian: big)) == nil)
        }
    }

    @Test func orientationsTurnThePixelsAsTheEXIFStandardSays() {
        // Known answers, from the standard's description of where the stored 0th row and 0th
        // column end up. Stored:   0  1  2
        //                         10 11 12
        let expected: [Int: (Int, Int, [UInt8])] = [
            1: (3, 2, [0, 1, 2, 10, 11, 12]),
            2: (3, 2, [2, 1, 0, 12, 11, 10]),          // mirrored left-right
            3: (3, 2, [12, 11, 10, 2, 1, 0]),          // turned 180
            4: (3, 2, [10, 11, 12, 0, 1, 2]),          // mirrored top-bottom
            5: (2, 3, [0, 10, 1, 11, 2, 12]),          // 0th row on the left, 0th column on top
            6: (2, 3, [10, 0, 11, 1, 12, 2]),          // 0th row on the right: turned clockwise
            7: (2, 3, [12, 2, 11, 1, 10, 0]),          // 0th row on the right, 0th column at the bottom
            8: (2, 3, [2, 12, 1, 11, 0, 10]),          // 0th row on the left: turned anticlockwise
        ]
        for (o, (w, h, pixels)) in expected {
            let turned = ExifOrientation.apply(o, to: Self.small)
            #expect(turned.width == w && turned.height == h && turned.pixels == pixels, "orientation \(o)")
        }
    }

    @Test func readingAJPEGWithOrientation6GivesUprightPixelsAndTag1() throws {
        var stored = Image(width: 24, height: 16, layout: .rgb, pixels: (0..<(24 * 16 * 3)).map { i in UInt8(i / 3 % 24 < 12 ? 40 : 220) })
        stored.exif = Self.exif(orientation: 6)
        let bytes = try JPEGCodec.encode(stored, quality: 95, subsampling: .s444)
        let upright = try ImageFile.decode(bytes)
        #expect(upright.width == 16 && upright.height == 24)
        #expect(ExifOrientation.read(upright.exif!) == 1 && upright.source.appliedOrientation == 6)
        // The stored left half (dark) is the top of the upright image.
        #expect(upright.pixels[0] < 100 && upright.pixels[(23 * 16) * 3] > 160)
        let raw = try ImageFile.decode(bytes, upright: false)
        #expect(raw.width == 24 && ExifOrientation.read(raw.exif!) == 6)
    }

    @Test func damagedEXIFNeverCrashesAndReadsAsNoOrientation() {
        var generator = SystemRandomNumberGenerator()
        let good = Self.exif(orientation: 6)
        for cut in 0..<good.count { _ = ExifOrientation.read(Array(good[0..<cut])) }
        for _ in 0..<2000 {
            var bytes = good
            for _ in 0..<3 { bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            if let o = ExifOrientation.read(bytes) { #expect((1...8).contains(o)) }
            _ = ExifOrientation.setting(bytes, to: 1)
        }
        // An IFD offset pointing past the end.
        var far = good
        far[4] = 0xFF
        #expect(ExifOrientation.read(far) == nil)
    }

    @Test func metadataSelectionParsesLikeCwebp() {
        #expect(MetadataSelection(parsing: "all") == .all && MetadataSelection(parsing: "none") == MetadataSelection.none)
        #expect(MetadataSelection(parsing: "icc,xmp") == [.icc, .xmp])
        for bad in ["", "icc,", "exif,gps", "ALL"] { #expect(MetadataSelection(parsing: bad) == nil, "\(bad)") }
        var image = Self.small
        (image.iccProfile, image.exif, image.xmp) = ([1], [2], [3])
        let kept = MetadataSelection.exif.apply(to: image)
        #expect(kept.iccProfile == nil && kept.exif == [2] && kept.xmp == nil)
    }

    @Test func aPNGICCProfileOverLibpngsDefaultLimitIsKept() throws {
        // libpng drops an iCCP over 8,000,000 bytes by default; vlat raises the ceiling to 16 MiB.
        // A syntactically valid profile (header, 'acsp', no tags) padded to 9 MB.
        let size = 9_000_000
        var profile = [UInt8](repeating: 0, count: size)
        for (i, b) in [UInt8(size >> 24 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)].enumerated() { profile[i] = b }
        profile[8] = 2; profile[9] = 0x10                                  // version 2.1
        for (offset, text) in [(12, "mntr"), (16, "RGB "), (20, "XYZ "), (36, "acsp")] {
            for (i, b) in text.utf8.enumerated() { profile[offset + i] = b }
        }
        // The D50 illuminant, s15Fixed16: 0.9642, 1.0, 0.8249.
        for (i, b) in [0x00, 0x00, 0xF6, 0xD6, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xD3, 0x2D].enumerated() { profile[68 + i] = UInt8(b) }
        var image = Image(width: 8, height: 8, layout: .rgb, pixels: [UInt8](repeating: 90, count: 192))
        image.iccProfile = profile
        let back = try PNGCodec.decode(try PNGCodec.encode(image))
        #expect(back.iccProfile == profile, "\(back.source.droppedICCReason ?? "no reason given")")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: TestPaths.sharedConformance("image-rs/test-images/jpg")),
                   "../shared/conformance not present; skipping image-rs's metadata JPEGs"))
    func imageRsMetadataJPEGs() throws {
        let dir = TestPaths.sharedConformance("image-rs/test-images/jpg")
        // portrait_2.jpg: orientation 2 (mirrored), a 1960-byte ICC profile.
        let raw = try ImageFile.read("\(dir)/portrait_2.jpg", upright: false)
        let upright = try ImageFile.read("\(dir)/portrait_2.jpg")
        #expect(ExifOrientation.read(raw.exif!) == 2 && upright.iccProfile?.count == 1960)
        #expect(upright.pixels == ExifOrientation.apply(2, to: raw).pixels)
        // exif-xmp-metadata.jpg: an XMP packet, no EXIF.
        let xmp = try ImageFile.read("\(dir)/exif-xmp-metadata.jpg")
        #expect(xmp.exif == nil && String(decoding: xmp.xmp ?? [], as: UTF8.self).contains("x:xmpmeta"))
    }
}
