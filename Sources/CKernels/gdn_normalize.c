// GDN's element-wise steps (forward and backward) with vector square roots. Swift's Float.squareRoot() keeps a branch
// to libm for negative inputs (errno), so its loops neither vectorize nor pipeline; the vector
// instructions below are IEEE square roots and divisions, correctly rounded like the scalar ones.
#include "ckernels.h"
#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx")))
static void normalize_avx(const float *x, const float *norm, float *y, size_t count, int inverse) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 r = _mm256_sqrt_ps(_mm256_loadu_ps(norm + i)), v = _mm256_loadu_ps(x + i);
        _mm256_storeu_ps(y + i, inverse ? _mm256_mul_ps(v, r) : _mm256_div_ps(v, r));
    }
    for (; i < count; i++) {
        __m128 r = _mm_sqrt_ss(_mm_set_ss(norm[i])), v = _mm_set_ss(x[i]);
        y[i] = _mm_cvtss_f32(inverse ? _mm_mul_ss(v, r) : _mm_div_ss(v, r));
    }
}

static void normalize_sse(const float *x, const float *norm, float *y, size_t count, int inverse) {
    size_t i = 0;
    for (; i + 4 <= count; i += 4) {
        __m128 r = _mm_sqrt_ps(_mm_loadu_ps(norm + i)), v = _mm_loadu_ps(x + i);
        _mm_storeu_ps(y + i, inverse ? _mm_mul_ps(v, r) : _mm_div_ps(v, r));
    }
    for (; i < count; i++) {
        __m128 r = _mm_sqrt_ss(_mm_set_ss(norm[i])), v = _mm_set_ss(x[i]);
        y[i] = _mm_cvtss_f32(inverse ? _mm_mul_ss(v, r) : _mm_div_ss(v, r));
    }
}

void vlat_gdn_normalize(const float *x, const float *norm, float *y, size_t count, int inverse) {
    if (__builtin_cpu_supports("avx")) normalize_avx(x, norm, y, count, inverse);
    else normalize_sse(x, norm, y, count, inverse);
}

static inline void backward_one(const float *dy, const float *x, const float *norm, float *dx, float *t, size_t i, int inverse) {
    __m128 g = _mm_set_ss(dy[i]), v = _mm_set_ss(x[i]), n = _mm_set_ss(norm[i]), r = _mm_sqrt_ss(n);
    if (inverse) {
        dx[i] = _mm_cvtss_f32(_mm_mul_ss(g, r));
        t[i] = _mm_cvtss_f32(_mm_div_ss(_mm_mul_ss(_mm_mul_ss(_mm_set_ss(0.5f), g), v), r));
    } else {
        dx[i] = _mm_cvtss_f32(_mm_div_ss(g, r));
        t[i] = _mm_cvtss_f32(_mm_div_ss(_mm_mul_ss(_mm_mul_ss(_mm_set_ss(-0.5f), g), v), _mm_mul_ss(n, r)));
    }
}

__attribute__((target("avx")))
static void backward_avx(const float *dy, const float *x, const float *norm, float *dx, float *t, size_t count, int inverse) {
    size_t i = 0;
    const __m256 half = _mm256_set1_ps(inverse ? 0.5f : -0.5f);
    for (; i + 8 <= count; i += 8) {
        __m256 g = _mm256_loadu_ps(dy + i), v = _mm256_loadu_ps(x + i), n = _mm256_loadu_ps(norm + i), r = _mm256_sqrt_ps(n);
        __m256 p = _mm256_mul_ps(_mm256_mul_ps(half, g), v);
        if (inverse) {
            _mm256_storeu_ps(dx + i, _mm256_mul_ps(g, r));
            _mm256_storeu_ps(t + i, _mm256_div_ps(p, r));
        } else {
            _mm256_storeu_ps(dx + i, _mm256_div_ps(g, r));
            _mm256_storeu_ps(t + i, _mm256_div_ps(p, _mm256_mul_ps(n, r)));
        }
    }
    for (; i < count; i++) backward_one(dy, x, norm, dx, t, i, inverse);
}

static void backward_sse(const float *dy, const float *x, const float *norm, float *dx, float *t, size_t count, int inverse) {
    size_t i = 0;
    const __m128 half = _mm_set1_ps(inverse ? 0.5f : -0.5f);
    for (; i + 4 <= count; i += 4) {
        __m128 g = _mm_loadu_ps(dy + i), v = _mm_loadu_ps(x + i), n = _mm_loadu_ps(norm + i), r = _mm_sqrt_ps(n);
        __m128 p = _mm_mul_ps(_mm_mul_ps(half, g), v);
        if (inverse) {
            _mm_storeu_ps(dx + i, _mm_mul_ps(g, r));
            _mm_storeu_ps(t + i, _mm_div_ps(p, r));
        } else {
            _mm_storeu_ps(dx + i, _mm_div_ps(g, r));
            _mm_storeu_ps(t + i, _mm_div_ps(p, _mm_mul_ps(n, r)));
        }
    }
    for (; i < count; i++) backward_one(dy, x, norm, dx, t, i, inverse);
}

void vlat_gdn_backward(const float *dy, const float *x, const float *norm, float *dx, float *t, size_t count, int inverse) {
    if (__builtin_cpu_supports("avx")) backward_avx(dy, x, norm, dx, t, count, inverse);
    else backward_sse(dy, x, norm, dx, t, count, inverse);
}

#else

void vlat_gdn_normalize(const float *x, const float *norm, float *y, size_t count, int inverse) {
    for (size_t i = 0; i < count; i++) {
        float r = sqrtf(norm[i]);
        y[i] = inverse ? x[i] * r : x[i] / r;
    }
}

void vlat_gdn_backward(const float *dy, const float *x, const float *norm, float *dx, float *t, size_t count, int inverse) {
    for (size_t i = 0; i < count; i++) {
        float r = sqrtf(norm[i]);
        if (inverse) {
            dx[i] = dy[i] * r;
            t[i] = 0.5f * dy[i] * x[i] / r;
        } else {
            dx[i] = dy[i] / r;
            t[i] = -0.5f * dy[i] * x[i] / (norm[i] * r);
        }
    }
}

#endif
