import VlatModels
import VlatTensor

/// The denoiser: each clean crop corrupted on the fly, MSE of the output to the clean crop.
struct DenoiseStep: TrainingStep {
    let denoiser: Denoiser
    let corruption: Corruption
    let seed: UInt64

    func train(on x: Tensor, step: Int) -> StepResult {
        var g = SeededGenerator(seed: seed ^ 0x0000_DE01_5E00, stream: UInt64(step))
        let out = denoiser.forward(corruption.apply(x, generator: &g), training: true)
        let (mse, grad) = Loss.mse(out, x)
        denoiser.backward(grad)
        return StepResult(loss: mse, mse: mse)
    }
}
