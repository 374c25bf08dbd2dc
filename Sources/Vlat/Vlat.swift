// `import Vlat`: the whole public API in one import (as swift-collections' `Collections`).
// Each part stays importable on its own (`import VlatCodec`, `import VlatImageIO`, ...).
@_exported import VlatBench
@_exported import VlatCodec
@_exported import VlatEntropy
@_exported import VlatFiles
@_exported import VlatFilters
@_exported import VlatFormat
@_exported import VlatImageIO
@_exported import VlatMetrics
@_exported import VlatModels
@_exported import VlatPlot
@_exported import VlatTensor
@_exported import VlatTraining
