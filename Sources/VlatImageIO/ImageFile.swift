import VlatFiles

/// Reads and writes image files, choosing the codec from the content (reading) or the file name
/// extension (writing).
///
/// ```swift
/// let photo = try ImageFile.read("Corpus/photos/coffee.png")
/// try ImageFile.write(photo, to: "coffee.jpg", format: .jpeg(quality: 90), overwrite: false)
/// ```
public enum ImageFile {
    /// An output encoding.
    public enum OutputFormat: Sendable, Equatable {
        case png
        case jpeg(quality: Int, subsampling: JPEGCodec.Subsampling = .s420)

        /// `.jpg`/`.jpeg` names give JPEG at `jpegQuality`; everything else gives PNG.
        public static func forPath(_ path: String, jpegQuality: Int = 90) -> OutputFormat {
            let lower = path.lowercased()
            return lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") ? .jpeg(quality: jpegQuality) : .png
        }
    }

    /// Decodes PNG or JPEG bytes, sniffing the signature; anything else is refused by name.
    /// With `upright` (the default) the EXIF orientation is applied (`ExifOrientation.upright`),
    /// so the pixels are as a viewer shows them.
    public static func decode(_ data: [UInt8], limits: ImageLimits = .default, upright: Bool = true) throws -> Image {
        let image: Image
        switch sniff(data) {
        case "PNG": image = try PNGCodec.decode(data, limits: limits)
        case "JPEG": image = try JPEGCodec.decode(data, limits: limits)
        case let other: throw ImageIOError.unsupportedFormat(detected: other)
        }
        return upright ? ExifOrientation.upright(image) : image
    }

    /// Reads an image file (`"-"` for standard input), upright as `decode` says.
    public static func read(_ path: String, limits: ImageLimits = .default, upright: Bool = true) throws -> Image {
        try decode(FileReader.read(path), limits: limits, upright: upright)
    }

    /// Encodes `image` in `format`.
    public static func encode(_ image: Image, format: OutputFormat) throws -> [UInt8] {
        switch format {
        case .png: return try PNGCodec.encode(image)
        case .jpeg(let quality, let subsampling):
            return try JPEGCodec.encode(image, quality: quality, subsampling: subsampling)
        }
    }

    /// Encodes and writes atomically; refuses to replace an existing file unless `overwrite`.
    public static func write(_ image: Image, to path: String, format: OutputFormat? = nil,
                             overwrite: Bool, inputs: [String] = []) throws {
        let bytes = try encode(image, format: format ?? .forPath(path))
        try AtomicFile.write(bytes, to: path, overwrite: overwrite, inputs: inputs)
    }

    /// Names the format of `data` from its first bytes: "PNG", "JPEG", another known format's
    /// name, or nil.
    public static func sniff(_ data: [UInt8]) -> String? {
        func starts(_ prefix: [UInt8]) -> Bool { data.count >= prefix.count && Array(data[0..<prefix.count]) == prefix }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "PNG" }
        if starts([0xFF, 0xD8, 0xFF]) { return "JPEG" }
        if starts([0x89, 0x56, 0x4C, 0x41, 0x54]) { return "a .vlat file: use 'vlat decompress'" }
        if starts(Array("GIF8".utf8)) { return "GIF" }
        if starts(Array("BM".utf8)) { return "BMP" }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return "TIFF" }
        if data.count >= 12 && Array(data[0..<4]) == Array("RIFF".utf8) && Array(data[8..<12]) == Array("WEBP".utf8) {
            return "WebP"
        }
        if data.count >= 12 && Array(data[4..<8]) == Array("ftyp".utf8) { return "ISO-BMFF (AVIF/HEIC)" }
        if starts([0xFF, 0x0A]) || starts([0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20]) { return "JPEG XL" }
        return nil
    }
}
