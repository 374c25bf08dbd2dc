import Foundation
import Testing
import VlatCodec
import VlatFormat
import VlatImageIO
import VlatModels

/// The round trips and conventions a new user meets first: default output names that never
/// land on the original, output formats, recursion, -q, --quiet/--verbose, and clear messages
/// for typos and bad values.
@Suite("Everyday use")
struct EverydayUseTests {
    static let photo = CLI.packageRoot.appendingPathComponent("Corpus/generated/gradient_256x192.png").path

    /// A small untrained rate-distortion model written to `dir`.
    func tinyModel(in dir: URL) throws -> String {
        let network = Autoencoder(config: AutoencoderConfig(objective: .rd, channels: 8, latentChannels: 6), seed: 3)
        let path = dir.appendingPathComponent("tiny.vlatmodel").path
        try Data(CodecModel.export(network).serialized()).write(to: URL(fileURLWithPath: path))
        return path
    }

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }
    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    @Test func aRoundTripWithoutFlagsNeverTouchesTheOriginal() throws {
        let dir = CLI.scratch()
        let original = dir.appendingPathComponent("photo.png").path
        try FileManager.default.copyItem(atPath: Self.photo, toPath: original)
        let before = try bytes(original)
        let c = try CLI.run(["compress", "photo.png"], in: dir)
        #expect(c.status == 0, "\(c.stderr)")
        let d = try CLI.run(["decompress", "photo.vlat"], in: dir)
        #expect(d.status == 0 && d.stderr.contains("photo.vlat -> photo.decoded.png"), "\(d.stderr)")
        let decoded = try ImageFile.read(dir.appendingPathComponent("photo.decoded.png").path)
        #expect(decoded.width == 256 && decoded.height == 192)
        // Again: the decode exists, so it is refused; --force replaces the decode, not the photo.
        let again = try CLI.run(["decompress", "photo.vlat"], in: dir)
        #expect(again.status == 1 && again.stderr.contains("photo.decoded.png: already exists"))
        #expect(try CLI.run(["decompress", "photo.vlat", "--force"], in: dir).status == 0)
        #expect(try bytes(original) == before)
    }

    @Test func foldersRoundTripRecursivelyAndKeepTheirSubfolders() throws {
        let dir = CLI.scratch()
        let model = try tinyModel(in: dir)
        let album = dir.appendingPathComponent("album"), sub = album.appendingPathComponent("2026")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        for (folder, name) in [(album, "a.png"), (sub, "b.png")] {
            try FileManager.default.copyItem(atPath: Self.photo, toPath: folder.appendingPathComponent(name).path)
        }
        let before = try bytes(sub.appendingPathComponent("b.png").path)
        // Without -r the subfolder is skipped, and said so.
        let flat = try CLI.run(["compress", "album", "--model", model], in: dir)
        #expect(flat.status == 0 && flat.stderr.contains("1 subfolder skipped (use -r"), "\(flat.stderr)")
        #expect(exists(album.appendingPathComponent("a.vlat").path) && !exists(sub.appendingPathComponent("b.vlat").path))
        // With -r into an output folder, the tree is kept; a folder of one file still gives a folder.
        let deep = try CLI.run(["compress", "album", "-r", "-o", "packed", "--model", model], in: dir)
        #expect(deep.status == 0, "\(deep.stderr)")
        let packed = dir.appendingPathComponent("packed")
        #expect(exists(packed.appendingPathComponent("a.vlat").path) && exists(packed.appendingPathComponent("2026/b.vlat").path))
        let back = try CLI.run(["decompress", "packed", "-r", "--model", model], in: dir)
        #expect(back.status == 0, "\(back.stderr)")
        #expect(exists(packed.appendingPathComponent("2026/b.decoded.png").path))
        #expect(try bytes(sub.appendingPathComponent("b.png").path) == before)
        let one = try CLI.run(["compress", "packed/2026", "-o", "single", "--model", model, "--format", "png"], in: dir)
        #expect(one.status == 64) // --format is decompress's
        let lone = dir.appendingPathComponent("lone")
        try FileManager.default.createDirectory(at: lone, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.photo, toPath: lone.appendingPathComponent("c.png").path)
        #expect(try CLI.run(["compress", "lone", "-o", "single", "--model", model], in: dir).status == 0)
        #expect(exists(dir.appendingPathComponent("single/c.vlat").path))
    }

    @Test func outputsAreWrittenInTheFormatTheirNameSaysOrRefused() throws {
        let dir = CLI.scratch()
        let model = try tinyModel(in: dir)
        #expect(try CLI.run(["compress", Self.photo, "-o", dir.appendingPathComponent("p.vlat").path, "--model", model]).status == 0)
        let vlat = dir.appendingPathComponent("p.vlat").path
        // compress will not write a .vlat under an image's name.
        let asImage = try CLI.run(["compress", Self.photo, "-o", dir.appendingPathComponent("out.png").path, "--model", model])
        #expect(asImage.status == 1 && asImage.stderr.contains("compress writes .vlat files, not .png"))
        #expect(!exists(dir.appendingPathComponent("out.png").path))
        // decompress writes PNG or JPEG and refuses other image names.
        let webp = try CLI.run(["decompress", vlat, "-o", dir.appendingPathComponent("x.webp").path, "--model", model])
        #expect(webp.status == 1 && webp.stderr.contains("vlat writes PNG (.png) or JPEG (.jpg, .jpeg), not .webp"))
        #expect(!exists(dir.appendingPathComponent("x.webp").path))
        var sizes: [Int] = []
        for quality in ["40", "95"] {
            let out = dir.appendingPathComponent("q\(quality).jpg").path
            let r = try CLI.run(["decompress", vlat, "-o", out, "--jpeg-quality", quality, "--model", model])
            #expect(r.status == 0, "\(r.stderr)")
            let data = try [UInt8](bytes(out))
            #expect(ImageFile.sniff(data) == "JPEG")
            sizes.append(data.count)
        }
        #expect(sizes[0] < sizes[1])
        // --format jpeg names default outputs .decoded.jpg; a name that disagrees is refused.
        let byFormat = try CLI.run(["decompress", vlat, "--format", "jpeg", "--model", model])
        #expect(byFormat.status == 0, "\(byFormat.stderr)")
        let defaultJPEG = try [UInt8](bytes(dir.appendingPathComponent("p.decoded.jpg").path))
        #expect(ImageFile.sniff(defaultJPEG) == "JPEG")
        let clash = try CLI.run(["decompress", vlat, "-o", dir.appendingPathComponent("c.png").path, "--format", "jpeg", "--model", model])
        #expect(clash.status == 1 && clash.stderr.contains("the name says png but --format is jpeg"))
        #expect(try CLI.run(["decompress", vlat, "--jpeg-quality", "0", "--model", model]).stderr.contains("--jpeg-quality must be in 1...100"))
    }

    @Test func shortQualityQuietAndVerbose() throws {
        let dir = CLI.scratch()
        let a = dir.appendingPathComponent("a.vlat").path, b = dir.appendingPathComponent("b.vlat").path
        let long = try CLI.run(["compress", Self.photo, "-o", a, "--quality", "2"])
        let short = try CLI.run(["compress", Self.photo, "-o", b, "-q", "2", "--quiet"])
        #expect(long.status == 0 && short.status == 0, "\(long.stderr)\(short.stderr)")
        #expect(try bytes(a) == bytes(b))
        #expect(long.stderr.contains("->") && short.stderr.isEmpty)
        let verbose = try CLI.run(["decompress", a, "-o", dir.appendingPathComponent("a.png").path, "--verbose"])
        #expect(verbose.status == 0 && verbose.stderr.contains("model sha256:"), "\(verbose.stderr)")
        #expect(try CLI.run(["decompress", a, "--quiet", "--verbose"]).stderr.contains("give one of --quiet and --verbose"))
    }

    @Test func badValuesAndTyposGetAccurateMessages() throws {
        let negative = try CLI.run(["compress", Self.photo, "--target-bpp", "-1"])
        #expect(negative.status == 64 && negative.stderr.contains("--target-bpp must be in (0, 64]"), "\(negative.stderr)")
        let quality = try CLI.run(["compress", Self.photo, "-q", "-2"])
        #expect(quality.status == 64 && quality.stderr.contains("--quality must be in 1...8"), "\(quality.stderr)")
        let typo = try CLI.run(["compres", Self.photo])
        #expect(typo.status == 64 && typo.stderr.contains("did you mean 'compress'?"), "\(typo.stderr)")
        let unknown = try CLI.run(["zzzzzz"])
        #expect(unknown.status == 64 && unknown.stderr.contains("the commands are compress, decompress"))
        let help = try CLI.run(["--help"])
        #expect(help.stdout.contains("vlat compress photo.png") && help.stdout.contains("vlat decompress photo.vlat"))
    }

    @Test func aSidewaysPhoneJPEGComesBackUprightWithItsMetadata() throws {
        let dir = CLI.scratch()
        // Stored 48 wide and 32 tall, dark on the left; EXIF orientation 6 (turn clockwise).
        var stored = Image(width: 48, height: 32, layout: .rgb, pixels: (0..<(48 * 32 * 3)).map { i in UInt8(i / 3 % 48 < 24 ? 30 : 220) })
        let tiff: [UInt8] = [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]
        stored.exif = tiff
        stored.xmp = Array(#"<x:xmpmeta xmlns:x="adobe:ns:meta/"/>"#.utf8)
        let photo = dir.appendingPathComponent("phone.jpg").path
        try Data(JPEGCodec.encode(stored, quality: 95)).write(to: URL(fileURLWithPath: photo))
        #expect(try CLI.run(["compress", photo, "-q", "3"]).status == 0)
        let info = try CLI.run(["info", dir.appendingPathComponent("phone.vlat").path])
        #expect(info.stdout.contains("exif            26 bytes") && info.stdout.contains("xmp             \(stored.xmp!.count) bytes"), "\(info.stdout)")
        #expect(try CLI.run(["decompress", dir.appendingPathComponent("phone.vlat").path]).status == 0)
        let back = try ImageFile.read(dir.appendingPathComponent("phone.decoded.png").path, upright: false)
        #expect(back.width == 32 && back.height == 48)
        #expect(back.exif.flatMap(ExifOrientation.read) == 1 && back.xmp == stored.xmp)
        // --metadata none keeps none of it (and the pixels stay upright); a bad value is named.
        let bare = dir.appendingPathComponent("bare.vlat").path
        #expect(try CLI.run(["compress", photo, "-o", bare, "--metadata", "none"]).status == 0)
        let bareInfo = try CLI.run(["info", bare]).stdout
        #expect(bareInfo.contains("exif            none") && bareInfo.contains("xmp             none") && bareInfo.contains("32 x 48"))
        let bad = try CLI.run(["compress", photo, "-o", bare, "--metadata", "gps", "--force"])
        #expect(bad.status == 64 && bad.stderr.contains("--metadata"), "\(bad.stderr)")
    }

    @Test func memoryIsCheckedFromTheHeaderAndEndlessInputsAreRefusedAtOnce() throws {
        let dir = CLI.scratch()
        // A 16383 x 16383 16-bit RGBA PNG header with a token IDAT: decoding it would take GiBs.
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return be32(UInt32(data.count)) + body + be32(CRC32.checksum(body))
        }
        let png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", be32(16383) + be32(16383) + [16, 6, 0, 0, 0])
            + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) + chunk("IEND", [])
        let huge = dir.appendingPathComponent("huge.png").path
        try Data(png).write(to: URL(fileURLWithPath: huge))
        let r = try CLI.run(["compress", huge, "--max-memory", "100", "-q", "1"])
        #expect(r.status == 1 && r.stderr.contains("needs about") && r.stderr.contains("over the limit of 100 MiB"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("huge.vlat").path))
        // /dev/zero is refused from its first bytes, not read to the 1 GiB input limit.
        let zero = try CLI.run(["compress", "/dev/zero", "-o", dir.appendingPathComponent("z.vlat").path])
        #expect(zero.status == 1 && zero.stderr.contains("/dev/zero") && zero.stderr.split(separator: "\n").count == 1, "\(zero.stderr)")
        let notVlat = try CLI.run(["decompress", "/dev/zero", "-o", dir.appendingPathComponent("z.png").path])
        #expect(notVlat.status == 1 && notVlat.stderr.contains("not a .vlat file"), "\(notVlat.stderr)")
    }

    @Test func killingACommandLeavesNoTemporaryFileAndNoPartialOutput() throws {
        let dir = CLI.scratch()
        let photo = CLI.packageRoot.appendingPathComponent("Corpus/photos/chelsea.png").path
        // Signals at staggered moments: before, during and after the write.
        for (i, delay) in [0.1, 0.4, 0.8, 1.2].enumerated() {
            for sig in [SIGTERM, SIGINT] {
                let out = dir.appendingPathComponent("k\(i)-\(sig).vlat").path
                let process = Process()
                process.executableURL = CLI.executable
                process.arguments = ["compress", photo, "-o", out, "-q", "2"]
                process.standardError = FileHandle.nullDevice
                try process.run()
                Thread.sleep(forTimeInterval: delay)
                kill(process.processIdentifier, sig)
                process.waitUntilExit()
                // Either it finished (a whole file) or it died of the signal (no file).
                if FileManager.default.fileExists(atPath: out) {
                    #expect(process.terminationStatus == 0 && process.terminationReason == .exit)
                    #expect((try? Container.parse(Array(Data(contentsOf: URL(fileURLWithPath: out))))) != nil)
                } else {
                    #expect(process.terminationReason == .uncaughtSignal)
                }
            }
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".vlat-tmp") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "script(1) not installed: no terminal to test the status line on"))
    func longWorkShowsAStatusLineOnATerminalOnly() throws {
        let dir = CLI.scratch()
        let photo = CLI.packageRoot.appendingPathComponent("Corpus/photos/chelsea.png").path
        let arguments = ["compress", photo, "-q", "8", "--refine", "2"]
        // On a terminal (script(1) gives the command one), the line appears after a second.
        let command = ([CLI.executable.path] + arguments + ["-o", dir.appendingPathComponent("t.vlat").path]).joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, "/dev/null"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let terminal = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(terminal.contains("chelsea.png · ") && terminal.contains("\r\u{1B}[K"), "\(terminal.suffix(300))")
        // Not on a pipe.
        let piped = try CLI.run(arguments + ["-o", dir.appendingPathComponent("p.vlat").path])
        #expect(piped.status == 0 && !piped.stderr.contains("\r") && !piped.stderr.contains(" · "))
    }
}
