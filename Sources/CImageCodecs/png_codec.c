// PNG through libpng's full API (not png_image_*): the simplified API treats 16-bit data as
// linear light and would gamma-encode it on the way to 8 bits, and it hides the ICC profile.
#include "CImageCodecs.h"
#include "internal.h"
#include <png.h>
#include <setjmp.h>
#include <zlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    char *message;
    int icc_dropped;
} png_reader_state;

static void png_error_handler(png_structp png, png_const_charp text) {
    png_reader_state *state = (png_reader_state *)png_get_error_ptr(png);
    if (state && state->message) snprintf(state->message, VLAT_MESSAGE_SIZE, "%s", text);
    png_longjmp(png, 1);
}

static void png_warning_handler(png_structp png, png_const_charp text) {
    // libpng warnings (e.g. a bad ancillary CRC) are not fatal and stay quiet, except a refused
    // ICC profile, which the caller reports instead of dropping it in silence.
    png_reader_state *state = (png_reader_state *)png_get_error_ptr(png);
    if (state && state->message && strncmp(text, "iCCP", 4) == 0) {
        state->icc_dropped = 1;
        snprintf(state->message, VLAT_MESSAGE_SIZE, "%s", text);
    }
}

static void png_read_from_memory(png_structp png, png_bytep dest, png_size_t length) {
    png_reader_state *state = (png_reader_state *)png_get_io_ptr(png);
    if (length > state->size - state->offset) {
        png_error(png, "file is truncated");
    }
    memcpy(dest, state->data + state->offset, length);
    state->offset += length;
}

static const png_byte iccp_name[5] = {'i', 'C', 'C', 'P', '\0'};
static const png_byte itxt_name[5] = {'i', 'T', 'X', 't', '\0'};
static const png_byte exif_name[5] = {'e', 'X', 'I', 'f', '\0'};

/// Inflates a zlib stream into a malloc'd buffer of at most VLAT_MAX_METADATA_BYTES. Returns
/// NULL with a reason in `why` otherwise (`what` names the chunk in that reason).
static uint8_t *inflate_limited(const png_byte *data, size_t size, size_t *out_size, const char *what,
                                char *why, size_t why_size) {
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit(&z) != Z_OK) { snprintf(why, why_size, "%s: zlib failed to start", what); return NULL; }
    size_t capacity = 65536, used = 0;
    const size_t ceiling = (size_t)VLAT_MAX_METADATA_BYTES + 1;
    uint8_t *out = (uint8_t *)malloc(capacity);
    if (!out) { inflateEnd(&z); snprintf(why, why_size, "out of memory"); return NULL; }
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)size;
    int rc = Z_OK;
    while (rc == Z_OK) {
        if (used == capacity) {
            if (capacity >= ceiling) break;
            capacity = capacity * 2 > ceiling ? ceiling : capacity * 2;
            uint8_t *grown = (uint8_t *)realloc(out, capacity);
            if (!grown) { free(out); inflateEnd(&z); snprintf(why, why_size, "out of memory"); return NULL; }
            out = grown;
        }
        z.next_out = out + used;
        z.avail_out = (uInt)(capacity - used);
        rc = inflate(&z, Z_NO_FLUSH);
        used = capacity - z.avail_out;
        if (rc == Z_BUF_ERROR && z.avail_out > 0) break; // the input ended early
        if (rc == Z_BUF_ERROR) rc = Z_OK;                 // the output is full: grow and go on
    }
    inflateEnd(&z);
    if (used > VLAT_MAX_METADATA_BYTES) {
        free(out);
        snprintf(why, why_size, "%s: over 16 MiB, the most vlat keeps", what);
        return NULL;
    }
    if (rc != Z_STREAM_END) { free(out); snprintf(why, why_size, "%s: corrupt compressed data", what); return NULL; }
    *out_size = used;
    return out;
}

/// Length of a NUL-terminated field of at most `max` bytes starting at `data[at]`, or -1 when
/// it has no NUL within the chunk or the limit.
static long field_length(const png_byte *data, size_t size, size_t at, size_t max) {
    for (size_t k = at; k < size && k - at <= max; k++) if (data[k] == 0) return (long)(k - at);
    return -1;
}

/// The ICC profile of an iCCP chunk (keyword, NUL, method 0, zlib stream).
static uint8_t *iccp_profile(const png_byte *data, size_t size, size_t *profile_size, char *why, size_t why_size) {
    long k = field_length(data, size, 0, 79);
    if (k < 1) { snprintf(why, why_size, "iCCP: bad keyword"); return NULL; }
    if ((size_t)k + 2 > size || data[k + 1] != 0) { snprintf(why, why_size, "iCCP: unknown compression method"); return NULL; }
    uint8_t *profile = inflate_limited(data + k + 2, size - (size_t)k - 2, profile_size, "iCCP", why, why_size);
    if (profile && *profile_size == 0) { free(profile); snprintf(why, why_size, "iCCP: empty profile"); return NULL; }
    return profile;
}

/// The XMP packet of an iTXt chunk whose keyword is "XML:com.adobe.xmp" (text byte for byte,
/// inflated when the chunk is compressed); NULL for other keywords or a malformed chunk.
static uint8_t *itxt_xmp(const png_byte *data, size_t size, size_t *xmp_size) {
    static const char keyword[] = "XML:com.adobe.xmp";
    if (size < sizeof(keyword) + 4 || memcmp(data, keyword, sizeof(keyword)) != 0) return NULL;
    size_t at = sizeof(keyword);
    int compressed = data[at], method = data[at + 1];
    at += 2;
    long language = field_length(data, size, at, size);
    if (language < 0) return NULL;
    at += (size_t)language + 1;
    long translated = field_length(data, size, at, size);
    if (translated < 0) return NULL;
    at += (size_t)translated + 1;
    if (compressed == 0) {
        if (at >= size) return NULL;
        *xmp_size = size - at;
        return vlat_copy_bytes(data + at, size - at);
    }
    if (compressed != 1 || method != 0) return NULL;
    char why[VLAT_MESSAGE_SIZE];
    uint8_t *xmp = inflate_limited(data + at, size - at, xmp_size, "iTXt", why, sizeof(why));
    if (xmp && *xmp_size == 0) { free(xmp); return NULL; }
    return xmp;
}

vlat_status vlat_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                            vlat_decoded *out, char *message) {
    memset(out, 0, sizeof(*out));
    message[0] = 0;
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(message, VLAT_MESSAGE_SIZE, "not a PNG file");
        return VLAT_ERR_NOT_THIS_FORMAT;
    }
    // Every chunk's declared length is checked against the bytes present before libpng sees
    // the file: libpng allocates a chunk's buffer before reading it, so a 100-byte file that
    // declares a 2 GB text chunk would otherwise take 2 GB (found by libFuzzer).
    for (size_t at = 8; at + 8 <= size;) {
        uint32_t length = (uint32_t)data[at] << 24 | (uint32_t)data[at + 1] << 16 | (uint32_t)data[at + 2] << 8 | data[at + 3];
        if ((size_t)length > size - at - 8 || size - at - 8 - length < 4) {
            snprintf(message, VLAT_MESSAGE_SIZE, "file is truncated (a chunk at byte %zu declares %u bytes)", at, length);
            return VLAT_ERR_CORRUPT;
        }
        if (memcmp(data + at + 4, "IEND", 4) == 0) break;
        at += 12 + (size_t)length;
    }
    png_reader_state state = {data, size, 0, message, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, png_error_handler,
                                             png_warning_handler);
    if (!png) return VLAT_ERR_NO_MEMORY;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return VLAT_ERR_NO_MEMORY;
    }
    // Volatile: these change between setjmp and a possible longjmp.
    png_bytep *volatile rows = NULL;
    uint8_t *volatile pixels = NULL;
    uint8_t *volatile icc = NULL;
    uint8_t *volatile exif = NULL;
    uint8_t *volatile xmp = NULL;
    volatile vlat_status status = VLAT_ERR_CORRUPT;

    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(pixels);
        free(icc);
        free(exif);
        free(xmp);
        png_destroy_read_struct(&png, &info, NULL);
        if (message[0] == 0) snprintf(message, VLAT_MESSAGE_SIZE, "corrupt PNG");
        return status;
    }
    png_set_read_fn(png, &state, png_read_from_memory);
    // ICC profiles pass through untouched: do not let libpng judge (and drop) known-buggy sRGB
    // profiles that many cameras and editors wrote.
    png_set_option(png, PNG_SKIP_sRGB_CHECK_PROFILE, PNG_OPTION_ON);
    // Our own pixel limit is checked below. Decompressed ancillary chunks (iCCP, zTXt, iTXt)
    // may be as large as the .vlat container keeps, and no larger: that bounds decompression.
    png_set_user_limits(png, 0x7fffffffL, 0x7fffffffL);
    png_set_chunk_malloc_max(png, VLAT_MAX_METADATA_BYTES + 4096);
    // The ICC profile passes through byte for byte: libpng hands iCCP over raw instead of
    // judging the profile (and dropping one it dislikes), and it is inflated below.
    // So does XMP: libpng's text API would cut an iTXt at its first NUL byte.
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_ALWAYS, iccp_name, 1);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_ALWAYS, itxt_name, 1);
    // And EXIF: libpng drops an eXIf whose first bytes are not a TIFF byte order.
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_ALWAYS, exif_name, 1);
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    if ((uint64_t)width * (uint64_t)height > max_pixels) {
        snprintf(message, VLAT_MESSAGE_SIZE,
                 "image is %ux%u = %llu pixels, over the limit of %llu", (unsigned)width,
                 (unsigned)height, (unsigned long long)width * height,
                 (unsigned long long)max_pixels);
        png_destroy_read_struct(&png, &info, NULL);
        return VLAT_ERR_TOO_LARGE;
    }
    out->source_color_type = color_type;
    out->source_bit_depth = bit_depth;
    out->interlaced = interlace != PNG_INTERLACE_NONE;
    out->had_transparency = png_get_valid(png, info, PNG_INFO_tRNS) != 0;

    png_unknown_chunkp unknowns = NULL;
    int unknown_count = png_get_unknown_chunks(png, info, &unknowns);
    for (int i = 0; i < unknown_count && !icc; i++) {
        if (memcmp(unknowns[i].name, iccp_name, 4) != 0) continue;
        size_t profile_size = 0;
        icc = iccp_profile(unknowns[i].data, unknowns[i].size, &profile_size, message, VLAT_MESSAGE_SIZE);
        if (icc) {
            out->icc_size = profile_size;
        } else if (strcmp(message, "out of memory") == 0) {
            status = VLAT_ERR_NO_MEMORY;
            png_error(png, "out of memory");
        } else {
            state.icc_dropped = 1;
        }
    }

    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    int out_depth = png_get_bit_depth(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    size_t sample_bytes = out_depth == 16 ? 2 : 1;
    if (channels < 1 || channels > 4 || (out_depth != 8 && out_depth != 16) ||
        row_bytes != (size_t)width * channels * sample_bytes) {
        status = VLAT_ERR_UNSUPPORTED;
        png_error(png, "unsupported PNG layout after expansion");
    }
    size_t total = row_bytes * height;
    pixels = (uint8_t *)malloc(total ? total : 1);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * (height ? height : 1));
    if (!pixels || !rows) { status = VLAT_ERR_NO_MEMORY; png_error(png, "out of memory"); }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * row_bytes;
    png_read_image(png, rows);
    // Reading to IEND makes a file cut after its last IDAT an error too; eXIf and text chunks
    // may follow the image data, so they are collected after it.
    png_read_end(png, info);
    // Unknown chunks after IDAT (an iTXt may follow the image data) are in `info` now too.
    unknowns = NULL;
    unknown_count = png_get_unknown_chunks(png, info, &unknowns);
    for (int i = 0; i < unknown_count; i++) {
        if (!xmp && memcmp(unknowns[i].name, itxt_name, 4) == 0) {
            size_t xmp_size = 0;
            xmp = itxt_xmp(unknowns[i].data, unknowns[i].size, &xmp_size);
            if (xmp) out->xmp_size = xmp_size;
        } else if (!exif && memcmp(unknowns[i].name, exif_name, 4) == 0 && unknowns[i].size > 0) {
            exif = vlat_copy_bytes(unknowns[i].data, unknowns[i].size);
            if (!exif) { status = VLAT_ERR_NO_MEMORY; png_error(png, "out of memory"); }
            out->exif_size = unknowns[i].size;
        }
    }

    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    out->width = width;
    out->height = height;
    out->channels = (uint32_t)channels;
    out->sample_bytes = (uint32_t)sample_bytes;
    out->pixels = pixels;
    out->pixels_size = total;
    out->icc = icc;
    out->exif = exif;
    out->xmp = xmp;
    out->icc_dropped = state.icc_dropped;
    return VLAT_OK;
}

typedef struct {
    vlat_buffer *buffer;
    char *message;
    int failed;
} png_writer_state;

static void png_write_to_memory(png_structp png, png_bytep src, png_size_t length) {
    png_writer_state *state = (png_writer_state *)png_get_io_ptr(png);
    vlat_buffer *b = state->buffer;
    if (b->size + length > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 65536;
        while (capacity < b->size + length) capacity *= 2;
        uint8_t *grown = (uint8_t *)realloc(b->data, capacity);
        if (!grown) png_error(png, "out of memory");
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->size, src, length);
    b->size += length;
}

static void png_flush_noop(png_structp png) { (void)png; }

vlat_status vlat_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height,
                            uint32_t channels, const vlat_metadata *metadata,
                            int compression_level, int row_filter, vlat_buffer *out, char *message) {
    memset(out, 0, sizeof(*out));
    message[0] = 0;
    if (width == 0 || height == 0 || channels < 1 || channels > 4) {
        snprintf(message, VLAT_MESSAGE_SIZE, "invalid image shape %ux%ux%u", width, height, channels);
        return VLAT_ERR_INVALID_ARGUMENT;
    }
    png_reader_state err_state = {NULL, 0, 0, message, 0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err_state,
                                              png_error_handler, png_warning_handler);
    if (!png) return VLAT_ERR_NO_MEMORY;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return VLAT_ERR_NO_MEMORY;
    }
    png_writer_state state = {out, message, 0};
    char *volatile xmp_text = NULL;
    uint8_t *volatile iccp_chunk = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(xmp_text);
        free(iccp_chunk);
        vlat_buffer_free(out);
        if (message[0] == 0) snprintf(message, VLAT_MESSAGE_SIZE, "PNG encoding failed");
        return VLAT_ERR_CORRUPT;
    }
    static const int types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                 PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    png_set_write_fn(png, &state, png_write_to_memory, png_flush_noop);
    png_set_option(png, PNG_SKIP_sRGB_CHECK_PROFILE, PNG_OPTION_ON);
    png_set_benign_errors(png, 1); // a dubious ICC profile is a warning, not a failed write
    png_set_compression_level(png, compression_level);
    if (row_filter == VLAT_PNG_FILTER_AVERAGE) png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_AVG);
    png_set_IHDR(png, info, width, height, 8, types[channels], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (metadata && metadata->icc && metadata->icc_size > 0) {
        // Written by hand (before IDAT, as the PNG spec requires) so that libpng cannot drop a
        // profile it considers invalid: the profile is the user's, passed through untouched.
        static const char keyword[] = "ICC profile"; // and its NUL, then compression method 0
        uLongf packed = compressBound((uLong)metadata->icc_size);
        iccp_chunk = (uint8_t *)malloc(sizeof(keyword) + 1 + packed);
        if (!iccp_chunk) png_error(png, "out of memory");
        memcpy(iccp_chunk, keyword, sizeof(keyword));
        iccp_chunk[sizeof(keyword)] = 0;
        if (compress2(iccp_chunk + sizeof(keyword) + 1, &packed, metadata->icc, (uLong)metadata->icc_size, 9) != Z_OK) {
            png_error(png, "cannot compress the ICC profile");
        }
        png_write_chunk(png, iccp_name, iccp_chunk, sizeof(keyword) + 1 + packed);
    }
    if (metadata && metadata->exif && metadata->exif_size > 0 && metadata->exif_size <= VLAT_MAX_METADATA_BYTES) {
        png_write_chunk(png, exif_name, metadata->exif, metadata->exif_size); // byte for byte, as read
    }
    if (metadata && metadata->xmp && metadata->xmp_size > 0 && metadata->xmp_size <= VLAT_MAX_METADATA_BYTES) {
        // iTXt by hand too: keyword, NUL, uncompressed (0, 0), empty language and translated
        // keyword (NUL, NUL), then the packet's exact bytes (libpng's own writer would cut it
        // at a NUL byte).
        static const char keyword[] = "XML:com.adobe.xmp";
        size_t header = sizeof(keyword) + 4;
        xmp_text = (char *)malloc(header + metadata->xmp_size);
        if (!xmp_text) png_error(png, "out of memory");
        memcpy(xmp_text, keyword, sizeof(keyword));
        memset(xmp_text + sizeof(keyword), 0, 4);
        memcpy(xmp_text + header, metadata->xmp, metadata->xmp_size);
        png_write_chunk(png, itxt_name, (png_const_bytep)xmp_text, header + metadata->xmp_size);
    }
    size_t row_bytes = (size_t)width * channels;
    for (uint32_t y = 0; y < height; y++) {
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * row_bytes));
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(xmp_text);
    free(iccp_chunk);
    return VLAT_OK;
}
