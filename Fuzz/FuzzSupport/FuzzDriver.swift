#if canImport(Glibc)
import Glibc
#endif
import Foundation
import VlatTensor

/// The `main` of every fuzz target. Built with `-D FUZZING` and `-sanitize=fuzzer`
/// (`Scripts/fuzz.sh`), it hands control to libFuzzer, which calls `body` with inputs it
/// evolves. In ordinary builds it is a replay driver, for CI and regression tests:
///
/// ```
/// FuzzPNG [--mutations N] [--seed S] FILE-OR-FOLDER...   # run every file, then N mutations of them
/// FuzzContainer --write-seeds DIR                        # seed files the target generates itself
/// FuzzPNG --mutations N --keep-last FILE ...               # each input is written to FILE first,
///                                                          # so a crash leaves it behind
/// ```
///
/// Either way a finding is a crash (a trap, a failed precondition, or under AddressSanitizer a
/// memory error); a clean run exits 0.
public enum FuzzDriver {
    public typealias Body = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    public static func main(_ body: Body, seeds: () -> [(name: String, bytes: [UInt8])] = { [] }) -> Never {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, body))
        #else
        exit(replay(Array(CommandLine.arguments.dropFirst()), body, seeds: seeds))
        #endif
    }

    /// Runs `body` on every file named (folders expanded, sorted), then on `mutations`
    /// deterministic mutations of them. Returns the exit status.
    static func replay(_ arguments: [String], _ body: Body, seeds: () -> [(name: String, bytes: [UInt8])]) -> Int32 {
        var files: [String] = [], mutations = 0, seed: UInt64 = 1, writeSeeds: String?, keepLast: String?
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "--mutations": i += 1; mutations = Int(arguments[i]) ?? 0
            case "--seed": i += 1; seed = UInt64(arguments[i]) ?? 1
            case "--write-seeds": i += 1; writeSeeds = arguments[i]
            case "--keep-last": i += 1; keepLast = arguments[i]
            default: files.append(arguments[i])
            }
            i += 1
        }
        if let writeSeeds {
            try? FileManager.default.createDirectory(atPath: writeSeeds, withIntermediateDirectories: true)
            for s in seeds() { _ = FileManager.default.createFile(atPath: "\(writeSeeds)/\(s.name)", contents: Data(s.bytes)) }
            print("wrote \(seeds().count) seeds to \(writeSeeds)")
            return 0
        }
        var inputs: [[UInt8]] = []
        for path in files {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            let paths = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { "\(path)/\($0)" } : [path]
            for p in paths { if let d = FileManager.default.contents(atPath: p), d.count <= 1 << 22 { inputs.append(Array(d)) } }
        }
        inputs += seeds().map(\.bytes)
        func runKeeping(_ input: [UInt8]) {
            if let keepLast { _ = FileManager.default.createFile(atPath: keepLast, contents: Data(input)) }
            run(body, input)
        }
        for input in inputs { runKeeping(input) }
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<mutations where !inputs.isEmpty {
            runKeeping(mutate(inputs[Int(generator.next() % UInt64(inputs.count))], &generator))
        }
        print("\(inputs.count) inputs and \(mutations) mutations, no crash")
        return 0
    }

    static func run(_ body: Body, _ input: [UInt8]) {
        _ = input.withUnsafeBufferPointer { body($0.baseAddress, $0.count) }
    }

    /// One of: flip bits, set bytes to boundary values, cut the end, insert, remove or repeat a
    /// run of bytes, splice in a little-endian or big-endian length.
    public static func mutate(_ input: [UInt8], _ g: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        func at() -> Int { bytes.isEmpty ? 0 : Int(g.next() % UInt64(bytes.count)) }
        for _ in 0..<(1 + Int(g.next() % 4)) {
            switch g.next() % 7 {
            case 0: if !bytes.isEmpty { bytes[at()] ^= UInt8(1 << (g.next() % 8)) }
            case 1: if !bytes.isEmpty { bytes[at()] = [0, 1, 0x7F, 0x80, 0xFF][Int(g.next() % 5)] }
            case 2: if !bytes.isEmpty { bytes.removeLast(Int(g.next() % UInt64(bytes.count))) }
            case 3: bytes.insert(contentsOf: (0..<Int(1 + g.next() % 16)).map { _ in UInt8(truncatingIfNeeded: g.next()) }, at: at())
            case 4: if bytes.count > 2 { let s = at(); bytes.removeSubrange(s..<min(bytes.count, s + Int(1 + g.next() % 32))) }
            case 5: if bytes.count > 2 { let s = at(); let run = Array(bytes[s..<min(bytes.count, s + Int(1 + g.next() % 32))]); bytes.insert(contentsOf: run, at: at()) }
            default:
                if bytes.count >= 4 {
                    let s = Int(g.next() % UInt64(bytes.count - 3))
                    let v = [0, 0xFFFF_FFFF, 0x7FFF_FFFF, 1 << 24, UInt32(bytes.count)][Int(g.next() % 5)]
                    for k in 0..<4 { bytes[s + k] = UInt8(truncatingIfNeeded: g.next() % 2 == 0 ? v >> (8 * k) : v >> (8 * (3 - k))) }
                }
            }
        }
        return bytes
    }
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ body: FuzzDriver.Body) -> CInt
#endif
