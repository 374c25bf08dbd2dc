import VlatTensor

/// What one optimisation step reports.
public struct StepResult: Sendable {
    /// The loss the step minimised.
    public var loss: Double
    /// Mean squared error of the reconstruction; NaN for steps that do not reconstruct.
    public var mse: Double
    /// The latent's cost in bits per pixel (a VAE's KL, a codec's rate); nil for a plain autoencoder.
    public var bitsPerPixel: Double?

    public init(loss: Double, mse: Double, bitsPerPixel: Double? = nil) {
        self.loss = loss
        self.mse = mse
        self.bitsPerPixel = bitsPerPixel
    }
}

/// One objective: the loss of a batch, computed outside the network (as CompressAI keeps its
/// losses apart from its models), with its backward pass. `train` accumulates every
/// parameter's gradient; the `Trainer` then takes the optimiser step. Every random draw of
/// step `step` comes from a generator seeded by the run's seed and `step`, so a resumed run
/// draws the same.
public protocol TrainingStep {
    func train(on x: Tensor, step: Int) -> StepResult
}
