import Testing
import VlatModels
import VlatTensor

@Suite("Latent space: sampling and interpolation")
struct LatentSpaceTests {
    let model = Autoencoder(config: AutoencoderConfig(objective: .vae, channels: 6, latentChannels: 4), seed: 3)

    @Test func interpolationEndpointsAreTheReconstructions() {
        var g = SeededGenerator(seed: 1)
        let a = Tensor(shape: [1, 3, 32, 48], data: (0..<(3 * 32 * 48)).map { _ in g.uniform() })
        let b = Tensor(shape: [1, 3, 32, 48], data: (0..<(3 * 32 * 48)).map { _ in g.uniform() })
        let walk = LatentSpace.interpolate(model, from: a, to: b, steps: 5)
        #expect(walk.count == 5)
        #expect(walk.first == model.reconstruct(a) && walk.last == model.reconstruct(b))
        #expect(walk[2] != walk[0] && walk[2] != walk[4])
    }

    @Test func samplesAreReproducibleFromTheSeed() {
        var g1 = SeededGenerator(seed: 9), g2 = SeededGenerator(seed: 9)
        let s1 = LatentSpace.sample(model, count: 3, height: 32, width: 16, generator: &g1)
        let s2 = LatentSpace.sample(model, count: 3, height: 32, width: 16, generator: &g2)
        #expect(s1 == s2 && s1.count == 3 && s1[0].shape == [1, 3, 32, 16] && s1[0] != s1[1])
        let strip = LatentSpace.strip(s1)
        #expect(strip.width == 3 * 16 + 2 * 4 && strip.height == 32 && strip.rgb.count == strip.width * 32 * 3)
    }
}
