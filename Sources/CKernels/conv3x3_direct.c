// A 3x3, stride-1, zero-padded convolution computed directly, for layers with few channels at
// full resolution (a synthesis tail, a denoiser's outer level): there a column matrix is nine
// times the input and its products are too thin for a fast matrix product.
//
// For each output row the three input rows of every channel are first copied, with a zero
// column on each side (and zero rows above and below the image), into one contiguous buffer:
// the planes of an image lie a multiple of 4 KiB apart, so reading the same column of 3 x cin
// rows in place would keep evicting its own cache lines. Every output is then its bias plus all
// nine taps of every channel, in the order (channel, kernel row, column), each a fused
// multiply-add (a tap on the padding adds 0 * w): the vector and scalar paths run the same
// operations, so an output's value depends neither on the path nor on the rows asked. An
// activation after it (`activate`) multiplies the outputs below zero by `slope` before they
// are stored, as the leaky ReLU layer does, saving that layer its own pass.
#include "ckernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

// Output channels accumulated together: one vector register each.
#define BLOCK 4

// Input row iy of every channel (zeros outside the image) into ring slot iy mod 3 of `pad`,
// between zero columns: slot (c * 3 + iy mod 3), each `stride` wide.
static void gather_row(const float *x, int cin, int h, int w, int iy, float *pad, int stride) {
    int slot = ((iy % 3) + 3) % 3;
    for (int c = 0; c < cin; c++) {
        float *dst = pad + (size_t)(c * 3 + slot) * stride;
        if (iy >= 0 && iy < h) memcpy(dst + 1, x + ((size_t)c * h + iy) * w, sizeof(float) * (size_t)w);
        else memset(dst + 1, 0, sizeof(float) * (size_t)w);
    }
}

static void conv_pixels_scalar(const float *const *rows, int cin, const float *wt, int cout_padded, const float *bias,
                               int o0, int count, int from, int to, float *y, size_t plane, size_t offset,
                               int activate, float slope) {
    for (int ox = from; ox < to; ox++) {
        float acc[BLOCK];
        for (int j = 0; j < count; j++) acc[j] = bias[o0 + j];
        for (int t = 0; t < cin * 3; t++) {
            const float *row = rows[t] + ox;
            const float *k = wt + (size_t)t * 3 * cout_padded + o0;
            for (int kx = 0; kx < 3; kx++)
                for (int j = 0; j < count; j++) acc[j] = fmaf(row[kx], k[kx * cout_padded + j], acc[j]);
        }
        for (int j = 0; j < count; j++) {
            if (activate && acc[j] < 0) acc[j] *= slope;
            y[(size_t)(o0 + j) * plane + offset + ox] = acc[j];
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

// `count` is a constant at every call (see conv_vectors_avx2), so the accumulators stay in
// registers: `count` output channels times VECS vectors of 8 pixels, each broadcast weight
// serving VECS products.
#define VECS 2
__attribute__((target("avx2,fma"), always_inline))
static inline int conv_block(const float *const *rows, int cin, int w, const float *wt, int cout_padded, const float *bias,
                             int o0, const int count, float *y, size_t plane, size_t offset, int activate, float slope) {
    const __m256 zero = _mm256_setzero_ps(), factor = _mm256_set1_ps(slope);
    int ox = 0;
    for (; ox + 8 * VECS <= w; ox += 8 * VECS) {
        __m256 acc[BLOCK][VECS];
        for (int j = 0; j < count; j++)
            for (int v = 0; v < VECS; v++) acc[j][v] = _mm256_set1_ps(bias[o0 + j]);
        for (int t = 0; t < cin * 3; t++) {
            const float *row = rows[t] + ox;
            const float *k = wt + (size_t)t * 3 * cout_padded + o0;
            for (int kx = 0; kx < 3; kx++) {
                __m256 x[VECS];
                for (int v = 0; v < VECS; v++) x[v] = _mm256_loadu_ps(row + kx + 8 * v);
                for (int j = 0; j < count; j++) {
                    __m256 b = _mm256_broadcast_ss(k + kx * cout_padded + j);
                    for (int v = 0; v < VECS; v++) acc[j][v] = _mm256_fmadd_ps(x[v], b, acc[j][v]);
                }
            }
        }
        if (activate)
            for (int j = 0; j < count; j++)
                for (int v = 0; v < VECS; v++)
                    acc[j][v] = _mm256_blendv_ps(acc[j][v], _mm256_mul_ps(acc[j][v], factor), _mm256_cmp_ps(acc[j][v], zero, _CMP_LT_OQ));
        for (int j = 0; j < count; j++)
            for (int v = 0; v < VECS; v++) _mm256_storeu_ps(y + (size_t)(o0 + j) * plane + offset + ox + 8 * v, acc[j][v]);
    }
    return ox;
}

__attribute__((target("avx2,fma")))
static int conv_vectors_avx2(const float *const *rows, int cin, int w, const float *wt, int cout_padded, const float *bias,
                             int o0, int count, float *y, size_t plane, size_t offset, int activate, float slope) {
    switch (count) {
    case 1: return conv_block(rows, cin, w, wt, cout_padded, bias, o0, 1, y, plane, offset, activate, slope);
    case 2: return conv_block(rows, cin, w, wt, cout_padded, bias, o0, 2, y, plane, offset, activate, slope);
    case 3: return conv_block(rows, cin, w, wt, cout_padded, bias, o0, 3, y, plane, offset, activate, slope);
    default: return conv_block(rows, cin, w, wt, cout_padded, bias, o0, 4, y, plane, offset, activate, slope);
    }
}
#endif

int vlat_conv3x3_direct(const float *x, int cin, int h, int w, const float *wt, int cout, const float *bias,
                        int row_begin, int row_end, float *y, int activate, float slope) {
    size_t plane = (size_t)h * w;
    int cout_padded = (cout + 7) / 8 * 8;
    int stride = w + 2 + 8 * VECS;  // room for the columns a last vector may read past the padding
    float *pad = calloc((size_t)cin * 3 * (size_t)stride, sizeof(float));
    const float **rows = malloc(sizeof(float *) * (size_t)cin * 3);
    if (!pad || !rows) { free(pad); free(rows); return 0; }
#if defined(__x86_64__)
    int vector = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    int vector = 0;
#endif
    for (int oy = row_begin; oy < row_end; oy++) {
        // The ring holds rows oy - 1 ... oy + 1 after the rows not yet in it are added.
        for (int iy = oy == row_begin ? oy - 1 : oy + 1; iy <= oy + 1; iy++) gather_row(x, cin, h, w, iy, pad, stride);
        for (int c = 0; c < cin; c++)
            for (int ky = 0; ky < 3; ky++) rows[c * 3 + ky] = pad + (size_t)(c * 3 + ((oy + ky - 1) % 3 + 3) % 3) * stride;
        size_t offset = (size_t)oy * w;
        for (int o0 = 0; o0 < cout; o0 += BLOCK) {
            int count = cout - o0 < BLOCK ? cout - o0 : BLOCK;
            int from = 0;
#if defined(__x86_64__)
            if (vector) from = conv_vectors_avx2(rows, cin, w, wt, cout_padded, bias, o0, count, y, plane, offset, activate, slope);
#endif
            conv_pixels_scalar(rows, cin, wt, cout_padded, bias, o0, count, from, w, y, plane, offset, activate, slope);
        }
    }
    free(pad);
    free(rows);
    return 1;
}
