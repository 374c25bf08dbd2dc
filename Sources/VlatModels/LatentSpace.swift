import VlatTensor

/// What a variational autoencoder's latent space is for beyond compression: drawing new images
/// from the prior, and walking between two images.
public enum LatentSpace {
    /// Decodes `count` latents drawn from N(0, I) at the shape of a `height x width` image
    /// (multiples of 16). Meaningful for `vae` models, whose latents were pulled towards N(0, I).
    public static func sample(_ model: Autoencoder, count: Int, height: Int, width: Int,
                              generator: inout SeededGenerator) -> [Tensor] {
        let d = AutoencoderConfig.downsampling
        return (0..<count).map { _ in
            let shape = [1, model.config.latentChannels, height / d, width / d]
            let z = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in generator.normal() })
            return model.synthesis.forward(z, training: false)
        }
    }

    /// Decodes `steps` evenly spaced points on the straight line between the latents of `a` and
    /// `b` (same shape), endpoints included.
    public static func interpolate(_ model: Autoencoder, from a: Tensor, to b: Tensor, steps: Int) -> [Tensor] {
        precondition(a.shape == b.shape && steps >= 2)
        let za = model.latent(a), zb = model.latent(b)
        return (0..<steps).map { k in
            let t = Float(k) / Float(steps - 1)
            var z = za
            for i in 0..<z.count { z.data[i] = (1 - t) * za.data[i] + t * zb.data[i] }
            return model.synthesis.forward(z, training: false)
        }
    }

    /// Side-by-side strip of `[1, 3, H, W]` images as 8-bit RGB (clamped, rounded), 4 pixels apart.
    public static func strip(_ images: [Tensor]) -> (width: Int, height: Int, rgb: [UInt8]) {
        let h = images[0].h, w = images[0].w, gap = 4
        let width = images.count * w + (images.count - 1) * gap
        var rgb = [UInt8](repeating: 255, count: width * h * 3)
        for (k, image) in images.enumerated() {
            for y in 0..<h {
                for x in 0..<w {
                    for c in 0..<3 {
                        let v = image.data[(c * h + y) * w + x]
                        rgb[(y * width + k * (w + gap) + x) * 3 + c] = PixelScale.sample(v)
                    }
                }
            }
        }
        return (width, h, rgb)
    }
}
