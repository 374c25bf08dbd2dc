import Foundation
import Testing
import VlatTensor

@Suite("OpenBLAS kernel selection")
struct BLASKernelSelectionTests {
    typealias S = BLASKernelSelection
    static let avx512: Set<String> = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
    static let avx2: Set<String> = ["sse4_2", "avx", "avx2", "fma"]

    @Test func levelsOfKernelSets() {
        #expect(S.level(ofKernelSet: "Prescott") == .baseline)
        #expect(S.level(ofKernelSet: "Sandybridge") == .baseline)
        #expect(S.level(ofKernelSet: "armv8") == .baseline)
        #expect(S.level(ofKernelSet: "Haswell") == .avx2)
        #expect(S.level(ofKernelSet: "Zen") == .avx2)
        #expect(S.level(ofKernelSet: "SkylakeX") == .avx512)
        #expect(S.level(ofKernelSet: "COOPERLAKE") == .avx512)
    }

    @Test func levelsOfCPUs() {
        #expect(S.level(ofCPUFlags: Self.avx512) == .avx512)
        #expect(S.level(ofCPUFlags: Self.avx2) == .avx2)
        // AVX-512F alone (Knights Landing lacks BW/DQ/VL) is not enough for SkylakeX kernels.
        #expect(S.level(ofCPUFlags: Self.avx2.union(["avx512f", "avx512cd"])) == .avx2)
        #expect(S.level(ofCPUFlags: ["sse4_2", "avx", "avx2"]) == .baseline)  // no FMA
        #expect(S.level(ofCPUFlags: []) == .baseline)
    }

    @Test func requestsOnlyWhenOpenBLASFellBelowTheCPU() {
        // The case this exists for: an unknown model number, SSE3 kernels on an AVX-512 CPU.
        #expect(S.kernelSetToRequest(loaded: "Prescott", cpuFlags: Self.avx512, environment: [:]) == "SkylakeX")
        #expect(S.kernelSetToRequest(loaded: "Prescott", cpuFlags: Self.avx2, environment: [:]) == "Haswell")
        #expect(S.kernelSetToRequest(loaded: "Haswell", cpuFlags: Self.avx512, environment: [:]) == "SkylakeX")
        // OpenBLAS's own choice at or above the CPU's level stays.
        #expect(S.kernelSetToRequest(loaded: "Haswell", cpuFlags: Self.avx2, environment: [:]) == nil)
        #expect(S.kernelSetToRequest(loaded: "SkylakeX", cpuFlags: Self.avx512, environment: [:]) == nil)
        #expect(S.kernelSetToRequest(loaded: "Sandybridge", cpuFlags: ["avx"], environment: [:]) == nil)
        #expect(S.kernelSetToRequest(loaded: "armv8", cpuFlags: [], environment: [:]) == nil)
        // The user's OPENBLAS_CORETYPE wins, whatever it says (and stops any restart loop).
        #expect(S.kernelSetToRequest(loaded: "Prescott", cpuFlags: Self.avx512,
                                     environment: ["OPENBLAS_CORETYPE": "Prescott"]) == nil)
        // ... and then the CPU's flags are not even read.
        var flagsRead = false
        _ = S.kernelSetToRequest(loaded: "Prescott", cpuFlags: { flagsRead = true; return Self.avx512 }(),
                                 environment: ["OPENBLAS_CORETYPE": "Haswell"])
        #expect(!flagsRead)
        _ = S.kernelSetToRequest(loaded: "Prescott", cpuFlags: { flagsRead = true; return Self.avx512 }(), environment: [:])
        #expect(flagsRead)
    }

    @Test func readsTheFlagsLineOfCpuinfo() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vlat-cpuinfo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let x86 = dir.appendingPathComponent("x86").path, arm = dir.appendingPathComponent("arm").path
        try """
        processor\t: 0
        model name\t: Intel(R) Xeon(R) Processor
        flags\t\t: fpu sse2 avx avx2 fma avx512f
        bugs\t\t: spectre_v1

        processor\t: 1
        flags\t\t: fpu
        """.write(toFile: x86, atomically: true, encoding: .utf8)
        try "processor\t: 0\nFeatures\t: fp asimd aes\n".write(toFile: arm, atomically: true, encoding: .utf8)
        #expect(S.cpuFlags(cpuinfo: x86) == ["fpu", "sse2", "avx", "avx2", "fma", "avx512f"])
        #expect(S.cpuFlags(cpuinfo: arm).isEmpty)
        #expect(S.cpuFlags(cpuinfo: dir.appendingPathComponent("missing").path).isEmpty)
    }
}
