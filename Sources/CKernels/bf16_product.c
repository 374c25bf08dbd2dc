// Products of bfloat16 operands summed in float32, for the encoder's analysis transform, whose
// result only chooses the symbols a file records (the decoder never runs it): AVX512_BF16's
// `vdpbf16ps` multiplies pairs of bfloat16 values and adds both products into a float32 lane,
// twice the multiply-adds of a float32 FMA per instruction.
//
// Operands come in pairs along the sum: a 32-bit word holds the bfloat16 of an even index in its
// low half and of the next index in its high half, for weights and inputs alike.
#include "ckernels.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

int vlat_bf16_available(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

// Round to nearest, ties to even, as `vcvtneps2bf16` does: subnormal inputs count as zero (of
// their sign), and NaN stays a (quiet) NaN. So the vector path and this one agree on every input.
static inline uint32_t to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
    if ((u & 0x7f800000u) == 0) return (u >> 16) & 0x8000u;
    return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

uint16_t vlat_bf16_round(float value) { return (uint16_t)to_bf16(value); }

static void pack_portable(const float *even, const float *odd, size_t stride, uint32_t *out, size_t from, size_t count) {
    for (size_t i = from; i < count; i++) out[i] = to_bf16(even[i * stride]) | (odd ? to_bf16(odd[i * stride]) << 16 : 0);
}

#if defined(__x86_64__)
// 16 floats from `p` at `stride` 1 or 2 (the column phases of a stride-2 convolution).
__attribute__((target("avx512f")))
static inline __m512 load16(const float *p, size_t stride) {
    if (stride == 1) return _mm512_loadu_ps(p);
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), evens, _mm512_loadu_ps(p + 16));
}

// Whole vectors of 16 words; returns the first word it left. (A stride-2 load reads 31 floats
// from its first: the last vector stops where that stays inside the rows given.)
__attribute__((target("avx512f,avx512bf16")))
static size_t pack_avx512(const float *even, const float *odd, size_t stride, uint32_t *out, size_t count) {
    if (stride != 1 && stride != 2) return 0;
    size_t end = count >= 16 ? (stride == 1 ? count / 16 * 16 : (count - 1) / 16 * 16) : 0;
    for (size_t i = 0; i < end; i += 16) {
        __m512i e = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(load16(even + i * stride, stride)));
        if (odd) {
            __m512i o = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(load16(odd + i * stride, stride)));
            e = _mm512_or_si512(e, _mm512_slli_epi32(o, 16));
        }
        _mm512_storeu_si512(out + i, e);
    }
    return end;
}
#endif

void vlat_bf16_pack_pairs(const float *even, const float *odd, size_t stride, uint32_t *out, size_t count) {
    size_t from = 0;
#if defined(__x86_64__)
    if (vlat_bf16_available()) from = pack_avx512(even, odd, stride, out, count);
#endif
    pack_portable(even, odd, stride, out, from, count);
}

#if defined(__x86_64__)
// Output rows computed together, and 16-lane vectors of columns: 8 x 3 accumulators, three
// operand vectors and a broadcast weight pair fill 28 of the 32 registers.
#define BLOCK 8
#define VECTORS 3

__attribute__((target("avx512f,avx512bf16")))
static void taps_row_avx512(int blocks, int pairs, int width, int taps, const uint32_t *const *operands, size_t ldb,
                            const uint32_t *weights, float *acc, size_t ldacc) {
    for (int ob = 0; ob < blocks; ob++) {
        for (int j = 0; j < width; j += 16 * VECTORS) {
            __mmask16 mask[VECTORS];
            for (int v = 0; v < VECTORS; v++) {
                int rem = width - j - 16 * v;
                mask[v] = rem >= 16 ? (__mmask16)0xFFFF : rem <= 0 ? (__mmask16)0 : (__mmask16)((1u << rem) - 1);
            }
            __m512 a[BLOCK][VECTORS];
            float *row = acc + (size_t)ob * BLOCK * ldacc + j;
            for (int o = 0; o < BLOCK; o++)
                for (int v = 0; v < VECTORS; v++) a[o][v] = _mm512_maskz_loadu_ps(mask[v], row + o * ldacc + 16 * v);
            for (int t = 0; t < taps; t++) {
                const uint32_t *b = operands[t] + j;
                const uint32_t *w = weights + ((size_t)t * blocks + ob) * (size_t)pairs * BLOCK;
                for (int p = 0; p < pairs; p++) {
                    __m512bh bv[VECTORS];
                    for (int v = 0; v < VECTORS; v++)
                        bv[v] = (__m512bh)_mm512_maskz_loadu_epi32(mask[v], b + (size_t)p * ldb + 16 * v);
                    for (int o = 0; o < BLOCK; o++) {
                        __m512bh wv = (__m512bh)_mm512_set1_epi32((int)w[p * BLOCK + o]);
                        for (int v = 0; v < VECTORS; v++) a[o][v] = _mm512_dpbf16_ps(a[o][v], wv, bv[v]);
                    }
                }
            }
            for (int o = 0; o < BLOCK; o++)
                for (int v = 0; v < VECTORS; v++) _mm512_mask_storeu_ps(row + o * ldacc + 16 * v, mask[v], a[o][v]);
        }
    }
}
#endif

int vlat_bf16_taps_row(int blocks, int pairs, int width, int taps, const uint32_t *const *operands, size_t ldb,
                       const uint32_t *weights, float *acc, size_t ldacc) {
#if defined(__x86_64__)
    if (!vlat_bf16_available()) return 0;
    if (blocks > 0 && width > 0) taps_row_avx512(blocks, pairs, width, taps, operands, ldb, weights, acc, ldacc);
    return 1;
#else
    (void)blocks; (void)pairs; (void)width; (void)taps; (void)operands; (void)ldb; (void)weights; (void)acc; (void)ldacc;
    return 0;
#endif
}
