import VlatImageIO
import VlatTensor

/// The conversions between 8-bit images and the networks' float tensors, shared by the codec
/// and the denoiser so that both treat grey, alpha and rounding the same way.
public enum ImageTensor {
    /// `[1, 3, H, W]` in [0, 1] from the image's RGB samples (grey replicated, alpha dropped).
    public static func tensor(from image: Image) -> Tensor {
        let rgb = image.rgbSamples()
        let n = image.pixelCount
        var t = Tensor(zeros: [1, 3, image.height, image.width])
        t.data.withUnsafeMutableBufferPointer { d in
            for c in 0..<3 { for i in 0..<n { d[c * n + i] = PixelScale.value(rgb[3 * i + c]) } }
        }
        return t
    }

    /// Interleaved 8-bit RGB from a `[1, 3, H, W]` tensor: clamped to [0, 1], scaled, rounded.
    /// With `grey`, each pixel gets the rounded mean of its three channels (a network's R, G
    /// and B differ slightly even for a grey input).
    public static func rgb(from y: Tensor, grey: Bool) -> [UInt8] {
        let n = y.h * y.w
        var rgb = [UInt8](repeating: 0, count: n * 3)
        for c in 0..<3 {
            for i in 0..<n { rgb[3 * i + c] = PixelScale.sample(y.data[c * n + i]) }
        }
        if grey {
            for i in 0..<n {
                let sum = Int(rgb[3 * i]) + Int(rgb[3 * i + 1]) + Int(rgb[3 * i + 2])
                let m = UInt8((2 * sum + 3) / 6) // round(sum / 3)
                rgb[3 * i] = m; rgb[3 * i + 1] = m; rgb[3 * i + 2] = m
            }
        }
        return rgb
    }
}
