import VlatModels
import VlatTensor

/// The factorized-prior codec: `lambda * 255^2 * MSE + bits per pixel` under the learned prior,
/// with additive uniform noise standing in for rounding (Balle et al. 2017). With `priorOnly`,
/// only the prior learns, on the frozen transforms' latents: no synthesis, no backward through
/// the analysis, so the transforms' gradients are zero and Adam leaves them exactly unchanged.
struct RateDistortionStep: TrainingStep {
    let model: Autoencoder
    let lambda: Float
    let seed: UInt64
    let priorOnly: Bool

    func train(on x: Tensor, step: Int) -> StepResult {
        let pixels = Double(x.n * x.h * x.w)
        let prior = model.prior!
        if priorOnly {
            var y = model.analysis.forward(x, training: false)
            addRoundingNoise(&y, step: step)
            let (_, bits) = prior.forward(y, training: true)
            _ = prior.backward(scale: 1 / pixels)
            let bpp = bits / pixels
            return StepResult(loss: bpp, mse: .nan, bitsPerPixel: bpp)
        }
        var y = model.analysis.forward(x, training: true)
        addRoundingNoise(&y, step: step)
        let (_, bits) = prior.forward(y, training: true)
        let out = model.synthesis.forward(y, training: true)
        var (mse, grad) = Loss.mse(out, x)
        let weight = lambda * 255 * 255
        grad.scale(by: weight)
        var dy = model.synthesis.backward(grad)
        dy.add(prior.backward(scale: 1 / pixels))
        _ = model.analysis.backward(dy)
        let bpp = bits / pixels
        return StepResult(loss: Double(weight) * mse + bpp, mse: mse, bitsPerPixel: bpp)
    }

    /// Additive uniform noise in [-1/2, 1/2), drawn from this step's own stream.
    private func addRoundingNoise(_ y: inout Tensor, step: Int) {
        var g = SeededGenerator(seed: seed ^ 0x0000_0015_E0A5, stream: UInt64(step))
        for i in 0..<y.count { y.data[i] += g.uniform() - 0.5 }
    }
}
