import Foundation
import VlatFiles
import VlatImageIO

/// A codec run through its command-line tools (cwebp/dwebp, avifenc/avifdec, cjxl/djxl). Times
/// are wall-clock times of the tool processes, so they include process start-up (a few ms).
public struct ExternalToolCodec: BenchCodec {
    public let name: String
    public let settingName: String
    public var settings: [Int]
    let encoder: String
    let decoder: String
    let fileExtension: String
    /// Arguments for the encoder given (setting, input PNG, output file).
    let encodeArguments: @Sendable (Int, String, String) -> [String]
    /// Arguments for the decoder given (input file, output PNG).
    let decodeArguments: @Sendable (String, String) -> [String]

    /// WebP through cwebp/dwebp (libwebp), default method 4, at `-q` quality.
    public static func webp(settings: [Int] = [5, 10, 20, 30, 40, 50, 60, 70, 80, 90]) -> ExternalToolCodec {
        ExternalToolCodec(name: "webp", settingName: "quality", settings: settings, encoder: "cwebp", decoder: "dwebp",
                          fileExtension: "webp",
                          encodeArguments: { q, input, output in ["-quiet", "-q", "\(q)", input, "-o", output] },
                          decodeArguments: { input, output in ["-quiet", input, "-o", output] })
    }

    /// AVIF through avifenc/avifdec (libaom), speed 6, 4:2:0, one quantizer for min and max.
    public static func avif(settings: [Int] = [58, 52, 46, 40, 34, 28, 22, 16]) -> ExternalToolCodec {
        ExternalToolCodec(name: "avif", settingName: "quantizer", settings: settings, encoder: "avifenc", decoder: "avifdec",
                          fileExtension: "avif",
                          encodeArguments: { q, input, output in
                              ["-s", "6", "-j", "1", "-y", "420", "--min", "\(q)", "--max", "\(q)", input, output]
                          },
                          decodeArguments: { input, output in ["-d", "8", input, output] })
    }

    /// JPEG XL through cjxl/djxl (libjxl), default effort 7, at `-q` quality.
    public static func jxl(settings: [Int] = [10, 20, 30, 40, 50, 60, 70, 80, 90]) -> ExternalToolCodec {
        ExternalToolCodec(name: "jxl", settingName: "quality", settings: settings, encoder: "cjxl", decoder: "djxl",
                          fileExtension: "jxl",
                          encodeArguments: { q, input, output in [input, output, "-q", "\(q)", "--quiet"] },
                          decodeArguments: { input, output in [input, output, "--quiet"] })
    }

    /// The full path of both tools, or nil when either is not installed.
    public var isAvailable: Bool { Self.which(encoder) != nil && Self.which(decoder) != nil }

    /// Names the missing tool and the Debian package that has it.
    public var missingNote: String {
        let package = ["webp": "webp", "avif": "libavif-bin", "jxl": "libjxl-tools"][name] ?? name
        return "\(name): skipped, \(encoder)/\(decoder) not installed (apt-get install \(package))"
    }

    static func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    public func run(_ image: Image, setting: Int, scratch: String) throws -> CodecRun {
        let input = "\(scratch)/input.png", coded = "\(scratch)/coded.\(fileExtension)", output = "\(scratch)/decoded.png"
        for path in [input, coded, output] { try? FileManager.default.removeItem(atPath: path) }
        // No ICC profile: the bench compares sample values, and a tool that colour-manages (djxl
        // returns linear sRGB for an Adobe RGB input) would otherwise hand back other numbers.
        var plain = image
        plain.iccProfile = nil
        try AtomicFile.write(PNGCodec.encode(plain, compressionLevel: 1), to: input, overwrite: true)
        let encodeSeconds = try Self.execute(encoder, encodeArguments(setting, input, coded))
        let bytes = try FileReader.read(coded).count
        let decodeSeconds = try Self.execute(decoder, decodeArguments(coded, output))
        let decoded = try ImageFile.read(output).toRGB()
        return CodecRun(bytes: bytes, decoded: decoded, encodeSeconds: encodeSeconds, decodeSeconds: decodeSeconds)
    }

    /// Runs a tool to completion and returns its wall time; a non-zero exit is an error.
    static func execute(_ tool: String, _ arguments: [String]) throws -> Double {
        guard let path = which(tool) else { throw BenchError.toolMissing(tool) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        let clock = ContinuousClock()
        let start = clock.now
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let elapsed = (clock.now - start).seconds
        guard process.terminationStatus == 0 else {
            let text = String(decoding: message, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
            throw BenchError.toolFailed(tool: tool, status: process.terminationStatus, message: text)
        }
        return elapsed
    }
}
