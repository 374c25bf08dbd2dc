import Foundation
import Testing

@Suite("vlat bench")
struct BenchCommandTests {
    @Test func jpegSweepWritesEveryOutput() throws {
        let out = CLI.scratch().appendingPathComponent("bench")
        let r = try CLI.run(["bench", "Corpus/photos", "--codecs", "jpeg", "--jpeg-qualities", "20,50,80",
                             "--limit", "2", "--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        for name in ["results.csv", "summary.csv", "summary.md", "results.json", "psnr.svg", "msssim.svg"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), "\(name)")
        }
        let csv = try String(contentsOf: out.appendingPathComponent("results.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 1 + 2 * 3) // header + 2 images x 3 qualities
        let summary = try String(contentsOf: out.appendingPathComponent("summary.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        // Higher quality: more bits and higher PSNR.
        let bpp = summary.map { Double($0[3])! }, psnr = summary.map { Double($0[4])! }
        #expect(bpp == bpp.sorted() && psnr == psnr.sorted())
        let svg = try String(contentsOf: out.appendingPathComponent("psnr.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("polyline") && svg.contains(">jpeg<"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("results.json"))) as! [String: Any]
        #expect((json["records"] as! [Any]).count == 6)
        #expect(r.stdout.contains("| jpeg | 50 |"))
    }

    @Test func refusesToOverwriteResultsWithoutForce() throws {
        let out = CLI.scratch()
        try Data("old".utf8).write(to: out.appendingPathComponent("summary.csv"))
        let args = ["bench", "Corpus/photos/chelsea.png", "--codecs", "jpeg", "--jpeg-qualities", "50", "--out", out.path]
        let refused = try CLI.run(args)
        #expect(refused.status == 1 && refused.stderr.contains("already exists"))
        #expect(try String(contentsOf: out.appendingPathComponent("summary.csv"), encoding: .utf8) == "old")
        #expect(try CLI.run(args + ["--force"]).status == 0)
    }

    @Test func badInputsAreOneLineErrors() throws {
        let dir = CLI.scratch()
        try Data("not an image".utf8).write(to: dir.appendingPathComponent("fake.png"))
        let cases: [([String], Int32, String)] = [
            (["bench", dir.path, "--codecs", "jpeg", "--out", dir.appendingPathComponent("o").path], 1, "not a PNG or JPEG"),
            (["bench", dir.appendingPathComponent("nothing").path, "--codecs", "jpeg"], 1, "no PNG or JPEG images"),
            (["bench", "Corpus/photos", "--codecs", "gif"], 64, "unknown codec"),
            (["bench", "Corpus/photos", "--jpeg-qualities", "0,50"], 64, "1...100"),
            (["bench", "Corpus/photos", "--codecs", "vlat", "--vlat-analysis", "float16"], 64, "bfloat16"),
            (["bench", "Corpus/photos/chelsea.png", "--codecs", "jpeg", "--max-pixels", "1000", "--out", dir.appendingPathComponent("p").path], 1, "over the limit of 1000"),
        ]
        for (args, status, message) in cases {
            let r = try CLI.run(args)
            #expect(r.status == status, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(message), "\(r.stderr)")
        }
    }

    @Test func missingToolsAreSkippedWithANote() throws {
        // An empty PATH hides cwebp & co. whether or not they are installed.
        let out = CLI.scratch()
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["bench", "Corpus/photos/chelsea.png", "--codecs", "jpeg,webp", "--jpeg-qualities", "50", "--out", out.path]
        process.currentDirectoryURL = CLI.packageRoot
        process.environment = ["PATH": "/nonexistent"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.contains("webp: skipped, cwebp/dwebp not installed (apt-get install webp)"))
    }
}

@Suite("vlat bench-restore")
struct BenchRestoreCommandTests {
    @Test func writesTheTableWithQuotedResults() throws {
        // Small fixtures keep every filter quick in a debug build.
        let dir = CLI.scratch(), test = dir.appendingPathComponent("test"), tune = dir.appendingPathComponent("tune")
        for (folder, names) in [(test, ["size_17x9.png"]), (tune, ["png_rgb8.png", "gradient_256x192.png"])] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for name in names {
                try FileManager.default.copyItem(at: CLI.packageRoot.appendingPathComponent("Corpus/generated/\(name)"), to: folder.appendingPathComponent(name))
            }
        }
        let out = dir.appendingPathComponent("r").path
        let args = ["bench-restore", test.path, "--tune", tune.path, "--out", out]
        let r = try CLI.run(args)
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try String(contentsOfFile: out + "/summary.md", encoding: .utf8)
        #expect(summary.contains("| noise 25 | degraded input |") && summary.contains("Wiener (true kernel)"))
        #expect(summary.contains("CBM3D (quoted)"))
        // Redirected, the progress still prints (one line per step of this bench).
        #expect(r.stderr.contains("noise 25: degraded input"), "\(r.stderr)")
        #expect(try CLI.run(args).stderr.contains("already exists"))
    }
}
