import Dispatch
import Foundation

/// Input lists and parallel work for the commands that take many files.
///
/// Folders given as inputs expand to the files in them with the right extensions (sorted by
/// name; subfolders with `recursive`). Jobs run on up to `jobs` worker threads; each worker
/// gets its own index so that it can keep its own models (networks hold per-call scratch state
/// and are not shared between threads).
enum BatchJobs {
    /// One file to process: its path, and the folder it sits in relative to the folder input
    /// it came from ("" for files given directly and files at a folder input's top).
    struct Input: Equatable {
        var path: String
        var subfolder: String = ""
        /// Found in a folder input: its output goes into a folder even when it is the only one.
        var fromFolder = false
    }

    /// `arguments` with every folder replaced by its files whose extension (lower-cased) is in
    /// `extensions`, subfolders included when `recursive` (else a note says how many were
    /// skipped). A folder without any is an error; `-` passes through.
    static func expand(_ arguments: [String], extensions: Set<String>, recursive: Bool = false) throws -> [Input] {
        var files: [Input] = []
        for argument in arguments {
            var isDirectory: ObjCBool = false
            guard argument != "-", FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory), isDirectory.boolValue else {
                files.append(Input(path: argument))
                continue
            }
            let folder = argument.hasSuffix("/") && argument.count > 1 ? String(argument.dropLast()) : argument
            var matching: [Input] = [], skipped = 0
            func walk(_ relative: String) throws {
                let path = relative.isEmpty ? folder : "\(folder)/\(relative)"
                let names: [String]
                do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
                    throw CLIError("\(path): cannot list the folder: \(error.localizedDescription)")
                }
                var subfolders: [String] = []
                for name in names.sorted() where !name.hasPrefix(".") {
                    let child = relative.isEmpty ? name : "\(relative)/\(name)"
                    var childIsDirectory: ObjCBool = false
                    if FileManager.default.fileExists(atPath: "\(folder)/\(child)", isDirectory: &childIsDirectory), childIsDirectory.boolValue {
                        subfolders.append(child)
                    } else if extensions.contains((name as NSString).pathExtension.lowercased()) {
                        matching.append(Input(path: "\(folder)/\(child)", subfolder: relative, fromFolder: true))
                    }
                }
                if recursive { for child in subfolders { try walk(child) } } else { skipped += subfolders.count }
            }
            try walk("")
            if skipped > 0 { Terminal.note("\(argument): \(skipped) subfolder\(skipped == 1 ? "" : "s") skipped (use -r to include them)") }
            guard !matching.isEmpty else {
                throw CLIError("\(argument): no \(extensions.sorted().map { "." + $0 }.joined(separator: "/")) files in this folder\(recursive ? " or its subfolders" : "")")
            }
            files += matching
        }
        if files.count > 1 && files.contains(where: { $0.path == "-" }) { throw CLIError("'-' (standard input) must be the only input") }
        return files
    }

    /// Where each input's result goes: beside the input, named after it with `ext` in place
    /// of its extension, or so named into the folder `output` (several inputs, a folder input,
    /// or an existing folder; subfolders of folder inputs are kept), or the file `output` (one
    /// file input).
    /// Refuses two inputs that would write the same file.
    static func destinations(for inputs: [Input], output: String?, extension ext: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        let outputIsFolder = output.map { $0 != "-" && ($0.hasSuffix("/") || inputs.count > 1 || inputs.contains(where: \.fromFolder) ||
            (FileManager.default.fileExists(atPath: $0, isDirectory: &isDirectory) && isDirectory.boolValue)) } ?? false
        if let output, outputIsFolder {
            if output == "-" || inputs.contains(where: { $0.path == "-" }) { throw CLIError("-o -: standard output takes one input") }
            do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) } catch {
                throw CLIError("\(output): cannot create the output folder: \(error.localizedDescription)")
            }
        } else if output == "-" && inputs.count > 1 {
            throw CLIError("-o -: standard output takes one input")
        }
        let result = try inputs.map { input -> String in
            if let output, !outputIsFolder { return output }
            if input.path == "-" { return "-" }
            let name = URL(fileURLWithPath: input.path).deletingPathExtension().lastPathComponent + "." + ext
            guard let output else { return URL(fileURLWithPath: input.path).deletingPathExtension().appendingPathExtension(ext).relativePath }
            let folder = input.subfolder.isEmpty ? output : "\(output)/\(input.subfolder)"
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw CLIError("\(folder): cannot create the output folder: \(error.localizedDescription)")
            }
            return URL(fileURLWithPath: folder).appendingPathComponent(name).relativePath
        }
        var seen: [String: String] = [:]
        for (input, destination) in zip(inputs, result) where destination != "-" {
            let key = URL(fileURLWithPath: destination).standardizedFileURL.path
            if let other = seen[key] { throw CLIError("\(input.path) and \(other) would both be written to \(destination)") }
            seen[key] = input.path
        }
        return result
    }

    /// Runs `body(index, worker)` for every index in `0..<count` on `jobs` threads (worker in
    /// `0..<jobs`). A failing job prints its one error line at once and the others go on;
    /// returns how many failed. On a terminal, a status line shows the progress
    /// (`Terminal.Activity`) once the work has taken a second.
    static func run(count: Int, jobs: Int, names: [String], _ body: @escaping @Sendable (Int, Int) throws -> Void) -> Int {
        let lock = NSLock()
        nonisolated(unsafe) var next = 0, failures = 0
        let workers = max(1, min(jobs, count))
        let activity = Terminal.Activity(total: count)
        defer { activity?.finish() }
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            while true {
                lock.lock()
                let index = next
                next += 1
                lock.unlock()
                guard index < count else { return }
                activity?.begin(index, names[index])
                defer { activity?.end(index) }
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

    /// "[3/24] " before a file's note when there are several files, else nothing.
    static func counter(_ index: Int, of count: Int) -> String { count > 1 ? "[\(index + 1)/\(count)] " : "" }

    /// Seconds since `start`, for --verbose.
    static func seconds(since start: ContinuousClock.Instant) -> String {
        let d = ContinuousClock.now - start
        return String(format: "%.2f s", Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
    }

    /// Worker threads for `count` files: one per core, at most one per file.
    static func workers(for count: Int, requested: Int?) -> Int {
        max(1, min(requested ?? ProcessInfo.processInfo.activeProcessorCount, count))
    }
}
