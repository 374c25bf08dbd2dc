// swift-tools-version: 6.1
//
// vlat: a learned image codec, one module per part (docs/ARCHITECTURE.md). Each target's
// dependencies are exactly the modules its sources import, and the arrows point one way:
//   Vlat (umbrella: re-exports every library module), vlat (CLI) -> VlatBench, VlatTraining, VlatCodec, ...
//   VlatBench    -> VlatCodec, VlatMetrics, VlatFilters, VlatPlot
//   VlatTraining -> VlatModels, VlatFilters, VlatMetrics, VlatImageIO, VlatPlot (SVG line charts, no dependencies)
//   VlatCodec    -> VlatModels, VlatEntropy, VlatFormat, VlatImageIO
//   VlatModels   -> VlatEntropy, VlatFormat, VlatTensor
//   VlatEntropy (integer coders only);   VlatFormat -> CZstd, CKernels;   VlatTensor -> COpenBLAS, CKernels
//   VlatMetrics, VlatFilters -> VlatImageIO -> CImageCodecs (libpng, libjpeg, zlib), VlatFiles
//   Fuzz targets (Fuzz/) -> FuzzSupport -> VlatCodec
// CPU tuning flags (-target-cpu) are passed by Scripts/, never via unsafeFlags here, so that
// other packages can depend on the `Vlat` library product.
import PackageDescription

let package = Package(
    name: "vlat",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "vlat", targets: ["vlat"]),
        // `import Vlat` gives every library module (an umbrella that re-exports them).
        .library(name: "Vlat", targets: ["Vlat"]),
        // The codec alone, for apps that compress and decompress: `import VlatCodec` (with
        // VlatImageIO, VlatFormat, ...), no training or benchmarking.
        .library(name: "VlatCodec", targets: ["VlatCodec", "VlatImageIO", "VlatFormat", "VlatFiles"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C libraries, found through pkg-config; `providers` tells SwiftPM what to suggest.
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // glibc's <malloc.h> (mallopt), which the Glibc module does not export.
        .systemLibrary(name: "CMalloc"),

        // The only code that touches libpng/libjpeg directly: it owns every setjmp/longjmp so that
        // no non-local jump ever crosses a Swift frame.
        // zlib (a dependency of libpng-dev) inflates and deflates iCCP chunks, which vlat handles
        // itself so that no ICC profile is judged and dropped by libpng.
        .target(name: "CImageCodecs", dependencies: ["CPNG", "CJPEG"], linkerSettings: [.linkedLibrary("z")]),

        // Element-wise kernels that Swift does not vectorize (GDN's square roots), in portable C
        // with x86 vector paths chosen at run time.
        .target(name: "CKernels"),

        .target(name: "VlatFiles"),
        .target(name: "VlatPlot"),
        .target(name: "VlatImageIO", dependencies: ["CImageCodecs", "VlatFiles"]),
        .target(name: "VlatMetrics", dependencies: ["VlatImageIO"]),
        .target(name: "VlatFilters", dependencies: ["VlatImageIO"]),
        .target(name: "VlatEntropy"),
        .target(name: "VlatFormat", dependencies: ["CZstd", "CKernels"]),
        .target(name: "VlatTensor", dependencies: ["COpenBLAS", "CMalloc", "CKernels"]),
        .target(name: "VlatModels", dependencies: ["VlatTensor", "VlatFormat", "VlatEntropy"]),
        .target(name: "VlatTraining", dependencies: ["VlatModels", "VlatTensor", "VlatFormat", "VlatImageIO", "VlatFilters", "VlatMetrics", "VlatFiles", "VlatPlot"]),
        .target(name: "VlatCodec", dependencies: ["VlatModels", "VlatEntropy", "VlatFormat", "VlatImageIO", "VlatTensor", "VlatFiles"],
                resources: [.copy("Models")]),
        .target(name: "Vlat", dependencies: ["VlatBench", "VlatCodec", "VlatEntropy", "VlatFiles", "VlatFilters", "VlatFormat",
                                             "VlatImageIO", "VlatMetrics", "VlatModels", "VlatPlot", "VlatTensor", "VlatTraining"]),
        .target(name: "VlatBench", dependencies: ["VlatImageIO", "VlatMetrics", "VlatFiles", "VlatCodec", "VlatFormat", "VlatFilters", "VlatTensor", "VlatModels", "VlatPlot"]),
        .executableTarget(
            name: "vlat",
            dependencies: [
                "VlatBench", "VlatFormat", "VlatImageIO", "VlatMetrics", "VlatFiles", "VlatTraining", "VlatModels", "VlatCodec",
                "VlatTensor", "VlatEntropy", "VlatFilters",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Benchmarks live under Benchmarks/ and are run by hand (see Benchmarks/README.md).
        .executableTarget(name: "EngineBench", dependencies: ["VlatTensor", "VlatModels", "VlatEntropy", "VlatCodec"],
                         path: "Benchmarks/EngineBench"),
        .executableTarget(name: "CodecBench", dependencies: ["VlatBench", "VlatCodec", "VlatEntropy", "VlatFiles", "VlatFilters", "VlatFormat", "VlatImageIO", "VlatMetrics", "VlatModels", "VlatTensor"],
                         path: "Benchmarks/CodecBench"),

        // Fuzz targets (Fuzz/README.md): replay drivers in ordinary builds, run by the tests;
        // libFuzzer targets when built by Scripts/fuzz.sh.
        .target(name: "FuzzSupport", dependencies: ["VlatCodec", "VlatModels", "VlatImageIO", "VlatTensor", "VlatFormat"], path: "Fuzz/FuzzSupport"),
        .executableTarget(name: "FuzzContainer", dependencies: ["FuzzSupport", "VlatCodec", "VlatFormat"], path: "Fuzz/FuzzContainer"),
        .executableTarget(name: "FuzzPNG", dependencies: ["FuzzSupport", "VlatImageIO"], path: "Fuzz/FuzzPNG"),
        .executableTarget(name: "FuzzJPEG", dependencies: ["FuzzSupport", "VlatImageIO"], path: "Fuzz/FuzzJPEG"),
        .executableTarget(name: "FuzzModelFile", dependencies: ["FuzzSupport", "VlatCodec", "VlatFormat", "VlatModels"], path: "Fuzz/FuzzModelFile"),

        // Shared by the test targets: package paths and finite-difference gradient checks.
        .target(name: "VlatTestSupport", dependencies: ["VlatTensor"], path: "Tests/Support"),

        .testTarget(name: "VlatFilesTests", dependencies: ["VlatFiles"]),
        .testTarget(name: "VlatImageIOTests", dependencies: ["VlatTestSupport", "VlatImageIO", "VlatTensor", "VlatFormat"],
                    exclude: ["pngsuite_reference.json", "zune_jpeg_reference.json"]),
        .testTarget(name: "VlatMetricsTests", dependencies: ["VlatMetrics", "VlatImageIO"],
                    exclude: ["reference_metrics.json"]),
        .testTarget(name: "VlatEntropyTests", dependencies: ["VlatTestSupport", "VlatEntropy", "VlatTensor"]),
        .testTarget(name: "VlatFormatTests", dependencies: ["VlatFormat", "VlatTensor"]),
        .testTarget(name: "VlatTensorTests", dependencies: ["VlatTestSupport", "VlatTensor", "CKernels"]),
        .testTarget(name: "VlatModelsTests", dependencies: ["VlatTestSupport", "VlatModels", "VlatTensor", "VlatFormat", "VlatEntropy"]),
        .testTarget(name: "VlatTrainingTests", dependencies: ["VlatTestSupport", "VlatFilters", "VlatTraining", "VlatModels", "VlatTensor", "VlatFormat"]),
        .testTarget(name: "VlatCodecTests", dependencies: ["VlatTestSupport", "VlatCodec", "VlatModels", "VlatTraining", "VlatFormat", "VlatImageIO", "VlatTensor", "VlatMetrics"]),
        .testTarget(name: "VlatFiltersTests", dependencies: ["VlatTestSupport", "VlatFilters", "VlatImageIO", "VlatMetrics", "VlatTensor"]),
        .testTarget(name: "VlatBenchTests", dependencies: ["VlatTestSupport", "VlatBench", "VlatPlot", "VlatImageIO", "VlatMetrics", "VlatCodec", "VlatModels", "VlatTensor", "VlatFilters"]),
        // "vlat" is not imported: the dependency makes SwiftPM build the binary these tests run.
        .testTarget(name: "VlatTests", dependencies: ["Vlat"]),
        .testTarget(name: "VlatCLITests", dependencies: ["VlatTestSupport", "vlat", "VlatFormat", "VlatImageIO", "VlatCodec", "VlatModels", "VlatTensor"]),
    ]
)
