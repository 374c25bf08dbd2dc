import VlatImageIO
import VlatModels
import VlatTensor

/// Cleans noisy or blurry images with a trained `Denoiser`.
///
/// ```swift
/// let model = try Denoiser(modelFile: ModelFile.parse(FileReader.read("denoise.vlatmodel")))
/// let clean = ImageDenoiser.denoise(try ImageFile.read("noisy.png"), model: model)
/// ```
///
/// The colour channels go through the network in tiles (see `Denoiser.denoise`), so any size
/// works in bounded memory and without seams; grey images come back grey, alpha and the ICC
/// profile are kept unchanged.
public enum ImageDenoiser {
    /// Output pixels per tile side; each tile is computed with a margin around it.
    public static let defaultTile = 256

    /// How far `strength` may go: 0 returns the input, 1 the network's output.
    public static let strengthRange: ClosedRange<Float> = 0...1

    /// `strength` below 1 blends the network's output with the input (`x + strength * (f(x) - x)`),
    /// keeping some of the grain or softness for people who prefer it; 1 is the network alone.
    /// `ensemble` averages the network over the eight orientations of the image
    /// (`Denoiser.denoiseSelfEnsemble`): eight times slower, a little cleaner.
    public static func denoise(_ image: Image, model: Denoiser, tile: Int = defaultTile, strength: Float = 1,
                               ensemble: Bool = false) -> Image {
        precondition(strengthRange.contains(strength), "strength outside \(strengthRange)")
        let x = ImageTensor.tensor(from: image)
        var y = ensemble ? model.denoiseSelfEnsemble(x, tile: tile) : model.denoise(x, tile: tile)
        if strength < 1 {
            y.data.withUnsafeMutableBufferPointer { out in
                x.data.withUnsafeBufferPointer { input in
                    // Between the input and the output as it would be shown (clamped to 0...1).
                    for i in out.indices { out[i] = input[i] + strength * (min(max(out[i], 0), 1) - input[i]) }
                }
            }
        }
        let rgb = ImageTensor.rgb(from: y, grey: image.layout.isGrey)
        var out = Image.assemble(width: image.width, height: image.height, rgb: rgb, alpha: image.alphaPlane(), layout: image.layout)
        out.takeMetadata(from: image)
        return out
    }
}
