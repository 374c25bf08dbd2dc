import ArgumentParser
import Foundation
import VlatFiles
import VlatFormat
import VlatImageIO
import VlatModels
import VlatTensor

/// Loads any autoencoder model file, with errors that name the file.
func loadAutoencoder(_ path: String) throws -> Autoencoder {
    do { return try Autoencoder(modelFile: ModelFile.parse(FileReader.read(path))) } catch { throw CLIError(file: path, error) }
}

func writeStrip(_ images: [Tensor], to path: String, force: Bool, inputs: [String] = []) throws {
    let strip = LatentSpace.strip(images)
    let image = Image(width: strip.width, height: strip.height, layout: .rgb, pixels: strip.rgb)
    do { try ImageFile.write(image, to: path, overwrite: force, inputs: inputs) } catch { throw CLIError(file: path, error) }
}

/// `vlat sample`: new images from a VAE's prior.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Decode latents drawn from N(0, I) with a VAE model into a strip of images.",
        discussion: """
        Examples:
          vlat sample --model vae.vlatmodel -o samples.png
          vlat sample --model vae.vlatmodel --count 8 --size 128 --seed 7 -o samples.png
        """)

    @Option(help: "A model trained with --objective vae.") var model: String
    @Option(name: .shortAndLong, help: "Output PNG.") var output: String
    @Option(help: "Images to draw.") var count: Int = 4
    @Option(help: "Side of each image in pixels (a multiple of 16).") var size: Int = 128
    @Option(help: "Seed for the draws.") var seed: UInt64 = 1
    @Flag(help: "Replace an existing output.") var force = false

    func validate() throws {
        if count < 1 || count > 64 { throw ValidationError("--count must be in 1...64") }
        if size < 16 || size % 16 != 0 || size > 2048 { throw ValidationError("--size must be a multiple of 16 in 16...2048") }
    }

    func run() throws {
        let network = try loadAutoencoder(model)
        if network.config.objective != .vae { Terminal.note("\(model) is not a VAE: its latents were never pulled towards N(0, I), so samples will look like noise") }
        var g = SeededGenerator(seed: seed)
        try writeStrip(LatentSpace.sample(network, count: count, height: size, width: size, generator: &g), to: output, force: force)
    }
}

/// `vlat interpolate`: a walk through latent space between two images.
struct InterpolateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interpolate",
        abstract: "Decode evenly spaced points between the latents of two images into a strip.",
        discussion: """
        Both images are centre-cropped to the largest common size that is a multiple of 16.

        Examples:
          vlat interpolate a.png b.png --model vae.vlatmodel -o walk.png
          vlat interpolate a.png b.png --model ae.vlatmodel --steps 10 -o walk.png
        """)

    @Argument(help: "First image.") var first: String
    @Argument(help: "Second image.") var second: String
    @Option(help: "Any autoencoder model file.") var model: String
    @Option(name: .shortAndLong, help: "Output PNG.") var output: String
    @Option(help: "Images in the strip, endpoints included.") var steps: Int = 8
    @Flag(help: "Replace an existing output.") var force = false

    func validate() throws {
        if steps < 2 || steps > 64 { throw ValidationError("--steps must be in 2...64") }
    }

    func run() throws {
        let network = try loadAutoencoder(model)
        var images: [Image] = []
        for path in [first, second] {
            do { images.append(try ImageFile.read(path)) } catch { throw CLIError(file: path, error) }
        }
        let h = min(images[0].height, images[1].height) / 16 * 16, w = min(images[0].width, images[1].width) / 16 * 16
        guard h >= 16, w >= 16 else { throw CLIError("images must be at least 16x16") }
        let tensors = images.map { image -> Tensor in
            let rgb = image.rgbSamples()
            let y0 = (image.height - h) / 2, x0 = (image.width - w) / 2
            var t = Tensor(zeros: [1, 3, h, w])
            for y in 0..<h { for x in 0..<w { for c in 0..<3 {
                t.data[(c * h + y) * w + x] = PixelScale.value(rgb[((y0 + y) * image.width + x0 + x) * 3 + c])
            } } }
            return t
        }
        try writeStrip(LatentSpace.interpolate(network, from: tensors[0], to: tensors[1], steps: steps), to: output,
                       force: force, inputs: [first, second])
    }
}
