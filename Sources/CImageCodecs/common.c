#include "CImageCodecs.h"
#include <stdlib.h>

void vlat_decoded_free(vlat_decoded *image) {
    if (!image) return;
    free(image->pixels);
    free(image->icc);
    image->pixels = NULL;
    image->icc = NULL;
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
