import FuzzSupport
import VlatImageIO

/// Fuzz target: the JPEG reader (libjpeg-turbo through the C shim: baseline, progressive, CMYK,
/// APP1/APP2 metadata, EXIF orientation). A JPEG that decodes must have the size its first SOF
/// declares.
@main
enum FuzzJPEG {
    static func main() {
        FuzzDriver.main(fuzzJPEG) {
            FuzzModels.images.enumerated().compactMap { i, image in
                let rgb = image.layout.hasAlpha ? image.toRGB() : image
                return (try? JPEGCodec.encode(rgb, quality: 80)).map { ("g\(i).jpg", $0) }
            }
        }
    }
}

func fuzzJPEG(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let image = try? ImageFile.decode(bytes, limits: ImageLimits(maxPixels: 1 << 22), upright: false) else { return 0 }
    let declared = ImageFile.dimensions(of: bytes)
    precondition(declared?.width == image.width && declared?.height == image.height, "SOF size differs from the decoded size")
    _ = ExifOrientation.upright(image)
    return 0
}
