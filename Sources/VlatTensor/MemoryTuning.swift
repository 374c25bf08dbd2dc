#if canImport(Glibc)
import CMalloc
import Glibc
#endif

/// Process-wide allocator settings for training and inference.
///
/// glibc serves blocks over 32 MiB with `mmap` and unmaps them on `free`, so a network whose
/// activations are 30-60 MB re-faults every page of them on every call: measured, 4 million
/// page faults and 40 % of the wall time of a training benchmark spent in the kernel. Serving
/// all blocks from the heap and keeping freed memory (no trimming) makes the second and later
/// steps reuse the same pages. Peak memory is unchanged; memory is not returned to the system
/// until the process exits, which suits a command-line tool. Call once, early. Setting the
/// environment variable `VLAT_NO_MEMORY_TUNING=1` skips it, to measure the difference.
///
/// `largeBlocks`, when given, keeps blocks of at least that many bytes out of the heap (their own
/// mappings, returned on `free`): a large photo's latent-sized buffers then do not pile up
/// beside heap space that band buffers fragmented. For the codec's one-image commands, whose
/// big blocks are allocated a few times each, not every step as in training.
public enum MemoryTuning {
    public static func retainFreedMemory(largeBlocks: Int? = nil) {
        #if canImport(Glibc)
        if getenv("VLAT_NO_MEMORY_TUNING") != nil { return }
        if let largeBlocks {
            mallopt(M_MMAP_THRESHOLD, Int32(clamping: largeBlocks))
        } else {
            mallopt(M_MMAP_MAX, 0)
        }
        mallopt(M_TRIM_THRESHOLD, Int32.max)
        mallopt(M_TOP_PAD, 64 << 20)
        #endif
    }

    /// The `largeBlocks` of the codec's commands.
    public static let codecLargeBlocks = 32 << 20
}
