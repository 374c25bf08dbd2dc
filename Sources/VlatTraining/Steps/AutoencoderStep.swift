import VlatModels
import VlatTensor

/// A plain undercomplete autoencoder: MSE of the reconstruction.
struct AutoencoderStep: TrainingStep {
    let model: Autoencoder

    func train(on x: Tensor, step: Int) -> StepResult {
        let y = model.analysis.forward(x, training: true)
        let out = model.synthesis.forward(y, training: true)
        let (mse, grad) = Loss.mse(out, x)
        _ = model.analysis.backward(model.synthesis.backward(grad))
        return StepResult(loss: mse, mse: mse)
    }
}
