import ArgumentParser
#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Foundation
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
        main(nil)
        // What was printed may still sit in stdio's buffer: a full disk or a closed pipe shows
        // only when it is flushed.
        if fflush(cStandardOutput) != 0 || ferror(cStandardOutput) != 0 {
            FileHandle.standardError.write(Data("Error: <stdout>: write error: \(String(cString: strerror(errno)))\n".utf8))
            Foundation.exit(1)
        }
    }
}

/// C's standard output stream, which `print` writes through.
private nonisolated(unsafe) let cStandardOutput = stdout
