// JPEG through libjpeg(-turbo). libjpeg's default error manager prints to stderr and calls exit();
// ours formats the message into the caller's buffer and longjmps back into this file.
#include "CImageCodecs.h"
#include "internal.h"
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

// A progressive file may legally contain thousands of tiny scans, each costing a full pass over
// the coefficients: a classic way to make a small file take minutes. Real encoders use < 20.
#define VLAT_JPEG_MAX_SCANS 500

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *message;
} jpeg_error_state;

static void jpeg_error_exit(j_common_ptr cinfo) {
    jpeg_error_state *state = (jpeg_error_state *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    snprintf(state->message, VLAT_MESSAGE_SIZE, "%s", text);
    longjmp(state->jump, 1);
}

// Warnings that mean the pixels would be wrong (libjpeg would pad a truncated file with grey and
// carry on) become errors; harmless ones (extraneous bytes between markers) are ignored.
static void jpeg_emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return; // trace messages
    int code = cinfo->err->msg_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_MUST_RESYNC ||
        code == JWRN_HUFF_BAD_CODE || code == JWRN_NOT_SEQUENTIAL || code == JWRN_BOGUS_PROGRESSION) {
        jpeg_error_state *state = (jpeg_error_state *)cinfo->err;
        char text[JMSG_LENGTH_MAX];
        (*cinfo->err->format_message)(cinfo, text);
        snprintf(state->message, VLAT_MESSAGE_SIZE, "%s", code == JWRN_JPEG_EOF
                 ? "file is truncated (premature end of JPEG data)" : text);
        longjmp(state->jump, 1);
    }
}

static void jpeg_output_nothing(j_common_ptr cinfo) { (void)cinfo; }

typedef struct {
    struct jpeg_progress_mgr base;
    jpeg_error_state *errors;
} jpeg_scan_limit;

static void jpeg_check_scans(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > VLAT_JPEG_MAX_SCANS) {
        jpeg_scan_limit *limit = (jpeg_scan_limit *)cinfo->progress;
        snprintf(limit->errors->message, VLAT_MESSAGE_SIZE,
                 "progressive JPEG has more than %d scans", VLAT_JPEG_MAX_SCANS);
        longjmp(limit->errors->jump, 1);
    }
}

static void install_errors(jpeg_error_state *state, char *message) {
    jpeg_std_error(&state->base);
    state->base.error_exit = jpeg_error_exit;
    state->base.emit_message = jpeg_emit_message;
    state->base.output_message = jpeg_output_nothing;
    state->message = message;
}

vlat_status vlat_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                             vlat_decoded *out, char *message) {
    memset(out, 0, sizeof(*out));
    message[0] = 0;
    if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) {
        snprintf(message, VLAT_MESSAGE_SIZE, "not a JPEG file");
        return VLAT_ERR_NOT_THIS_FORMAT;
    }
    struct jpeg_decompress_struct cinfo;
    jpeg_error_state errors;
    jpeg_scan_limit progress;
    install_errors(&errors, message);
    cinfo.err = &errors.base;
    uint8_t *volatile pixels = NULL;
    uint8_t *volatile row = NULL;
    JOCTET *volatile icc = NULL;
    uint8_t *volatile exif = NULL;
    uint8_t *volatile xmp = NULL;
    volatile vlat_status status = VLAT_ERR_CORRUPT;
    if (setjmp(errors.jump)) {
        free(pixels);
        free(row);
        free(icc);
        free(exif);
        free(xmp);
        jpeg_destroy_decompress(&cinfo);
        if (message[0] == 0) snprintf(message, VLAT_MESSAGE_SIZE, "corrupt JPEG");
        return status;
    }
    jpeg_create_decompress(&cinfo);
    progress.base.progress_monitor = jpeg_check_scans;
    progress.errors = &errors;
    cinfo.progress = &progress.base;
    // Bound libjpeg's own working memory (coefficient buffers of progressive files).
    cinfo.mem->max_memory_to_use = 2048L * 1024L * 1024L;
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 2, 0xFFFF); // ICC profile segments
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF); // EXIF and XMP
    jpeg_read_header(&cinfo, TRUE);

    uint64_t pixel_count = (uint64_t)cinfo.image_width * cinfo.image_height;
    if (pixel_count > max_pixels) {
        snprintf(message, VLAT_MESSAGE_SIZE, "image is %ux%u = %llu pixels, over the limit of %llu",
                 cinfo.image_width, cinfo.image_height, (unsigned long long)pixel_count,
                 (unsigned long long)max_pixels);
        jpeg_destroy_decompress(&cinfo);
        return VLAT_ERR_TOO_LARGE;
    }
    out->source_color_type = cinfo.jpeg_color_space;
    out->source_bit_depth = cinfo.data_precision;
    out->interlaced = jpeg_has_multiple_scans(&cinfo) ? 1 : 0;

    int cmyk = 0;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_YCbCr:
    case JCS_RGB: cinfo.out_color_space = JCS_RGB; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo.out_color_space = JCS_CMYK; cmyk = 1; break;
    default:
        status = VLAT_ERR_UNSUPPORTED;
        snprintf(message, VLAT_MESSAGE_SIZE, "unsupported JPEG colour space %d", cinfo.jpeg_color_space);
        longjmp(errors.jump, 1);
    }

    JOCTET *icc_data = NULL;
    unsigned int icc_length = 0;
    if (jpeg_read_icc_profile(&cinfo, &icc_data, &icc_length) && icc_length > 0) {
        icc = icc_data;
        out->icc_size = icc_length;
    }

    static const char exif_signature[6] = {'E', 'x', 'i', 'f', 0, 0};
    static const char xmp_signature[] = "http://ns.adobe.com/xap/1.0/"; // and its NUL: 29 bytes
    for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
        if (m->marker != JPEG_APP0 + 1) continue;
        if (!exif && m->data_length > 6 && memcmp(m->data, exif_signature, 6) == 0) {
            exif = vlat_copy_bytes(m->data + 6, m->data_length - 6);
            if (!exif) { status = VLAT_ERR_NO_MEMORY; snprintf(message, VLAT_MESSAGE_SIZE, "out of memory"); longjmp(errors.jump, 1); }
            out->exif_size = m->data_length - 6;
        } else if (!xmp && m->data_length > sizeof(xmp_signature) && memcmp(m->data, xmp_signature, sizeof(xmp_signature)) == 0) {
            xmp = vlat_copy_bytes(m->data + sizeof(xmp_signature), m->data_length - sizeof(xmp_signature));
            if (!xmp) { status = VLAT_ERR_NO_MEMORY; snprintf(message, VLAT_MESSAGE_SIZE, "out of memory"); longjmp(errors.jump, 1); }
            out->xmp_size = m->data_length - sizeof(xmp_signature);
        }
    }

    jpeg_start_decompress(&cinfo);
    uint32_t width = cinfo.output_width, height = cinfo.output_height;
    uint32_t in_channels = (uint32_t)cinfo.output_components;
    uint32_t out_channels = cmyk ? 3 : in_channels;
    size_t total = (size_t)width * height * out_channels;
    pixels = (uint8_t *)malloc(total ? total : 1);
    row = (uint8_t *)malloc((size_t)width * in_channels);
    if (!pixels || !row) { status = VLAT_ERR_NO_MEMORY; snprintf(message, VLAT_MESSAGE_SIZE, "out of memory"); longjmp(errors.jump, 1); }
    // Adobe (Photoshop) writes CMYK inverted: 0 means full ink. libjpeg flags the APP14 marker.
    int inverted = cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < height) {
        uint32_t y = cinfo.output_scanline;
        JSAMPROW target = cmyk ? row : pixels + (size_t)y * width * out_channels;
        jpeg_read_scanlines(&cinfo, &target, 1);
        if (cmyk) {
            uint8_t *dst = pixels + (size_t)y * width * 3;
            for (uint32_t x = 0; x < width; x++) {
                unsigned c = row[4 * x], m = row[4 * x + 1], yy = row[4 * x + 2], k = row[4 * x + 3];
                if (!inverted) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
                // Now 255 means no ink: R = (1 - C)(1 - K) in ink terms, rounded.
                dst[3 * x] = (uint8_t)((c * k + 127) / 255);
                dst[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
                dst[3 * x + 2] = (uint8_t)((yy * k + 127) / 255);
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    out->width = width;
    out->height = height;
    out->channels = out_channels;
    out->sample_bytes = 1;
    out->pixels = pixels;
    out->pixels_size = total;
    out->icc = icc;
    out->exif = exif;
    out->xmp = xmp;
    return VLAT_OK;
}

vlat_status vlat_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height,
                             uint32_t channels, int quality, int subsampling_420,
                             const vlat_metadata *metadata, vlat_buffer *out, char *message) {
    memset(out, 0, sizeof(*out));
    message[0] = 0;
    static const char exif_signature[6] = {'E', 'x', 'i', 'f', 0, 0};
    static const char xmp_signature[] = "http://ns.adobe.com/xap/1.0/";
    const size_t segment_max = 65533; // a marker segment's length field counts itself
    if (metadata && metadata->exif_size > segment_max - sizeof(exif_signature)) {
        snprintf(message, VLAT_MESSAGE_SIZE, "EXIF of %zu bytes does not fit a JPEG APP1 segment; write PNG instead", metadata->exif_size);
        return VLAT_ERR_INVALID_ARGUMENT;
    }
    if (metadata && metadata->xmp_size > segment_max - sizeof(xmp_signature)) {
        snprintf(message, VLAT_MESSAGE_SIZE, "XMP of %zu bytes does not fit a JPEG APP1 segment; write PNG instead", metadata->xmp_size);
        return VLAT_ERR_INVALID_ARGUMENT;
    }
    if (width == 0 || height == 0 || width > 65500 || height > 65500 || (channels != 1 && channels != 3)) {
        snprintf(message, VLAT_MESSAGE_SIZE, "JPEG cannot hold a %ux%u image with %u channels",
                 width, height, channels);
        return VLAT_ERR_INVALID_ARGUMENT;
    }
    if (quality < 1 || quality > 100) {
        snprintf(message, VLAT_MESSAGE_SIZE, "JPEG quality %d is outside 1...100", quality);
        return VLAT_ERR_INVALID_ARGUMENT;
    }
    struct jpeg_compress_struct cinfo;
    jpeg_error_state errors;
    install_errors(&errors, message);
    cinfo.err = &errors.base;
    unsigned char *volatile mem = NULL;
    uint8_t *volatile segment = NULL;
    unsigned long mem_size = 0;
    if (setjmp(errors.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(mem);
        free(segment);
        if (message[0] == 0) snprintf(message, VLAT_MESSAGE_SIZE, "JPEG encoding failed");
        return VLAT_ERR_CORRUPT;
    }
    jpeg_create_compress(&cinfo);
    unsigned char *dest = NULL;
    jpeg_mem_dest(&cinfo, &dest, &mem_size);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = (int)channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    cinfo.optimize_coding = TRUE;
    if (channels == 3) {
        int h = subsampling_420 ? 2 : 1;
        cinfo.comp_info[0].h_samp_factor = h;
        cinfo.comp_info[0].v_samp_factor = h;
        cinfo.comp_info[1].h_samp_factor = cinfo.comp_info[1].v_samp_factor = 1;
        cinfo.comp_info[2].h_samp_factor = cinfo.comp_info[2].v_samp_factor = 1;
    }
    jpeg_start_compress(&cinfo, TRUE);
    if (metadata && metadata->exif && metadata->exif_size > 0) {
        segment = (uint8_t *)malloc(sizeof(exif_signature) + metadata->exif_size);
        if (!segment) { snprintf(message, VLAT_MESSAGE_SIZE, "out of memory"); longjmp(errors.jump, 1); }
        memcpy(segment, exif_signature, sizeof(exif_signature));
        memcpy(segment + sizeof(exif_signature), metadata->exif, metadata->exif_size);
        jpeg_write_marker(&cinfo, JPEG_APP0 + 1, segment, (unsigned int)(sizeof(exif_signature) + metadata->exif_size));
        free(segment);
        segment = NULL;
    }
    if (metadata && metadata->xmp && metadata->xmp_size > 0) {
        segment = (uint8_t *)malloc(sizeof(xmp_signature) + metadata->xmp_size);
        if (!segment) { snprintf(message, VLAT_MESSAGE_SIZE, "out of memory"); longjmp(errors.jump, 1); }
        memcpy(segment, xmp_signature, sizeof(xmp_signature));
        memcpy(segment + sizeof(xmp_signature), metadata->xmp, metadata->xmp_size);
        jpeg_write_marker(&cinfo, JPEG_APP0 + 1, segment, (unsigned int)(sizeof(xmp_signature) + metadata->xmp_size));
        free(segment);
        segment = NULL;
    }
    if (metadata && metadata->icc && metadata->icc_size > 0 && metadata->icc_size < 0xFFFFFFFFu) {
        jpeg_write_icc_profile(&cinfo, metadata->icc, (unsigned int)metadata->icc_size);
    }
    size_t stride = (size_t)width * channels;
    while (cinfo.next_scanline < height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    mem = dest;
    jpeg_destroy_compress(&cinfo);
    out->data = dest;
    out->size = mem_size;
    out->capacity = mem_size;
    return VLAT_OK;
}
