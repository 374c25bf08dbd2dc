import Foundation
import VlatModels
import VlatTensor

/// A Gaussian VAE: the analysis outputs a mean and a log-variance per latent, the latent is
/// sampled by reparameterisation, and the loss is `MSE + beta * KL(q(z|x) || N(0, I))` (the KL
/// in nats per pixel; reported in bits per pixel).
struct VAEStep: TrainingStep {
    let model: Autoencoder
    let beta: Float
    let seed: UInt64

    func train(on x: Tensor, step: Int) -> StepResult {
        let pixels = Double(x.n * x.h * x.w)
        let stats = model.analysis.forward(x, training: true)
        let (mu, logvarRaw) = TensorOps.splitChannels(stats, at: model.config.latentChannels)
        // Clamped for numerical safety; a clamped element passes no gradient back.
        let clamped = logvarRaw.data.map { $0 < -30 || $0 > 20 }
        var logvar = logvarRaw
        for i in 0..<logvar.count { logvar.data[i] = min(20, max(-30, logvar.data[i])) }
        // Reparameterisation: z = mu + sigma * eps, eps from this step's own stream.
        var g = SeededGenerator(seed: seed ^ 0x0005_EED5_0FE9, stream: UInt64(step))
        let eps = (0..<mu.count).map { _ in g.normal() }
        var z = mu
        var sigma = [Float](repeating: 0, count: mu.count)
        for i in 0..<z.count {
            sigma[i] = exp(0.5 * logvar.data[i])
            z.data[i] += sigma[i] * eps[i]
        }
        let out = model.synthesis.forward(z, training: true)
        let (mse, grad) = Loss.mse(out, x)
        let kl = Loss.gaussianKL(mu: mu, logvar: logvar, normalizer: pixels)
        let dz = model.synthesis.backward(grad)
        var dMu = dz, dLogvar = dz
        for i in 0..<dz.count {
            dMu.data[i] = dz.data[i] + beta * kl.dMu.data[i]
            dLogvar.data[i] = clamped[i] ? 0 : dz.data[i] * eps[i] * 0.5 * sigma[i] + beta * kl.dLogvar.data[i]
        }
        _ = model.analysis.backward(TensorOps.concatChannels(dMu, dLogvar))
        return StepResult(loss: mse + Double(beta) * kl.value, mse: mse, bitsPerPixel: kl.value / log(2))
    }
}
