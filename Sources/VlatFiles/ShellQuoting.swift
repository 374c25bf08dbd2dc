/// A command line as a shell would read it back: what a model's record and a benchmark's
/// results say made them, so that anyone can paste and re-run it.
///
/// ```swift
/// ShellQuoting.commandLine(["vlat", "bench", "my photos", "--title", "it's"])
/// // vlat bench 'my photos' --title 'it'\''s'
/// ```
public enum ShellQuoting {
    /// `argument` as one shell word: unchanged when it holds only characters no shell treats
    /// specially, otherwise in single quotes (each `'` inside written as `'\''`).
    public static func quoted(_ argument: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=,:+@%")
        if !argument.isEmpty && argument.allSatisfy({ safe.contains($0) }) { return argument }
        var word = "'"
        for c in argument { word += c == "'" ? "'\\''" : String(c) }
        return word + "'"
    }

    /// The words, each quoted, joined by spaces.
    public static func commandLine(_ words: [String]) -> String { words.map(quoted).joined(separator: " ") }
}
