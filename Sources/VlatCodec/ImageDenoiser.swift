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

    public static func denoise(_ image: Image, model: Denoiser, tile: Int = defaultTile) -> Image {
        let y = model.denoise(ImageTensor.tensor(from: image), tile: tile)
        let rgb = ImageTensor.rgb(from: y, grey: image.layout.isGrey)
        var out = Image.assemble(width: image.width, height: image.height, rgb: rgb, alpha: image.alphaPlane(), layout: image.layout)
        out.iccProfile = image.iccProfile
        out.source = image.source
        return out
    }
}
