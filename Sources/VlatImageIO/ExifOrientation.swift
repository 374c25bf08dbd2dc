/// The EXIF orientation tag (0x0112): how the stored pixels must be turned to stand upright.
///
/// Cameras store pixels as the sensor saw them and record the turn in EXIF. A codec that drops
/// the tag without turning the pixels shows the photo sideways, so `ImageFile` applies it on
/// reading: the pixels are turned upright and the tag set to 1 in the EXIF that is carried on.
///
/// ```swift
/// let upright = ExifOrientation.upright(image)   // a portrait phone photo: 3000x4000, not 4000x3000
/// ```
///
/// Values (EXIF 2.32, TIFF 6.0): 1 as stored; 2 mirrored left-right; 3 turned 180 degrees;
/// 4 mirrored top-bottom; 5 transposed (mirrored about the main diagonal); 6 turned 90 degrees
/// clockwise; 7 transversed (mirrored about the other diagonal); 8 turned 90 degrees
/// anticlockwise.
public enum ExifOrientation {
    static let tag: UInt16 = 0x0112

    /// The orientation recorded in `exif` (a TIFF structure), or nil when there is none or the
    /// structure is damaged; values outside 1...8 read as nil.
    public static func read(_ exif: [UInt8]) -> Int? {
        guard let offset = valueOffset(exif) else { return nil }
        let value = Int(readU16(exif, offset, bigEndian: exif[0] == 0x4D))
        return (1...8).contains(value) ? value : nil
    }

    /// `exif` with its orientation set to `value` (when the tag is there; unchanged otherwise).
    public static func setting(_ exif: [UInt8], to value: Int) -> [UInt8] {
        guard let offset = valueOffset(exif) else { return exif }
        var out = exif
        let v = UInt16(value)
        if exif[0] == 0x4D { out[offset] = UInt8(v >> 8); out[offset + 1] = UInt8(v & 0xFF) } else {
            out[offset] = UInt8(v & 0xFF); out[offset + 1] = UInt8(v >> 8)
        }
        return out
    }

    /// `image` turned as its EXIF orientation says, with the tag set to 1 and
    /// `source.appliedOrientation` recording the turn; unchanged when the orientation is 1 or
    /// absent.
    public static func upright(_ image: Image) -> Image {
        guard let exif = image.exif, let o = read(exif), o != 1 else { return image }
        var out = apply(o, to: image)
        out.takeMetadata(from: image)
        out.exif = setting(exif, to: 1)
        out.source.appliedOrientation = o
        return out
    }

    /// The pixels of `image` turned by orientation `o` (1...8); metadata is not carried.
    public static func apply(_ o: Int, to image: Image) -> Image {
        let w = image.width, h = image.height, c = image.layout.channels
        let swaps = o >= 5
        let (outW, outH) = swaps ? (h, w) : (w, h)
        var pixels = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outH {
                    for x in 0..<outW {
                        // The stored pixel (sx, sy) shown at (x, y).
                        let (sx, sy): (Int, Int)
                        switch o {
                        case 2: (sx, sy) = (w - 1 - x, y)
                        case 3: (sx, sy) = (w - 1 - x, h - 1 - y)
                        case 4: (sx, sy) = (x, h - 1 - y)
                        case 5: (sx, sy) = (y, x)
                        case 6: (sx, sy) = (y, h - 1 - x)
                        case 7: (sx, sy) = (w - 1 - y, h - 1 - x)
                        case 8: (sx, sy) = (w - 1 - y, x)
                        default: (sx, sy) = (x, y)
                        }
                        let from = (sy * w + sx) * c, to = (y * outW + x) * c
                        for k in 0..<c { dst[to + k] = src[from + k] }
                    }
                }
            }
        }
        return Image(width: outW, height: outH, layout: image.layout, pixels: pixels)
    }

    /// Where the orientation entry of IFD0 keeps its 16-bit value, every offset checked
    /// against the bytes present.
    static func valueOffset(_ exif: [UInt8]) -> Int? {
        guard exif.count >= 8 else { return nil }
        let big: Bool
        switch (exif[0], exif[1]) {
        case (0x49, 0x49): big = false
        case (0x4D, 0x4D): big = true
        default: return nil
        }
        guard readU16(exif, 2, bigEndian: big) == 42 else { return nil }
        let ifd = Int(readU32(exif, 4, bigEndian: big))
        guard ifd >= 8, ifd <= exif.count - 2 else { return nil }
        let count = Int(readU16(exif, ifd, bigEndian: big))
        for i in 0..<count {
            let entry = ifd + 2 + 12 * i
            guard entry + 12 <= exif.count else { return nil }
            // Type 3 (SHORT), one value: it sits in the first two bytes of the value field.
            if readU16(exif, entry, bigEndian: big) == tag {
                guard readU16(exif, entry + 2, bigEndian: big) == 3, readU32(exif, entry + 4, bigEndian: big) == 1 else { return nil }
                return entry + 8
            }
        }
        return nil
    }

    static func readU16(_ b: [UInt8], _ at: Int, bigEndian: Bool) -> UInt16 {
        bigEndian ? UInt16(b[at]) << 8 | UInt16(b[at + 1]) : UInt16(b[at + 1]) << 8 | UInt16(b[at])
    }

    static func readU32(_ b: [UInt8], _ at: Int, bigEndian: Bool) -> UInt32 {
        let bytes = (0..<4).map { UInt32(b[at + $0]) }
        return bigEndian ? bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]
            : bytes[3] << 24 | bytes[2] << 16 | bytes[1] << 8 | bytes[0]
    }
}
