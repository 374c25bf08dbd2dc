// PNG through libpng's full API (not png_image_*): the simplified API treats 16-bit data as
// linear light and would gamma-encode it on the way to 8 bits, and it hides the ICC profile.
#include "CImageCodecs.h"
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    char *message;
} png_reader_state;

static void png_error_handler(png_structp png, png_const_charp text) {
    png_reader_state *state = (png_reader_state *)png_get_error_ptr(png);
    if (state && state->message) snprintf(state->message, VLAT_MESSAGE_SIZE, "%s", text);
    png_longjmp(png, 1);
}

static void png_warning_handler(png_structp png, png_const_charp text) {
    (void)png; (void)text; // libpng warnings (e.g. a bad ancillary CRC) are not fatal; stay quiet.
}

static void png_read_from_memory(png_structp png, png_bytep dest, png_size_t length) {
    png_reader_state *state = (png_reader_state *)png_get_io_ptr(png);
    if (length > state->size - state->offset) {
        png_error(png, "file is truncated");
    }
    memcpy(dest, state->data + state->offset, length);
    state->offset += length;
}

vlat_status vlat_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                            vlat_decoded *out, char *message) {
    memset(out, 0, sizeof(*out));
    message[0] = 0;
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(message, VLAT_MESSAGE_SIZE, "not a PNG file");
        return VLAT_ERR_NOT_THIS_FORMAT;
    }
    png_reader_state state = {data, size, 0, message};
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
    volatile vlat_status status = VLAT_ERR_CORRUPT;

    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(pixels);
        free(icc);
        png_destroy_read_struct(&png, &info, NULL);
        if (message[0] == 0) snprintf(message, VLAT_MESSAGE_SIZE, "corrupt PNG");
        return status;
    }
    png_set_read_fn(png, &state, png_read_from_memory);
    // ICC profiles pass through untouched: do not let libpng judge (and drop) known-buggy sRGB
    // profiles that many cameras and editors wrote.
    png_set_option(png, PNG_SKIP_sRGB_CHECK_PROFILE, PNG_OPTION_ON);
    // Our own pixel limit is checked below; libpng's own caps stay at their (lower) defaults for
    // ancillary chunk sizes, which bounds iCCP/zTXt decompression.
    png_set_user_limits(png, 0x7fffffffL, 0x7fffffffL);
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

    png_charp icc_name = NULL;
    int icc_compression = 0;
    png_bytep icc_data = NULL;
    png_uint_32 icc_length = 0;
    if (png_get_iCCP(png, info, &icc_name, &icc_compression, &icc_data, &icc_length) &&
        icc_length > 0) {
        icc = (uint8_t *)malloc(icc_length);
        if (!icc) { status = VLAT_ERR_NO_MEMORY; png_error(png, "out of memory"); }
        memcpy(icc, icc_data, icc_length);
        out->icc_size = icc_length;
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
    // Reading to IEND makes a file cut after its last IDAT an error too.
    png_read_end(png, NULL);

    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    out->width = width;
    out->height = height;
    out->channels = (uint32_t)channels;
    out->sample_bytes = (uint32_t)sample_bytes;
    out->pixels = pixels;
    out->pixels_size = total;
    out->icc = icc;
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
                            uint32_t channels, const uint8_t *icc, size_t icc_size,
                            int compression_level, vlat_buffer *out, char *message) {
    memset(out, 0, sizeof(*out));
    message[0] = 0;
    if (width == 0 || height == 0 || channels < 1 || channels > 4) {
        snprintf(message, VLAT_MESSAGE_SIZE, "invalid image shape %ux%ux%u", width, height, channels);
        return VLAT_ERR_INVALID_ARGUMENT;
    }
    png_reader_state err_state = {NULL, 0, 0, message};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err_state,
                                              png_error_handler, png_warning_handler);
    if (!png) return VLAT_ERR_NO_MEMORY;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return VLAT_ERR_NO_MEMORY;
    }
    png_writer_state state = {out, message, 0};
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
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
    png_set_IHDR(png, info, width, height, 8, types[channels], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (icc && icc_size > 0 && icc_size <= 0x7fffffff) {
        png_set_iCCP(png, info, "ICC profile", PNG_COMPRESSION_TYPE_BASE, icc, (png_uint_32)icc_size);
    }
    png_write_info(png, info);
    size_t row_bytes = (size_t)width * channels;
    for (uint32_t y = 0; y < height; y++) {
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * row_bytes));
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return VLAT_OK;
}
