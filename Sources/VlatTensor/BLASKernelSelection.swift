import Foundation

/// Makes sure OpenBLAS runs kernels that match the CPU.
///
/// OpenBLAS (built with `DYNAMIC_ARCH`, as Debian ships it) picks its kernel set once, in its
/// library constructor, from the CPU's family and model numbers. A CPU newer than the library,
/// or a virtual CPU with a model number it does not know, falls back to the SSE3 "Prescott"
/// set even when the CPU has AVX2 or AVX-512. On this project's machines (Debian's OpenBLAS
/// 0.3.21, a virtual "Intel(R) Xeon(R) Processor", family 6 model 207) that made encoding 3.4
/// and decoding 4.3 times slower (`Benchmarks/codec/blas-default` in commit d1ae819).
///
/// The only way to choose another set is the `OPENBLAS_CORETYPE` environment variable, read in
/// that constructor, before any of our code runs. So executables call
/// ``reexecIfKernelsMismatchCPU()`` first thing: when the loaded set is below what the CPU
/// reports and the user has not set `OPENBLAS_CORETYPE`, the process replaces itself
/// (`execv` of `/proc/self/exe`, same arguments, same file descriptors, same pid) with the
/// variable set, and `VLAT_CHOSE_OPENBLAS_CORETYPE=1` beside it so that reports can tell the
/// user's choice from ours. A user's own `OPENBLAS_CORETYPE`, whatever its value, is always left
/// alone.
public enum BLASKernelSelection {
    /// Set (to "1") in the restarted process's environment, and so in its children's.
    public static let markerVariable = "VLAT_CHOSE_OPENBLAS_CORETYPE"

    /// The `OPENBLAS_CORETYPE` the user set, or nil when unset or set by the restart.
    public static var userKernelSet: String? {
        let env = ProcessInfo.processInfo.environment
        return env[markerVariable] == nil ? env["OPENBLAS_CORETYPE"] : nil
    }

    /// How much of the x86 vector instruction set a kernel set or a CPU uses.
    public enum Level: Int, Comparable, Sendable {
        /// Below AVX2 (SSE, AVX), or not x86.
        case baseline = 0
        /// AVX2 with FMA.
        case avx2 = 1
        /// AVX-512 F, CD, BW, DQ and VL (what OpenBLAS's SkylakeX kernels need).
        case avx512 = 2

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }

        /// The OpenBLAS kernel set to ask for at this level (nil at `baseline`: OpenBLAS's
        /// own choice is as good as any there).
        public var kernelSet: String? {
            switch self {
            case .baseline: nil
            case .avx2: "Haswell"
            case .avx512: "SkylakeX"
            }
        }
    }

    /// The level of a kernel set, by the name `openblas_get_corename()` returns.
    public static func level(ofKernelSet name: String) -> Level {
        switch name.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": .avx512
        case "haswell", "zen", "excavator": .avx2
        default: .baseline
        }
    }

    /// The level of a CPU, from the `flags` line of `/proc/cpuinfo`. Linux lists an
    /// extension only when the kernel also saves its registers, so a listed flag is usable.
    public static func level(ofCPUFlags flags: Set<String>) -> Level {
        if ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return .avx512 }
        if flags.contains("avx2") && flags.contains("fma") { return .avx2 }
        return .baseline
    }

    /// The kernel set to restart with, or nil to keep the loaded one: nil when the
    /// environment already names a set, or when the loaded set is at least the CPU's level.
    /// `cpuFlags` is evaluated only when the environment names no set: every restarted process
    /// and every user who names one skips reading `/proc/cpuinfo`.
    public static func kernelSetToRequest(loaded: String, cpuFlags: @autoclosure () -> Set<String>,
                                          environment: [String: String]) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil else { return nil }
        let cpu = level(ofCPUFlags: cpuFlags())
        return level(ofKernelSet: loaded) < cpu ? cpu.kernelSet : nil
    }

    /// The CPU's feature flags (the first processor's `flags` line of `/proc/cpuinfo`); empty
    /// where that file or line does not exist (non-Linux, non-x86).
    public static func cpuFlags(cpuinfo path: String = "/proc/cpuinfo") -> Set<String> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == "flags" else { continue }
            return Set(parts[1].split(separator: " ").map(String.init))
        }
        return []
    }

    /// Restarts the process with `OPENBLAS_CORETYPE` set when OpenBLAS loaded kernels below
    /// the CPU's level (see the type's documentation); returns only when no restart is needed
    /// or `execv` fails, in which case the process goes on with the kernels it has.
    /// Call it before anything else: before reading stdin, printing, or starting threads.
    public static func reexecIfKernelsMismatchCPU() {
        guard let kernels = kernelSetToRequest(loaded: BLAS.kernelName, cpuFlags: cpuFlags(),
                                               environment: ProcessInfo.processInfo.environment) else { return }
        setenv("OPENBLAS_CORETYPE", kernels, 1)
        setenv(markerVariable, "1", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")  // execv failed: leave the environment as it was
        unsetenv(markerVariable)
    }
}
