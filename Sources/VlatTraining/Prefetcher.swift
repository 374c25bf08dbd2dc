import Foundation
import VlatTensor

/// Prepares the next batch on a background thread while the current step computes. Batches
/// are a pure function of the step, so prefetching never changes what training sees.
public final class Prefetcher: @unchecked Sendable {
    private let sampler: BatchSampler
    private let queue = DispatchQueue(label: "vlat.prefetch")
    private let lock = NSLock()
    private var pending: (step: Int, group: DispatchGroup)?
    private var ready: (step: Int, batch: Tensor)?

    public init(sampler: BatchSampler) { self.sampler = sampler }

    /// The batch for `step`; starts preparing `step + 1`.
    public func batch(step: Int) -> Tensor {
        lock.lock()
        let waiting = pending
        lock.unlock()
        if let waiting, waiting.step == step { waiting.group.wait() }
        lock.lock()
        let batch: Tensor
        if let ready, ready.step == step { batch = ready.batch } else { batch = sampler.batch(step: step) }
        ready = nil
        let group = DispatchGroup()
        pending = (step + 1, group)
        lock.unlock()
        queue.async(group: group) { [sampler] in
            let next = sampler.batch(step: step + 1)
            self.lock.lock()
            self.ready = (step + 1, next)
            self.lock.unlock()
        }
        return batch
    }
}
