/* Softmax of attention score chunks (softmax.h), written with GCC vector extensions: four-float
 * vectors compile to SSE2 on x86-64, to NEON on aarch64, and to scalar code on armv7 without NEON,
 * from one source. The build's -ffp-contract=off keeps every multiply and add separately rounded, so
 * all three give the same bits.
 *
 * exp(x) = 2^n * e^r with n = round(x / ln 2) and r = x - n ln 2 in [-ln2/2, ln2/2]:
 *   - n by the 1.5 * 2^23 rounding trick. t = x log2(e) + 1.5 * 2^23 lands in [2^23, 2^24), where
 *     floats are the integers, so t is rounded to nearest and its low mantissa bits are n + 0x400000.
 *   - r by a two-part ln 2: n * 0.693359375 is exact for |n| < 2^15.
 *   - e^r = 1 + r + r^2 P(r), P of degree 5: the Cephes expf coefficients (rel. error ~1e-7 on
 *     the interval).
 *   - 2^n by building the exponent field: (n + 127) << 23. x >= -87 keeps n >= -126 (a normal float). */
#include "softmax.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

#define EXP_LO (-87.0f)
#define ROUND_MAGIC 12582912.0f  /* 1.5 * 2^23 */
#define ROUND_MAGIC_BITS 0x4B400000

static inline v4f load4(const float *p) {
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store4(float *p, v4f v) { memcpy(p, &v, sizeof v); }

static inline v4f splat(float f) { return (v4f){f, f, f, f}; }

/* e^x per lane; 0 where x < -87 (including -inf), NaN where x is NaN */
static inline v4f exp4(v4f x) {
    const v4f t = x * splat(1.44269504088896341f) + splat(ROUND_MAGIC);
    const v4f n = t - splat(ROUND_MAGIC);
    v4f r = x - n * splat(0.693359375f);
    r = r - n * splat(-2.12194440e-4f);
    v4f p = splat(1.9875691500e-4f);
    p = p * r + splat(1.3981999507e-3f);
    p = p * r + splat(8.3334519073e-3f);
    p = p * r + splat(4.1665795894e-2f);
    p = p * r + splat(1.6666665459e-1f);
    p = p * r + splat(5.0000001201e-1f);
    const v4f er = p * (r * r) + r + splat(1.0f);
    /* 2^n from t's bits; lanes with x < -87 hold garbage here and are zeroed below */
    const v4i e = (((v4i)t - ROUND_MAGIC_BITS) + 127) << 23;
    const v4i low = x < splat(EXP_LO); /* -1 where x < -87; 0 for NaN, so NaN goes through */
    return (v4f)((v4i)(er * (v4f)e) & ~low);
}

/* x[i] = e^(x[i] - m) for i < n; returns their sum (four lane sums, then a fixed tree) */
static float exp_sub_sum(float *x, int n, float m) {
    v4f acc = splat(0.0f);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const v4f y = exp4(load4(x + i) - splat(m));
        store4(x + i, y);
        acc += y;
    }
    if (i < n) {
        /* the last n % 4 in a -inf-padded vector: the padding lanes add 0 to their sums */
        float buf[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
        memcpy(buf, x + i, (size_t)(n - i) * sizeof(float));
        const v4f y = exp4(load4(buf) - splat(m));
        store4(buf, y);
        memcpy(x + i, buf, (size_t)(n - i) * sizeof(float));
        acc += y;
    }
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

float ea_exp_neg_sum(float *x, int n) { return exp_sub_sum(x, n, 0.0f); }

float ea_softmax_chunk(float *s, int n, float scale, float *mx) {
    v4f vmax = splat(-INFINITY);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const v4f v = load4(s + i) * splat(scale);
        store4(s + i, v);
        const v4i gt = v > vmax; /* false for NaN: NaN scores do not become the maximum */
        vmax = (v4f)(((v4i)v & gt) | ((v4i)vmax & ~gt));
    }
    float m = -INFINITY;
    for (int l = 0; l < 4; l++)
        if (vmax[l] > m) m = vmax[l];
    for (; i < n; i++) {
        s[i] *= scale;
        if (s[i] > m) m = s[i];
    }
    *mx = m;
    /* x - m <= 0 for every non-NaN score; all -inf (m = -inf) gives NaN, as expf would */
    return exp_sub_sum(s, n, m);
}
