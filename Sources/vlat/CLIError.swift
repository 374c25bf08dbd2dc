/// An error as the command line shows it: one line, naming the file when there is one.
/// ArgumentParser prints it as "Error: <description>" and exits with status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String

    init(_ message: String) { description = message }

    /// Wraps any library error, prefixing the file it concerns unless the message has it already.
    init(file: String, _ error: any Error) {
        let text = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
        description = text.hasPrefix(file) ? text : "\(file): \(text)"
    }
}
