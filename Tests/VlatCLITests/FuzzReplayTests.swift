import Foundation
import Testing
import VlatTestSupport

/// The fuzz targets of Fuzz/ as replay drivers: every seed, every regression a fuzzer found, the
/// conformance files when present, and a fixed number of deterministic mutations. A crash (a
/// failed check in a target, or a trap) fails the test. Scripts/fuzz.sh runs the same targets
/// under libFuzzer and AddressSanitizer.
@Suite("Fuzz targets, replayed")
struct FuzzReplayTests {
    static let conformance = ["pngsuite", "zune/fuzz-corpus/png", "zune/fuzz-corpus/jpeg", "mozjpeg", "image-rs/test-images/jpg"]
        .map(TestPaths.sharedConformance).filter { FileManager.default.fileExists(atPath: $0) }

    // Model files are slow to load in a debug build: fewer mutations.
    @Test(arguments: [("FuzzContainer", [String](), 3000), ("FuzzModelFile", [], 200),
                      ("FuzzPNG", ["Corpus/generated"], 3000), ("FuzzJPEG", ["Corpus/generated"], 3000)])
    func replaysSeedsRegressionsAndMutations(target: String, inputs: [String], mutations: Int) throws {
        let executable = CLI.executable.deletingLastPathComponent().appendingPathComponent(target)
        let regressions = "Fuzz/Regressions/\(target)"
        let extra = target == "FuzzPNG" || target == "FuzzJPEG" ? Self.conformance : []
        let process = Process()
        process.executableURL = executable
        process.arguments = inputs + [regressions] + extra + ["--mutations", "\(mutations)", "--seed", "7"]
        process.currentDirectoryURL = CLI.packageRoot
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && stdout.contains("\(mutations) mutations, no crash"),
                "\(target): \(stderr.split(separator: "\n").prefix(3).joined(separator: "\n"))")
    }
}
