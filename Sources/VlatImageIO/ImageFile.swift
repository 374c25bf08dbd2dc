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
    /// so the pixels are as a viewer shows them. `beforeDecoding` sees the dimensions the
    /// header declares before any pixel memory is allocated, and may refuse them by throwing
    /// (a memory budget, say).
    public static func decode(_ data: [UInt8], limits: ImageLimits = .default, upright: Bool = true,
                              beforeDecoding: ((_ width: Int, _ height: Int) throws -> Void)? = nil) throws -> Image {
        if let beforeDecoding, let size = dimensions(of: data) { try beforeDecoding(size.width, size.height) }
        let image: Image
        switch sniff(data) {
        case "PNG": image = try PNGCodec.decode(data, limits: limits)
        case "JPEG": image = try JPEGCodec.decode(data, limits: limits)
        case let other: throw ImageIOError.unsupportedFormat(detected: other)
        }
        return upright ? ExifOrientation.upright(image) : image
    }

    /// Reads an image file (`"-"` for standard input), upright as `decode` says. A file whose
    /// first bytes are not PNG or JPEG is refused before the rest is read (an endless device
    /// such as /dev/zero included); files are read up to `FileReader.defaultLimit` (1 GiB).
    public static func read(_ path: String, limits: ImageLimits = .default, upright: Bool = true,
                            beforeDecoding: ((_ width: Int, _ height: Int) throws -> Void)? = nil) throws -> Image {
        let data = try FileReader.read(path, prefix: .init(count: 16) { head in
            let kind = sniff(head)
            guard kind == "PNG" || kind == "JPEG" else { throw ImageIOError.unsupportedFormat(detected: kind) }
        })
        return try decode(data, limits: limits, upright: upright, beforeDecoding: beforeDecoding)
    }

    /// The width and height a PNG (IHDR) or JPEG (the first SOF marker, found as libjpeg finds
    /// it) header declares, read without decoding; nil when the header cannot be found. A file
    /// that decodes has the size this returns (the fuzz targets check it).
    public static func dimensions(of data: [UInt8]) -> (width: Int, height: Int)? {
        func u16(_ i: Int) -> Int { Int(data[i]) << 8 | Int(data[i + 1]) }
        func u32(_ i: Int) -> Int { u16(i) << 16 | u16(i + 2) }
        switch sniff(data) {
        case "PNG":
            guard data.count >= 24, Array(data[12..<16]) == Array("IHDR".utf8) else { return nil }
            return (u32(16), u32(20))
        case "JPEG":
            var i = 2
            while i + 4 <= data.count {
                // Bytes between segments are skipped to the next marker, as libjpeg does.
                guard data[i] == 0xFF else { i += 1; continue }
                let marker = data[i + 1]
                if marker == 0xFF { i += 1; continue }                      // fill byte
                if marker == 0x00 { i += 2; continue }                      // a stuffed zero is no marker
                if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }
                if marker == 0xDA || marker == 0xD9 { return nil }          // scan data before any SOF
                let length = u16(i + 2)
                // SOF0...SOF15, except DHT (C4), JPG (C8) and DAC (CC).
                if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                    guard i + 9 <= data.count else { return nil }
                    return (u16(i + 7), u16(i + 5))
                }
                // A length under 2 counts only itself, as libjpeg reads it.
                i += 2 + max(length, 2)
            }
            return nil
        default:
            return nil
        }
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
