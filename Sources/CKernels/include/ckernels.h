#ifndef VLAT_CKERNELS_H
#define VLAT_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// y[i] = x[i] * sqrt(norm[i]) (inverse != 0, IGDN) or x[i] / sqrt(norm[i]) (GDN), for i < count.
/// Each element is the correctly rounded square root, then the correctly rounded product or
/// quotient: bit for bit the scalar formula, whatever vector width the CPU offers.
void vlat_gdn_normalize(const float *x, const float *norm, float *y, size_t count, int inverse);

/// GDN's backward element-wise step, for i < count, with r = sqrt(norm[i]):
/// IGDN: dx = dy * r, t = ((0.5 * dy) * x) / r;  GDN: dx = dy / r, t = ((-0.5 * dy) * x) / (norm * r).
/// Each operation correctly rounded, in this order: bit for bit the scalar formula.
void vlat_gdn_backward(const float *dy, const float *x, const float *norm, float *dx, float *t, size_t count, int inverse);

/// Output rows row_begin..<row_end of a 3x3, stride-1, zero-padded convolution of x ([cin, h, w])
/// into y ([cout, h, w]). wt holds the weights tap-major, [cin * 9][cout rounded up to 8]: the
/// weight of input channel c, kernel row ky, column kx for output o at (c * 9 + ky * 3 + kx) * pad + o.
/// Each output is its bias plus all nine taps of every channel in the order (c, ky, kx), each a
/// fused multiply-add (taps on the zero padding included): the same value whatever rows are
/// asked or vector width used. With `activate`, each output below zero is then multiplied by
/// `slope` (a leaky ReLU's own operation; slope 0: ReLU), so that a convolution and the
/// activation after it take one pass. Returns 0 (writing nothing) when its row buffer cannot be had.
int vlat_conv3x3_direct(const float *x, int cin, int h, int w, const float *wt, int cout, const float *bias,
                         int row_begin, int row_end, float *y, int activate, float slope);

/// c[r * ldc + p] = sum over k < kp of a[r * lda + k] * B[k][p], exactly, for r < m, p < n. B is
/// stored in pairs of rows: B[k][p] at b[(k / 2) * ldb + 2 * p + k % 2] (kp even; pad with a zero
/// row). Sums of `partial_pairs` pairs of products are formed in 32 bits before they are added
/// into 64: the caller keeps partial_pairs * 2 * max|a| * max|b| below 2^31 (and no operand is
/// -32768), so that every result is the exact sum, whatever path the CPU takes. vector = 0
/// keeps to the portable loop (for tests of it).
void vlat_int16_product(int m, int n, int kp, const int16_t *a, int lda, const int16_t *b, int ldb, int64_t *c, int ldc,
                        int partial_pairs, int vector);

/// SHA-256's compression of `blocks` 64-byte blocks at `data` into `state` (FIPS 180-4) with the
/// CPU's SHA extensions. Returns 1, or 0 without touching `state` when the CPU has none (the
/// caller then runs its portable code).
int vlat_sha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks);

/// SHA-256's 64 round constants (FIPS 180-4), for the portable code.
const uint32_t *vlat_sha256_round_constants(void);

/// Whether this CPU has AVX512_BF16 (`vlat_bf16_taps_row` runs only there).
int vlat_bf16_available(void);

/// `value` rounded to bfloat16 (nearest, ties to even; subnormals to zero and NaN stays NaN, as
/// AVX512_BF16's conversions do), as its 16 bits.
uint16_t vlat_bf16_round(float value);

/// out[i] = bf16(even[i * stride]) | bf16(odd[i * stride]) << 16 for i < count (odd NULL: zeros):
/// the pair layout of `vlat_bf16_taps_row`'s operands. Each value rounded as `vlat_bf16_round`
/// does, with AVX512_BF16's conversions where the CPU has them (stride 1 or 2).
void vlat_bf16_pack_pairs(const float *even, const float *odd, size_t stride, uint32_t *out, size_t count);

/// acc[o * ldacc + q] += sum over t < taps, p < pairs of the products of weight pair
/// weights[((t * blocks + o / 8) * pairs + p) * 8 + o % 8] and operand pair operands[t][p * ldb + q]
/// (each 32-bit word two bfloat16 values, the even index low), for o < 8 * blocks, q < width.
/// Each pair's two products are added into the float32 sum by one `vdpbf16ps`, taps then pairs in
/// order: the same floats for a column whatever the width around it. Returns 0, changing nothing,
/// on a CPU without AVX512_BF16.
int vlat_bf16_taps_row(int blocks, int pairs, int width, int taps, const uint32_t *const *operands, size_t ldb,
                       const uint32_t *weights, float *acc, size_t ldacc);

#endif
