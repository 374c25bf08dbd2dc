import CImageCodecs

/// JPEG reading and writing through libjpeg(-turbo).
///
/// Reading handles baseline and progressive files; grey stays grey, YCbCr becomes RGB, CMYK and
/// YCCK are converted to RGB (Adobe's inverted CMYK included). A truncated file is an error.
/// The ICC profile (APP2), EXIF and XMP (APP1) are kept.
public enum JPEGCodec {
    /// Chroma subsampling for encoding.
    public enum Subsampling: String, Sendable, CaseIterable {
        case s420 = "420"
        case s444 = "444"
    }

    public static func decode(_ data: [UInt8], limits: ImageLimits = .default) throws -> Image {
        try DecodedBridge.decode(data, format: "JPEG", limits: limits, vlat_jpeg_decode) { decoded in
            // libjpeg's J_COLOR_SPACE: 1 grayscale, 2 RGB, 3 YCbCr, 4 CMYK, 5 YCCK.
            let colorType: ImageSource.ColorType
            switch decoded.source_color_type {
            case 1: colorType = .grey
            case 4, 5: colorType = .cmyk
            default: colorType = .rgb
            }
            let source = ImageSource(format: .jpeg, colorType: colorType, bitDepth: Int(decoded.source_bit_depth),
                                     interlaced: decoded.interlaced != 0)
            return DecodedBridge.makeImage(decoded, source: source)
        }
    }

    /// Encodes a grey or RGB image (alpha must be removed first: JPEG cannot hold it) at
    /// `quality` 1...100 with optimised Huffman tables.
    public static func encode(_ image: Image, quality: Int, subsampling: Subsampling = .s420) throws -> [UInt8] {
        guard !image.layout.hasAlpha else {
            throw ImageIOError.cannotEncode(reason: "JPEG cannot store an alpha channel; write PNG instead")
        }
        var buffer = vlat_buffer()
        var message = [CChar](repeating: 0, count: Int(VLAT_MESSAGE_SIZE))
        let status = image.pixels.withUnsafeBufferPointer { px in
            DecodedBridge.withMetadata(image) { metadata in
                vlat_jpeg_encode(px.baseAddress, UInt32(image.width), UInt32(image.height),
                                 UInt32(image.layout.channels), Int32(clamping: quality), subsampling == .s420 ? 1 : 0,
                                 metadata, &buffer, &message)
            }
        }
        defer { vlat_buffer_free(&buffer) }
        guard status == VLAT_OK else {
            throw DecodedBridge.error(status: status, format: "JPEG", message: DecodedBridge.message(message))
        }
        return Array(UnsafeBufferPointer(start: buffer.data, count: buffer.size))
    }
}
