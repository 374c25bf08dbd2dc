// An exact integer matrix product of 16-bit operands into 64-bit sums, for the integer networks
// that choose the entropy coder's tables (their results must be the same integers on every
// machine).
//
// The vector path multiplies pairs of adjacent k with `vpmaddwd` (two 16 x 16-bit products
// added into 32 bits), adds `partial_pairs` such pair sums in 32 bits, then widens them into the
// 64-bit sums. The caller picks `partial_pairs` so that no 32-bit partial can overflow (from the
// operands' largest magnitudes); every step is then exact integer arithmetic, so the result is
// the exact sum whatever the order or path, and the portable path gives the same integers.
#include "ckernels.h"
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Output rows and columns computed together: four rows of two 8-lane vectors.
#define ROWS 4
#define COLUMNS 16

// Columns col_begin ..< n: per row, sums of `partial_pairs` pairs in 32 bits (a loop over the
// columns that compilers vectorize), added into 64. Without the buffers, every product in 64.
static void product_portable(int m, int n, int kp, const int16_t *a, int lda, const int16_t *b, int ldb, int64_t *c, int ldc,
                             int col_begin, int partial_pairs) {
    int width = n - col_begin, pairs = kp / 2;
    if (width <= 0) return;
    if (partial_pairs < 1) partial_pairs = 1;
    int32_t *part = malloc(sizeof(int32_t) * (size_t)width);
    int64_t *sum = malloc(sizeof(int64_t) * (size_t)width);
    for (int r = 0; r < m; r++) {
        const int16_t *ar = a + (size_t)r * lda;
        if (!part || !sum) {
            for (int p = col_begin; p < n; p++) {
                int64_t total = 0;
                for (int j = 0; j < pairs; j++) {
                    const int16_t *bp = b + (size_t)j * ldb + 2 * p;
                    total += (int64_t)ar[2 * j] * bp[0] + (int64_t)ar[2 * j + 1] * bp[1];
                }
                c[(size_t)r * ldc + p] = total;
            }
            continue;
        }
        memset(sum, 0, sizeof(int64_t) * (size_t)width);
        for (int j0 = 0; j0 < pairs; j0 += partial_pairs) {
            int j1 = j0 + partial_pairs < pairs ? j0 + partial_pairs : pairs;
            memset(part, 0, sizeof(int32_t) * (size_t)width);
            for (int j = j0; j < j1; j++) {
                int32_t a0 = ar[2 * j], a1 = ar[2 * j + 1];
                const int16_t *bp = b + (size_t)j * ldb + 2 * col_begin;
                for (int q = 0; q < width; q++) part[q] += a0 * bp[2 * q] + a1 * bp[2 * q + 1];
            }
            for (int q = 0; q < width; q++) sum[q] += part[q];
        }
        for (int q = 0; q < width; q++) c[(size_t)r * ldc + col_begin + q] = sum[q];
    }
    free(part);
    free(sum);
}

#if defined(__x86_64__)
__attribute__((target("avx2")))
static void widen_add(__m256i partial, int64_t *sum) {
    __m256i lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(partial));
    __m256i hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(partial, 1));
    _mm256_storeu_si256((__m256i *)sum, _mm256_add_epi64(_mm256_loadu_si256((const __m256i *)sum), lo));
    _mm256_storeu_si256((__m256i *)(sum + 4), _mm256_add_epi64(_mm256_loadu_si256((const __m256i *)(sum + 4)), hi));
}

// Columns 0 ..< n / COLUMNS * COLUMNS of rows 0 ..< m; returns the first column it left.
__attribute__((target("avx2")))
static int product_avx2(int m, int n, int kp, const int16_t *a, int lda, const int16_t *b, int ldb, int64_t *c, int ldc,
                        int partial_pairs) {
    int pairs = kp / 2, end = n / COLUMNS * COLUMNS;
    for (int r0 = 0; r0 < m; r0 += ROWS) {
        int rows = m - r0 < ROWS ? m - r0 : ROWS;
        for (int p = 0; p < end; p += COLUMNS) {
            int64_t sum[ROWS][COLUMNS] = {{0}};
            for (int j0 = 0; j0 < pairs; j0 += partial_pairs) {
                int j1 = j0 + partial_pairs < pairs ? j0 + partial_pairs : pairs;
                __m256i acc[ROWS][2];
                for (int r = 0; r < ROWS; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
                for (int j = j0; j < j1; j++) {
                    const int16_t *bp = b + (size_t)j * ldb + 2 * p;
                    __m256i b0 = _mm256_loadu_si256((const __m256i *)bp), b1 = _mm256_loadu_si256((const __m256i *)(bp + 16));
                    for (int r = 0; r < ROWS; r++) {
                        // Rows past m repeat the last row (their sums are not stored).
                        const int16_t *ap = a + (size_t)(r0 + (r < rows ? r : rows - 1)) * lda + 2 * j;
                        int32_t pair;
                        __builtin_memcpy(&pair, ap, sizeof pair);
                        __m256i w = _mm256_set1_epi32(pair);
                        acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(b0, w));
                        acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(b1, w));
                    }
                }
                for (int r = 0; r < ROWS; r++) {
                    widen_add(acc[r][0], sum[r]);
                    widen_add(acc[r][1], sum[r] + 8);
                }
            }
            for (int r = 0; r < rows; r++)
                for (int q = 0; q < COLUMNS; q++) c[(size_t)(r0 + r) * ldc + p + q] = sum[r][q];
        }
    }
    return end;
}
#endif

void vlat_int16_product(int m, int n, int kp, const int16_t *a, int lda, const int16_t *b, int ldb, int64_t *c, int ldc,
                        int partial_pairs, int vector) {
    if (m <= 0 || n <= 0) return;
    int from = 0;
#if defined(__x86_64__)
    if (vector && partial_pairs >= 1 && __builtin_cpu_supports("avx2")) from = product_avx2(m, n, kp, a, lda, b, ldb, c, ldc, partial_pairs);
#else
    (void)vector;
#endif
    product_portable(m, n, kp, a, lda, b, ldb, c, ldc, from, partial_pairs);
}
