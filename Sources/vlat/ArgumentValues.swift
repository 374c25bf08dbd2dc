import ArgumentParser
import VlatCodec
import VlatImageIO
import VlatModels

// Enumerations taken as option values: ArgumentParser parses them from their raw values, lists
// those values in --help, and names them in the error for a bad one.

extension Objective: ExpressibleByArgument {}
extension CoderChoice: ExpressibleByArgument {}

extension MetadataSelection: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
    public var defaultValueDescription: String {
        self == .all ? "all" : self == .none ? "none" : Self.names.filter { contains($0.1) }.map(\.0).joined(separator: ",")
    }
}
