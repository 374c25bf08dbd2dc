import FuzzSupport
import VlatImageIO

/// Fuzz target: the PNG reader (libpng through the C shim, iCCP inflated by vlat, eXIf, iTXt,
/// EXIF orientation). A PNG that decodes must have the size its header declares, and must
/// survive vlat's own PNG writer and reader unchanged, metadata included.
@main
enum FuzzPNG {
    static func main() {
        FuzzDriver.main(fuzzPNG) { FuzzModels.images.enumerated().map { ("g\($0.offset).png", try! PNGCodec.encode($0.element)) } }
    }
}

func fuzzPNG(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let image = try? ImageFile.decode(bytes, limits: ImageLimits(maxPixels: 1 << 22), upright: false) else { return 0 }
    let declared = ImageFile.dimensions(of: bytes)
    precondition(declared?.width == image.width && declared?.height == image.height, "header size differs from the decoded size")
    let upright = ExifOrientation.upright(image)
    precondition(upright.pixels.count == image.pixels.count)
    if let again = try? PNGCodec.encode(image), let back = try? PNGCodec.decode(again) {
        precondition(back.pixels == image.pixels && back.layout == image.layout, "PNG round trip changed the pixels")
        precondition(back.iccProfile == image.iccProfile && back.exif == image.exif && back.xmp == image.xmp,
                     "PNG round trip changed the metadata: ICC \(image.iccProfile?.count ?? 0) -> \(back.iccProfile?.count ?? 0), EXIF \(image.exif?.count ?? 0) -> \(back.exif?.count ?? 0), XMP \(image.xmp?.count ?? 0) -> \(back.xmp?.count ?? 0)")
    }
    return 0
}
