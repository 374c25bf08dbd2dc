import CImageCodecs

/// Turns a filled `vlat_decoded` into an `Image`, rounding 16-bit samples to 8 bits.
enum DecodedBridge {
    static func makeImage(_ decoded: vlat_decoded, source: ImageSource) -> Image {
        let n = Int(decoded.width) * Int(decoded.height) * Int(decoded.channels)
        var pixels = [UInt8](repeating: 0, count: n)
        pixels.withUnsafeMutableBufferPointer { dst in
            if decoded.sample_bytes == 2 {
                // Nearest 8-bit value: round(v * 255 / 65535), exact in integers.
                for i in 0..<n {
                    let v = UInt32(decoded.pixels[2 * i]) << 8 | UInt32(decoded.pixels[2 * i + 1])
                    dst[i] = UInt8((v * 255 + 32767) / 65535)
                }
            } else {
                dst.baseAddress!.update(from: decoded.pixels, count: n)
            }
        }
        func bytes(_ pointer: UnsafeMutablePointer<UInt8>?, _ count: Int) -> [UInt8]? {
            count > 0 && pointer != nil ? Array(UnsafeBufferPointer(start: pointer, count: count)) : nil
        }
        return Image(width: Int(decoded.width), height: Int(decoded.height),
                     layout: PixelLayout(rawValue: Int(decoded.channels))!, pixels: pixels,
                     iccProfile: bytes(decoded.icc, decoded.icc_size), exif: bytes(decoded.exif, decoded.exif_size),
                     xmp: bytes(decoded.xmp, decoded.xmp_size), source: source)
    }

    /// Runs one of the C decoders on `data` and hands the filled struct to `convert`; failures
    /// become `ImageIOError`s naming `format`. The C buffers are freed afterwards.
    static func decode(_ data: [UInt8], format: String, limits: ImageLimits,
                       _ decoder: (UnsafePointer<UInt8>?, Int, UInt64, UnsafeMutablePointer<vlat_decoded>, UnsafeMutablePointer<CChar>) -> vlat_status,
                       convert: (vlat_decoded) -> Image) throws -> Image {
        var decoded = vlat_decoded()
        var message = [CChar](repeating: 0, count: Int(VLAT_MESSAGE_SIZE))
        let status = data.withUnsafeBufferPointer { bytes in
            decoder(bytes.baseAddress, bytes.count, UInt64(limits.maxPixels), &decoded, &message)
        }
        defer { vlat_decoded_free(&decoded) }
        guard status == VLAT_OK else {
            throw error(status: status, format: format, message: Self.message(message))
        }
        var image = convert(decoded)
        if decoded.icc_dropped != 0 { image.source.droppedICCReason = Self.message(message) }
        return image
    }

    /// Runs `body` with the image's metadata as the C encoders take it.
    static func withMetadata<R>(_ image: Image, _ body: (UnsafePointer<vlat_metadata>) -> R) -> R {
        let icc = image.iccProfile ?? [], exif = image.exif ?? [], xmp = image.xmp ?? []
        return icc.withUnsafeBufferPointer { i in
            exif.withUnsafeBufferPointer { e in
                xmp.withUnsafeBufferPointer { x in
                    var metadata = vlat_metadata(icc: icc.isEmpty ? nil : i.baseAddress, icc_size: i.count,
                                                 exif: exif.isEmpty ? nil : e.baseAddress, exif_size: e.count,
                                                 xmp: xmp.isEmpty ? nil : x.baseAddress, xmp_size: x.count)
                    return withUnsafePointer(to: &metadata) { body($0) }
                }
            }
        }
    }

    static func message(_ buffer: [CChar]) -> String {
        buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    static func error(status: vlat_status, format: String, message: String) -> ImageIOError {
        switch status {
        case VLAT_ERR_TOO_LARGE: return .tooLarge(message)
        case VLAT_ERR_UNSUPPORTED: return .unsupported(format: format, reason: message)
        case VLAT_ERR_NO_MEMORY: return .outOfMemory
        case VLAT_ERR_INVALID_ARGUMENT: return .cannotEncode(reason: message)
        default: return .corrupt(format: format, reason: message)
        }
    }
}
