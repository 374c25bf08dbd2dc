import ArgumentParser
#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Foundation
import VlatFiles
import VlatTensor

/// The `vlat` command line tool.
@main
struct VlatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vlat",
        abstract: "A learned image codec: compress photos into small .vlat files, and measure codecs.",
        discussion: """
        Exit status: 0 on success, 1 when an input or output fails (one line on stderr says \
        which file and why), 64 for a usage error.

        Examples:
          vlat compress photo.png                  # photo.vlat at quality 4
          vlat compress photo.jpg -q 6 -o small.vlat
          vlat compress holiday/ -r -o holiday-vlat/ --target-bpp 0.5
          vlat decompress photo.vlat               # photo.decoded.png, beside it
          vlat decompress small.vlat -o small.jpg
          vlat denoise noisy.png                   # noisy.denoised.png
          vlat info photo.vlat
          vlat info --json photo.vlat
          vlat bench Corpus/photos --out bench-out
          vlat bench ../shared/corpus/kodak --codecs jpeg,webp --out kodak-bench
        """,
        version: "0.1.0 (OpenBLAS kernels: \(BLAS.kernelName))",
        subcommands: [CompressCommand.self, DecompressCommand.self, DenoiseCommand.self, InfoCommand.self, ExportCommand.self, BenchCommand.self, BenchRestoreCommand.self, TrainCommand.self, SampleCommand.self, InterpolateCommand.self])

    /// Restarts the process with OpenBLAS kernels that match the CPU where OpenBLAS fell back
    /// to older ones (``BLASKernelSelection``), then parses and runs the command.
    static func main() {
        BLASKernelSelection.reexecIfKernelsMismatchCPU()
        // A closed pipe on standard output becomes a write error (EPIPE) that the command
        // reports with status 1, instead of a silent death by SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        // Ctrl-C or a kill during a write leaves no temporary file behind (train replaces these
        // handlers with its own, which save a checkpoint first).
        TemporaryFiles.removeOnSignals()
        if let message = unknownSubcommandMessage(CommandLine.arguments) {
            FileHandle.standardError.write(Data((message + "\n").utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        main(nil)
        // What was printed may still sit in stdio's buffer: a full disk or a closed pipe shows
        // only when it is flushed.
        if fflush(cStandardOutput) != 0 || ferror(cStandardOutput) != 0 {
            FileHandle.standardError.write(Data("Error: <stdout>: write error: \(String(cString: strerror(errno)))\n".utf8))
            Foundation.exit(1)
        }
    }
}

extension VlatCommand {
    /// For `vlat compres ...`: "Error: unknown command 'compres'; did you mean 'compress'?", with
    /// every command named when none is close. Nil when the first argument is an option or a
    /// command.
    static func unknownSubcommandMessage(_ arguments: [String]) -> String? {
        guard arguments.count > 1, let word = arguments.dropFirst().first, !word.hasPrefix("-"), word != "help" else { return nil }
        let names = configuration.subcommands.compactMap { $0.configuration.commandName }
        guard !names.contains(word) else { return nil }
        let close = names.map { ($0, editDistance(word.lowercased(), $0)) }.filter { $0.1 <= max(1, $0.0.count / 3) || $0.0.hasPrefix(word.lowercased()) }
            .sorted { $0.1 < $1.1 }.map(\.0)
        if let best = close.first { return "Error: unknown command '\(word)'; did you mean '\(best)'? (see 'vlat --help')" }
        return "Error: unknown command '\(word)'; the commands are \(names.joined(separator: ", ")) (see 'vlat --help')"
    }

    /// Levenshtein distance between two strings, by characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var previous = row[0]
            row[0] = i
            for j in 1...b.count {
                let substitution = previous + (a[i - 1] == b[j - 1] ? 0 : 1)
                previous = row[j]
                row[j] = min(substitution, row[j] + 1, row[j - 1] + 1)
            }
        }
        return row[b.count]
    }
}

/// C's standard output stream, which `print` writes through.
private nonisolated(unsafe) let cStandardOutput = stdout
