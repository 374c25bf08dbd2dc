import Dispatch
import Foundation

/// Input lists and parallel work for the commands that take many files.
///
/// Folders given as inputs expand to the files in them with the right extensions (sorted by
/// name, not recursive). Jobs run on up to `jobs` worker threads; each worker gets its own
/// index so that it can keep its own models (networks hold per-call scratch state and are not
/// shared between threads).
enum BatchJobs {
    /// `arguments` with every folder replaced by its files whose extension (lower-cased) is in
    /// `extensions`. A folder without any is an error; `-` passes through.
    static func expand(_ arguments: [String], extensions: Set<String>) throws -> [String] {
        var files: [String] = []
        for argument in arguments {
            var isDirectory: ObjCBool = false
            guard argument != "-", FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory), isDirectory.boolValue else {
                files.append(argument)
                continue
            }
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: argument) } catch {
                throw CLIError("\(argument): cannot list the folder: \(error.localizedDescription)")
            }
            let matching = names.filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
            guard !matching.isEmpty else {
                throw CLIError("\(argument): no \(extensions.sorted().map { "." + $0 }.joined(separator: "/")) files in this folder")
            }
            let folder = argument.hasSuffix("/") ? String(argument.dropLast()) : argument
            files += matching.map { "\(folder)/\($0)" }
        }
        if files.count > 1 && files.contains("-") { throw CLIError("'-' (standard input) must be the only input") }
        return files
    }

    /// Where each input's result goes: beside the input with `ext`, or into the folder `output`
    /// (several inputs, or an existing folder), or the file `output` (one input). Refuses two
    /// inputs that would write the same file.
    static func destinations(for inputs: [String], output: String?, extension ext: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        let outputIsFolder = output.map { $0 != "-" && ($0.hasSuffix("/") || inputs.count > 1 ||
            (FileManager.default.fileExists(atPath: $0, isDirectory: &isDirectory) && isDirectory.boolValue)) } ?? false
        if let output, outputIsFolder {
            if output == "-" || inputs.contains("-") { throw CLIError("-o -: standard output takes one input") }
            do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) } catch {
                throw CLIError("\(output): cannot create the output folder: \(error.localizedDescription)")
            }
        } else if output == "-" && inputs.count > 1 {
            throw CLIError("-o -: standard output takes one input")
        }
        let result = inputs.map { input -> String in
            if let output, !outputIsFolder { return output }
            if input == "-" { return "-" }
            let stem = URL(fileURLWithPath: input).deletingPathExtension().lastPathComponent + "." + ext
            if let output { return URL(fileURLWithPath: output).appendingPathComponent(stem).relativePath }
            return URL(fileURLWithPath: input).deletingPathExtension().appendingPathExtension(ext).relativePath
        }
        var seen: [String: String] = [:]
        for (input, destination) in zip(inputs, result) where destination != "-" {
            let key = URL(fileURLWithPath: destination).standardizedFileURL.path
            if let other = seen[key] { throw CLIError("\(input) and \(other) would both be written to \(destination)") }
            seen[key] = input
        }
        return result
    }

    /// Runs `body(index, worker)` for every index in `0..<count` on `jobs` threads (worker in
    /// `0..<jobs`). A failing job prints its one error line at once and the others go on;
    /// returns how many failed.
    static func run(count: Int, jobs: Int, names: [String], _ body: @escaping @Sendable (Int, Int) throws -> Void) -> Int {
        let lock = NSLock()
        nonisolated(unsafe) var next = 0, failures = 0
        let workers = max(1, min(jobs, count))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            while true {
                lock.lock()
                let index = next
                next += 1
                lock.unlock()
                guard index < count else { return }
                do { try body(index, worker) } catch {
                    let message = error as? CLIError ?? CLIError(file: names[index], error)
                    Terminal.printError("Error: \(message.description)\n")
                    lock.lock()
                    failures += 1
                    lock.unlock()
                }
            }
        }
        return failures
    }

    /// Worker threads for `count` files: one per core, at most one per file.
    static func workers(for count: Int, requested: Int?) -> Int {
        max(1, min(requested ?? ProcessInfo.processInfo.activeProcessorCount, count))
    }
}
