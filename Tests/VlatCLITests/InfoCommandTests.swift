import Foundation
import Testing
import VlatFormat
import VlatTensor

@Suite("vlat info")
struct InfoCommandTests {
    func makeFile(_ dir: URL, name: String = "a.vlat") throws -> String {
        let header = ContainerHeader(width: 100, height: 70, sourceColorType: 0, sourceBitDepth: 16, quality: 3, coder: .zstd,
                                     paddingMultiple: 16, latentChannels: 8, latentHeight: 5, latentWidth: 7,
                                     modelDigest: SHA256.hash(Array("m".utf8)))
        // 8 signature + 68 HEAD + 15 iccp + 15 alph + 112 DATA + 12 TAIL = 230 bytes.
        let c = Container(header: header, iccProfile: [1, 2, 3], alpha: .init(data: [9, 9]), payload: [UInt8](repeating: 5, count: 100))
        let path = dir.appendingPathComponent(name).path
        try Data(c.serialized()).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func printsEveryHeaderField() throws {
        let dir = CLI.scratch()
        let path = try makeFile(dir)
        let r = try CLI.run(["info", path])
        #expect(r.status == 0)
        for fragment in ["format version  1.2", "100 x 70, source grey 16-bit", "112 x 80 (multiple of 16",
                         "8 x 5 x 7 (downsampling 16)", "3 of 8", "entropy coder   zstd",
                         SHA256.hex(SHA256.hash(Array("m".utf8))), "icc profile     3 bytes", "alpha           2 bytes",
                         "payload         100 bytes", "file size       230 bytes", "bits per pixel  0.2629"] {
            #expect(r.stdout.contains(fragment), "missing: \(fragment)\n\(r.stdout)")
        }
    }

    @Test func json() throws {
        let dir = CLI.scratch()
        let path = try makeFile(dir)
        let r = try CLI.run(["info", "--json", path])
        #expect(r.status == 0)
        let parsed = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
        #expect(parsed.count == 1)
        #expect(parsed[0]["width"] as? Int == 100 && parsed[0]["coder"] as? String == "zstd")
        #expect(parsed[0]["fileBytes"] as? Int == 230 && parsed[0]["latentChannels"] as? Int == 8)
    }

    @Test func corruptTruncatedAndForeignFilesGiveOneLineAndStatus1() throws {
        let dir = CLI.scratch()
        let path = try makeFile(dir)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let truncated = dir.appendingPathComponent("t.vlat").path
        try bytes.prefix(bytes.count - 5).write(to: URL(fileURLWithPath: truncated))
        bytes[40] ^= 0x10
        let flipped = dir.appendingPathComponent("f.vlat").path
        try bytes.write(to: URL(fileURLWithPath: flipped))
        let png = CLI.packageRoot.appendingPathComponent("Corpus/photos/chelsea.png").path
        let cases = [(truncated, "truncated"), (flipped, "checksum mismatch"), (png, "not a .vlat file"),
                     (dir.appendingPathComponent("missing.vlat").path, "no such file"), (dir.path, "is a directory")]
        for (file, message) in cases {
            let r = try CLI.run(["info", file])
            #expect(r.status == 1, "\(file)")
            #expect(r.stderr.contains(message) && r.stderr.contains(file), "\(r.stderr)")
            #expect(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1, "\(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }

    @Test func modelInfoKeepsLongKeysApartFromTheirValues() throws {
        let r = try CLI.run(["info", CLI.packageRoot.appendingPathComponent("Sources/VlatCodec/Models/denoise.vlatmodel").path])
        #expect(r.status == 0, "\(r.stderr)")
        // Once, the 19-letter key ran into its value ("validationInputPSN22.349").
        #expect(r.stdout.contains("validationInputPSNR  "), "\(r.stdout)")
        // Every value starts in the same column, after a gap of at least two spaces.
        let valueColumns = r.stdout.split(separator: "\n").dropFirst().map { row -> Int in
            let body = Array(row.dropFirst(2))
            guard let gap = body.indices.first(where: { $0 + 1 < body.count && body[$0] == " " && body[$0 + 1] == " " }) else { return -1 }
            return body[gap...].firstIndex(where: { $0 != " " }) ?? -1
        }
        #expect(!valueColumns.contains(-1) && Set(valueColumns).count == 1, "\(r.stdout)")
    }

    @Test func usageErrorsExit64() throws {
        #expect(try CLI.run(["info"]).status == 64)
        #expect(try CLI.run(["no-such-command"]).status == 64)
        #expect(try CLI.run(["bench", "Corpus/photos", "--limit", "0"]).status == 64)
        let coder = try CLI.run(["compress", "Corpus/photos/chelsea.png", "--coder", "lzma"])
        #expect(coder.status == 64 && coder.stderr.contains("'auto', 'rans', 'ctx', 'zstd' or 'hyperprior'"), "\(coder.stderr)")
    }

    @Test func helpHasExamples() throws {
        for command in [["--help"], ["info", "--help"], ["bench", "--help"]] {
            let r = try CLI.run(command)
            #expect(r.status == 0 && r.stdout.contains("Examples:"))
        }
    }
}

@Suite("vlat and OpenBLAS's kernels")
struct KernelSelectionCLITests {
    /// The environment without OPENBLAS_CORETYPE or the restart's marker.
    var plainEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.filter { $0.key != "OPENBLAS_CORETYPE" && $0.key != BLASKernelSelection.markerVariable }
    }

    func kernels(_ versionLine: String) -> String? {
        guard let r = versionLine.range(of: "OpenBLAS kernels: ") else { return nil }
        return String(versionLine[r.upperBound...].prefix { $0 != ")" })
    }

    @Test func runsKernelsAtTheCPUsLevel() throws {
        let r = try CLI.run(["--version"], environment: plainEnvironment)
        #expect(r.status == 0)
        let name = try #require(kernels(r.stdout), "no kernel name in: \(r.stdout)")
        // Where OpenBLAS falls back below the CPU (an unknown model number), vlat restarts itself
        // with a matching set; on any machine the set it runs is at least the CPU's level.
        let cpu = BLASKernelSelection.level(ofCPUFlags: BLASKernelSelection.cpuFlags())
        #expect(BLASKernelSelection.level(ofKernelSet: name) >= cpu, "kernels \(name) below the CPU's \(cpu)")
    }

    @Test func keepsTheUsersChoice() throws {
        var env = plainEnvironment
        env["OPENBLAS_CORETYPE"] = "Prescott"
        let r = try CLI.run(["--version"], environment: env)
        #expect(r.status == 0)
        #expect(kernels(r.stdout) == "Prescott", "\(r.stdout)")
    }
}

@Suite("Writing to standard output")
struct StandardOutputTests {
    /// Runs vlat with standard output on `output` and returns its exit status and standard error.
    func run(_ arguments: [String], output: FileHandle) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = arguments
        process.currentDirectoryURL = CLI.packageRoot
        process.standardOutput = output
        let err = Pipe()
        process.standardError = err
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test func aFullDiskIsAnErrorNotSilence() throws {
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        let (status, stderr) = try run(["info", "RetiredModels/q1.vlatmodel"], output: full)
        #expect(status == 1 && stderr.contains("write error"), "\(status): \(stderr)")
    }

    @Test func aClosedPipeIsStatusOneNotSIGPIPE() throws {
        let dir = CLI.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("x.vlat").path
        #expect(try CLI.run(["compress", "Corpus/photos/chelsea.png", "-o", file]).status == 0)
        let pipe = Pipe()
        try pipe.fileHandleForReading.close()   // nobody reads: every write fails with EPIPE
        let (status, stderr) = try run(["decompress", file, "-o", "-"], output: pipe.fileHandleForWriting)
        #expect(status == 1 && stderr.contains("Broken pipe"), "\(status): \(stderr)")
    }
}
