import CImageCodecs

/// PNG reading and writing through libpng.
///
/// Reading accepts every PNG colour type and bit depth: palette images become RGB (RGBA with
/// tRNS), 1/2/4-bit grey is scaled to 8 bits, 16-bit samples are rounded to the nearest 8-bit
/// value, interlaced files are de-interlaced. The ICC profile (iCCP), EXIF (eXIf) and XMP (iTXt
/// "XML:com.adobe.xmp") are kept, each up to 16 MiB.
public enum PNGCodec {
    public static func decode(_ data: [UInt8], limits: ImageLimits = .default) throws -> Image {
        try DecodedBridge.decode(data, format: "PNG", limits: limits, vlat_png_decode) { decoded in
            let colorType: ImageSource.ColorType
            switch decoded.source_color_type {
            case 0: colorType = .grey
            case 2: colorType = .rgb
            case 3: colorType = .palette
            case 4: colorType = .greyAlpha
            default: colorType = .rgba
            }
            let source = ImageSource(format: .png, colorType: colorType, bitDepth: Int(decoded.source_bit_depth),
                                     interlaced: decoded.interlaced != 0)
            return DecodedBridge.makeImage(decoded, source: source)
        }
    }

    /// Encodes 8-bit samples in the image's own layout (grey, grey+alpha, RGB, RGBA) with its ICC
    /// profile, EXIF and XMP. `compressionLevel` is zlib's 0...9; the default, 3, writes a decoded
    /// photo several times faster than zlib's usual 6 for about 1 % more bytes, and the default
    /// row filter, Average, makes a decoded photo's file smaller and faster to write than
    /// libpng's adaptive choice does (`CodecBench png-levels`, `Benchmarks/codec/png-levels.md`;
    /// a camera photo's grain can favour `.adaptive`).
    public static let defaultCompressionLevel = 3

    /// The filter PNG applies to each row before deflate.
    public enum RowFilter: Sendable, CaseIterable {
        /// libpng's choice among the five filters, row by row (tries each).
        case adaptive
        /// The Average filter on every row: smooth images, such as a decoder's output, deflate
        /// well after it, and no row is filtered five ways.
        case average
    }

    public static let defaultRowFilter = RowFilter.average

    public static func encode(_ image: Image, compressionLevel: Int = defaultCompressionLevel,
                              rowFilter: RowFilter = defaultRowFilter) throws -> [UInt8] {
        var buffer = vlat_buffer()
        var message = [CChar](repeating: 0, count: Int(VLAT_MESSAGE_SIZE))
        let status = image.pixels.withUnsafeBufferPointer { px in
            DecodedBridge.withMetadata(image) { metadata in
                vlat_png_encode(px.baseAddress, UInt32(image.width), UInt32(image.height),
                                UInt32(image.layout.channels), metadata, Int32(max(0, min(9, compressionLevel))),
                                Int32(rowFilter == .average ? VLAT_PNG_FILTER_AVERAGE : VLAT_PNG_FILTER_ADAPTIVE), &buffer, &message)
            }
        }
        defer { vlat_buffer_free(&buffer) }
        guard status == VLAT_OK else {
            throw DecodedBridge.error(status: status, format: "PNG", message: DecodedBridge.message(message))
        }
        return Array(UnsafeBufferPointer(start: buffer.data, count: buffer.size))
    }
}
