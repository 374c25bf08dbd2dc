import ArgumentParser
import VlatCodec
import VlatFormat
import VlatImageIO
import VlatMetrics
import VlatTraining
import VlatModels
import VlatTensor

// Enumerations taken as option values: ArgumentParser parses them from their raw values, lists
// those values in --help, and names them in the error for a bad one.

extension Objective: ExpressibleByArgument {}
extension CoderChoice: ExpressibleByArgument {}
extension TrainingOptions.Schedule: ExpressibleByArgument {}
extension Bjontegaard.Interpolation: ExpressibleByArgument {}
extension InferencePrecision: ExpressibleByArgument {}

extension ModelFile.Storage: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "float16": self = .float16
        case "float32": self = .float32
        default: return nil
        }
    }
    public static var allValueStrings: [String] { ["float16", "float32"] }
    public var defaultValueDescription: String { self == .float16 ? "float16" : "float32" }
}

extension MetadataSelection: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
    public var defaultValueDescription: String {
        self == .all ? "all" : self == .none ? "none" : Self.names.filter { contains($0.1) }.map(\.0).joined(separator: ",")
    }
}
