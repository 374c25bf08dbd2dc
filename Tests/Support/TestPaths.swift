import Foundation

/// Where the package's files are, for tests that read Corpus/ or run the built tool.
public enum TestPaths {
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    public static func path(_ relative: String) -> String { packageRoot.appendingPathComponent(relative).path }

    /// `../shared/corpus/<name>`, present on development machines and in CI, absent elsewhere.
    public static func sharedCorpus(_ name: String) -> String {
        packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus/\(name)").path
    }

    /// `../shared/conformance/<name>`: other projects' decoder test files, present on development
    /// machines and in CI, absent elsewhere.
    public static func sharedConformance(_ name: String) -> String {
        packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance/\(name)").path
    }
}
