import Foundation
import Testing

/// `Scripts/install.sh`: an installed vlat finds its models from any directory, and only there.
@Suite("Installing vlat")
struct InstallTests {
    @Test func anInstalledCopyWorksFromAnotherFolderAndABareCopySaysWhereItLooked() throws {
        let dir = CLI.scratch()
        let prefix = dir.appendingPathComponent("prefix")
        let install = Process()
        install.executableURL = URL(fileURLWithPath: "/bin/bash")
        install.arguments = [CLI.packageRoot.appendingPathComponent("Scripts/install.sh").path,
                             "--prefix", prefix.path, "--binary", CLI.executable.path]
        install.standardOutput = FileHandle.nullDevice
        install.standardError = FileHandle.nullDevice
        try install.run()
        install.waitUntilExit()
        #expect(install.terminationStatus == 0)
        for file in ["bin/vlat", "share/vlat/models/hyperprior.vlatmodel", "share/vlat/models/denoise.vlatmodel",
                     "share/bash-completion/completions/vlat", "share/zsh/site-functions/_vlat"] {
            #expect(FileManager.default.fileExists(atPath: prefix.appendingPathComponent(file).path), "\(file)")
        }

        // Run from a folder far from the build, through a symbolic link as a PATH entry would be.
        let work = dir.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: CLI.packageRoot.appendingPathComponent("Corpus/generated/gradient_256x192.png").path,
                                         toPath: work.appendingPathComponent("g.png").path)
        let link = dir.appendingPathComponent("vlat-link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: prefix.appendingPathComponent("bin/vlat"))
        for (arguments, expected) in [(["compress", "g.png"], "g.vlat"), (["decompress", "g.vlat"], "g.decoded.png")] {
            let r = try run(link, arguments, in: work)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent(expected).path))
        }

        // The binary alone, away from its models and from the build folder, fails in one line
        // that names where the models belong.
        let bare = dir.appendingPathComponent("bare/bin")
        try FileManager.default.createDirectory(at: bare, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: prefix.appendingPathComponent("bin/vlat"), to: bare.appendingPathComponent("vlat"))
        let lost = try run(bare.appendingPathComponent("vlat"), ["compress", "g.png", "-o", "x.vlat"], in: work)
        #expect(lost.status == 1 && lost.stderr.contains("bare/share/vlat/models"), "\(lost.stderr)")
        #expect(lost.stderr.split(separator: "\n").count == 1)
    }

    /// Runs `executable` (not the build's vlat) in `folder`.
    func run(_ executable: URL, _ arguments: [String], in folder: URL) throws -> CLIResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.filter { $0.key != "VLAT_MODELS" }
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus, stdout: "", stderr: String(decoding: data, as: UTF8.self))
    }
}
