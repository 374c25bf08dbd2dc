#include "CImageCodecs.h"
#include "internal.h"
#include <stdlib.h>
#include <string.h>

void vlat_decoded_free(vlat_decoded *image) {
    if (!image) return;
    free(image->pixels);
    free(image->icc);
    free(image->exif);
    free(image->xmp);
    image->pixels = NULL;
    image->icc = NULL;
    image->exif = NULL;
    image->xmp = NULL;
    image->exif_size = 0;
    image->xmp_size = 0;
    image->pixels_size = 0;
    image->icc_size = 0;
}

void vlat_buffer_free(vlat_buffer *buffer) {
    if (!buffer) return;
    free(buffer->data);
    buffer->data = NULL;
    buffer->size = 0;
    buffer->capacity = 0;
}

uint8_t *vlat_copy_bytes(const uint8_t *data, size_t size) {
    uint8_t *copy = (uint8_t *)malloc(size ? size : 1);
    if (copy && size) memcpy(copy, data, size);
    return copy;
}
