import Dispatch

/// Splits `0..<count` into contiguous chunks run on up to `Parallel.threads` threads. Each index
/// is processed by exactly one thread in a fixed way, so results never depend on scheduling.
public enum Parallel {
    /// Worker threads for element-wise loops and im2col; matches OpenBLAS's thread count.
    nonisolated(unsafe) public static var threads = 2

    /// Runs `body(range)` over disjoint chunks. Small jobs (under `minimumPerThread` items per
    /// thread) run inline: a thread hop costs microseconds.
    public static func forRanges(_ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
        let t = max(1, min(threads, count / max(1, minimumPerThread)))
        if t <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // Safe by construction: the chunks are disjoint and concurrentPerform returns only
            // when every chunk is done, so `body` never outlives this call.
            nonisolated(unsafe) let work = body
            DispatchQueue.concurrentPerform(iterations: t) { i in
                let start = count * i / t, end = count * (i + 1) / t
                if start < end { work(start..<end) }
            }
        }
    }
}
