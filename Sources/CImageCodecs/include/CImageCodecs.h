// C side of vlat's image I/O. libpng and libjpeg report errors by longjmp; every setjmp lives in
// these C functions, so a jump never crosses a Swift frame. Each function returns a vlat_status
// and, on failure, a one-line message in `message` (NUL-terminated, at most VLAT_MESSAGE_SIZE).
#ifndef VLAT_CIMAGECODECS_H
#define VLAT_CIMAGECODECS_H

#include <stddef.h>
#include <stdint.h>

#define VLAT_MESSAGE_SIZE 256

typedef enum {
    VLAT_OK = 0,
    VLAT_ERR_NOT_THIS_FORMAT = 1, // signature does not match
    VLAT_ERR_CORRUPT = 2,         // the library rejected the data (includes truncation)
    VLAT_ERR_TOO_LARGE = 3,       // dimensions over the caller's limit, checked before allocating
    VLAT_ERR_UNSUPPORTED = 4,     // valid file, but a variant we do not handle
    VLAT_ERR_NO_MEMORY = 5,
    VLAT_ERR_INVALID_ARGUMENT = 6,
} vlat_status;

/// A decoded image. `pixels` is interleaved, row-major, `channels` samples per pixel
/// (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA), each `sample_bytes` wide (1, or 2 big-endian for
/// 16-bit PNG). Buffers are malloc'd; release them with vlat_decoded_free.
typedef struct {
    uint32_t width;
    uint32_t height;
    uint32_t channels;
    uint32_t sample_bytes;
    uint8_t *pixels;
    size_t pixels_size;
    uint8_t *icc;
    size_t icc_size;
    uint8_t *exif;         // EXIF as a TIFF structure ("II*\0" or "MM\0*" first), no "Exif\0\0" prefix
    size_t exif_size;
    uint8_t *xmp;          // the XMP packet (XML)
    size_t xmp_size;
    int icc_dropped;       // an ICC profile was present but the library refused it (the reason is in `message`)
    // What the file said about itself.
    int source_color_type; // PNG: the IHDR colour type; JPEG: the J_COLOR_SPACE of the file
    int source_bit_depth;
    int interlaced;        // PNG Adam7, or JPEG progressive
    int had_transparency;  // PNG tRNS chunk present (expanded into an alpha channel)
} vlat_decoded;

void vlat_decoded_free(vlat_decoded *image);

/// A growable output buffer; release with vlat_buffer_free.
typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
} vlat_buffer;

void vlat_buffer_free(vlat_buffer *buffer);

/// Metadata to write beside the pixels; NULL pointers (or zero sizes) mean none.
typedef struct {
    const uint8_t *icc;
    size_t icc_size;
    const uint8_t *exif; // a TIFF structure, as vlat_decoded holds it
    size_t exif_size;
    const uint8_t *xmp;
    size_t xmp_size;
} vlat_metadata;

/// The largest ICC profile, EXIF block or XMP packet read from a PNG (libpng's own default
/// ceiling for a decompressed ancillary chunk is 8,000,000 bytes; this is the .vlat container's).
#define VLAT_MAX_METADATA_BYTES (1u << 24)

/// Decodes a PNG of any colour type and bit depth. Palette and tRNS are expanded, 1/2/4-bit grey
/// is scaled to 8 bits, 16-bit samples are kept (big-endian) for the caller to round.
vlat_status vlat_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                            vlat_decoded *out, char *message);

/// PNG row filters for `vlat_png_encode`: libpng's adaptive choice among all five per row, or
/// the Average filter on every row.
enum { VLAT_PNG_FILTER_ADAPTIVE = 0, VLAT_PNG_FILTER_AVERAGE = 1 };

/// Encodes 8-bit interleaved pixels (1..4 channels) as PNG, with optional metadata (iCCP,
/// eXIf, and XMP as an iTXt chunk "XML:com.adobe.xmp"), zlib level `compression_level` and
/// `row_filter` (a `VLAT_PNG_FILTER_...` value).
vlat_status vlat_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height,
                            uint32_t channels, const vlat_metadata *metadata,
                            int compression_level, int row_filter, vlat_buffer *out, char *message);

/// Decodes a baseline or progressive JPEG: grey stays grey, YCbCr/RGB become RGB, CMYK/YCCK are
/// converted to RGB (Adobe inverted CMYK recognised). Truncated data is an error, not grey fill.
/// The ICC profile (APP2), EXIF and XMP (APP1) are returned raw.
vlat_status vlat_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                             vlat_decoded *out, char *message);

/// Encodes 8-bit grey (1 channel) or RGB (3 channels) pixels as JPEG. `subsampling_420` chooses
/// 4:2:0 chroma (else 4:4:4); Huffman tables are optimised.
/// Metadata goes into APP1 (EXIF, then XMP) and APP2 (ICC) segments; EXIF or XMP too large for
/// one segment (65,533 bytes with its signature) is an error.
vlat_status vlat_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height,
                             uint32_t channels, int quality, int subsampling_420,
                             const vlat_metadata *metadata, vlat_buffer *out, char *message);

#endif
