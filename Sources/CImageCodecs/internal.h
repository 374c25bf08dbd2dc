// Helpers shared by the codec files; not part of the module's interface.
#ifndef VLAT_CIMAGECODECS_INTERNAL_H
#define VLAT_CIMAGECODECS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/// A malloc'd copy of `size` bytes (at least one byte allocated), or NULL when out of memory.
uint8_t *vlat_copy_bytes(const uint8_t *data, size_t size);

#endif
