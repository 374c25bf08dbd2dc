import ArgumentParser
import VlatCodec
import VlatImageIO

/// `--model-dir`: where to look for models before `$VLAT_MODELS` and the shipped ones.
struct ModelSearchOptions: ParsableArguments {
    @Option(help: "Extra folder to search for models (before $VLAT_MODELS and the shipped ones; repeatable).") var modelDir: [String] = []

    var registry: ModelRegistry { ModelRegistry(folders: modelDir) }
}

/// The options of commands that turn many files into many outputs.
struct BatchOptions: ParsableArguments {
    @Option(help: "Files processed at once (default: one per core).") var jobs: Int?
    @Flag(help: "Replace existing output files (never an input).") var force = false

    func validate() throws {
        if let jobs, !(1...64).contains(jobs) { throw ValidationError("--jobs must be in 1...64") }
    }
}

/// `--max-pixels`: the largest image read, checked from the header before decoding.
struct ImageLimitOptions: ParsableArguments {
    @Option(help: "Refuse images with more pixels than this (checked before decoding).") var maxPixels: Int = ImageLimits.default.maxPixels

    func validate() throws {
        if maxPixels < 1 { throw ValidationError("--max-pixels must be at least 1") }
    }

    var limits: ImageLimits { ImageLimits(maxPixels: maxPixels) }
}

/// `--max-memory`: the memory coding may take, shared by the parallel jobs.
struct MemoryLimitOptions: ParsableArguments {
    @Option(help: "Refuse images whose coding would need more memory than this, in MiB (default: 3/4 of this machine's).") var maxMemory: Int?

    func validate() throws {
        if let maxMemory, maxMemory < 1 { throw ValidationError("--max-memory must be at least 1 (MiB)") }
    }

    /// Bytes each of `workers` jobs may use.
    func perJob(_ workers: Int) -> Int { (maxMemory.map { $0 << 20 } ?? ImageCodec.defaultMemoryLimit) / workers }
}
