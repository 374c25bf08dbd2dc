import ArgumentParser
import VlatCodec
import VlatModels

// Enumerations taken as option values: ArgumentParser parses them from their raw values, lists
// those values in --help, and names them in the error for a bad one.

extension Objective: ExpressibleByArgument {}
extension CoderChoice: ExpressibleByArgument {}
