// swift-tools-version: 6.1
// A package that uses vlat as a library, as docs/SWIFT.md shows: it
// depends on the `VlatCodec` product only (compress, decompress, denoise; no training or
// benchmarking). Scripts/test.sh builds and runs it, so the dependency line keeps working.
import PackageDescription

let package = Package(
    name: "Consumer",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "vlat", path: "../.."),
    ],
    targets: [
        .executableTarget(name: "Consumer", dependencies: [.product(name: "VlatCodec", package: "vlat")]),
    ]
)
