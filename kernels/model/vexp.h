/* e^x four lanes at a time for the model code's float loops (softmax.c, act.c), with GCC vector
 * extensions: SSE2 on x86-64, NEON on aarch64, scalar code on armv7 without NEON, the same bits on
 * all three (the build's -ffp-contract=off keeps every multiply and add separately rounded).
 *
 * exp(x) = 2^n * e^r with n = round(x / ln 2) and r = x - n ln 2 in [-ln2/2, ln2/2]:
 *   - n by the 1.5 * 2^23 rounding trick. t = x log2(e) + 1.5 * 2^23 lands in [2^23, 2^24), where
 *     floats are the integers, so t is rounded to nearest and its low mantissa bits are n + 0x400000.
 *   - r by a two-part ln 2: n * 0.693359375 is exact for |n| < 2^15.
 *   - e^r = 1 + r + r^2 P(r), P of degree 5: the Cephes expf coefficients (rel. error ~1e-7 on
 *     the interval).
 *   - 2^n by building the exponent field: (n + 127) << 23. -87 <= x <= 88 keeps n in [-126, 127]. */
#ifndef EDGEAI_MODEL_VEXP_H
#define EDGEAI_MODEL_VEXP_H

#include <stdint.h>
#include <string.h>

typedef float ea_v4f __attribute__((vector_size(16)));
typedef int32_t ea_v4i __attribute__((vector_size(16)));

#define EA_VEXP_LO (-87.0f)
#define EA_VEXP_HI 88.0f
#define EA_VEXP_MAGIC 12582912.0f /* 1.5 * 2^23 */
#define EA_VEXP_MAGIC_BITS 0x4B400000

static inline ea_v4f ea_v4_load(const float *p) {
    ea_v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void ea_v4_store(float *p, ea_v4f v) { memcpy(p, &v, sizeof v); }

static inline ea_v4f ea_v4_splat(float f) { return (ea_v4f){f, f, f, f}; }

/* e^x per lane, relative error < 3e-7; 0 where x < -87 (and -inf), +inf where x > 88 (and +inf),
 * NaN where x is NaN */
static inline ea_v4f ea_v4_exp(ea_v4f x) {
    const ea_v4f t = x * ea_v4_splat(1.44269504088896341f) + ea_v4_splat(EA_VEXP_MAGIC);
    const ea_v4f n = t - ea_v4_splat(EA_VEXP_MAGIC);
    ea_v4f r = x - n * ea_v4_splat(0.693359375f);
    r = r - n * ea_v4_splat(-2.12194440e-4f);
    ea_v4f p = ea_v4_splat(1.9875691500e-4f);
    p = p * r + ea_v4_splat(1.3981999507e-3f);
    p = p * r + ea_v4_splat(8.3334519073e-3f);
    p = p * r + ea_v4_splat(4.1665795894e-2f);
    p = p * r + ea_v4_splat(1.6666665459e-1f);
    p = p * r + ea_v4_splat(5.0000001201e-1f);
    const ea_v4f er = p * (r * r) + r + ea_v4_splat(1.0f);
    /* 2^n from t's bits; lanes outside [-87, 88] hold garbage here and are replaced below */
    const ea_v4i e = (((ea_v4i)t - EA_VEXP_MAGIC_BITS) + 127) << 23;
    const ea_v4i low = x < ea_v4_splat(EA_VEXP_LO);  /* -1 where x < -87; 0 for NaN, so NaN goes through */
    const ea_v4i high = x > ea_v4_splat(EA_VEXP_HI);
    const ea_v4i y = (ea_v4i)(er * (ea_v4f)e) & ~(low | high);
    return (ea_v4f)(y | (high & (ea_v4i)ea_v4_splat(__builtin_inff())));
}

#endif
