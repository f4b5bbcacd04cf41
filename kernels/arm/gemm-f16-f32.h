/* Body of ea_gemm_f16_f32__neondot (EA_FN named by the including file): fp16 weights times f32
 * activations with the ARMv8.2 FP16 arithmetic extension (FMLA .8h: 8 multiply-adds per
 * instruction, twice the f32 rate), on CPUs whose HWCAP has it (asimdhp). The activation rows are
 * converted to fp16 once per call and reused for every weight row of the tile; that holds for the
 * GEMV too (M = 1: one row against the call's N weight rows), where FMLA .8h replaces two FCVTL and
 * two f32 FMLA per 8 weights.
 *
 * Accuracy, and why it stays bounded:
 *  - each activation row is scaled by a power of two s_r (exact) so its largest |x| lands in
 *    [512, 1024) before rounding to fp16: no row underflows into fp16 subnormals, and the result is
 *    scaled back by 1/s_r exactly;
 *  - products accumulate in fp16 over 32 elements only (4 per lane), then widen into f32
 *    accumulators: the error is a few fp16 ulps of the 32-element partial sums, about 1e-3 of
 *    sum |w x| (named tolerance "f16 fp16-arithmetic" in tests/c/test_kernels.c), the size of the
 *    error 8-bit activations already bring to the quantized formats; the precise f16 dot kernels
 *    (ea_dot_f16_f32__*, widening to f32) stay as they are, e.g. for attention over an f16 KV cache;
 *  - a partial sum that overflows fp16 (weights beyond ~16 in magnitude) turns into inf: any output
 *    that is not finite is recomputed with the f32 dot, as are the columns outside whole groups of
 *    4 weight rows, and everything on CPUs whose HWCAP lacks fp16 arithmetic (asimdhp).
 * Deterministic: an output takes the same operations whether its row is in a pair or alone, so
 * results depend on neither M nor the thread count. Tile: 2 activation rows x 4 weight rows
 * (8 fp16 + 8 f32 accumulators, 6 operand registers), or 1 x 4 for an odd last row. */
#include <math.h>
#include <stdlib.h>
#include "neon_util.h"
#include "../core/cpu.h"

#ifndef __ARM_FEATURE_FP16_VECTOR_ARITHMETIC
#error "needs fp16 vector arithmetic"
#endif

static void ea_gemm_edge_dot(int64_t k, float *s, const void *vw, const void *va);
#pragma push_macro("EA_FN")
#undef EA_FN
#define EA_FN ea_gemm_edge_dot
#include "dot-f16-f32.h"
#pragma pop_macro("EA_FN")

/* x[0..k) * 2^e -> fp16 in h; returns 2^-e (the factor that undoes it). */
static float to_f16_scaled(const float *x, int64_t k, float16_t *h) {
    float32x4_t mx = vdupq_n_f32(0.0f);
    int64_t i = 0;
    for (; i + 4 <= k; i += 4) mx = vmaxq_f32(mx, vabsq_f32(vld1q_f32(x + i)));
    float amax = ea_hmax_f32(mx);
    for (; i < k; i++) amax = fmaxf(amax, fabsf(x[i]));
    int e = 0;
    if (amax > 0.0f && isfinite(amax)) frexpf(amax, &e); /* amax = f * 2^e, f in [0.5, 1) */
    const float sc = (amax > 0.0f && isfinite(amax)) ? ldexpf(1.0f, 10 - e) : 1.0f;
    const float32x4_t vsc = vdupq_n_f32(sc);
    for (i = 0; i + 4 <= k; i += 4) vst1_f16(h + i, vcvt_f16_f32(vmulq_f32(vld1q_f32(x + i), vsc)));
    for (; i < k; i++) h[i] = (float16_t)(x[i] * sc);
    return 1.0f / sc;
}

/* Rows x0 (and x1 when R == 2, h1 / inv1 likewise) against weight rows w[0..3]: the fp16 tile.
 * Each output takes the same operations whatever R is, so a row's results do not depend on M. */
static inline __attribute__((always_inline)) void f16_tile(const int R, int64_t k, const ea_fp16 *const w[4],
                                                           const float *x0, const float *x1, const float16_t *h0,
                                                           const float16_t *h1, float inv0, float inv1, float *s0,
                                                           float *s1) {
    const int64_t k8 = k & ~(int64_t)7;
    float32x4_t acc[2][4];
    for (int r = 0; r < R; r++)
        for (int c = 0; c < 4; c++) acc[r][c] = vdupq_n_f32(0.0f);
    for (int64_t t0 = 0; t0 < k8; t0 += 32) {
        const int64_t t1 = t0 + 32 < k8 ? t0 + 32 : k8;
        float16x8_t p[2][4];
        for (int r = 0; r < R; r++)
            for (int c = 0; c < 4; c++) p[r][c] = vdupq_n_f16(0);
        for (int64_t t = t0; t < t1; t += 8) {
            const float16x8_t a0 = vld1q_f16(h0 + t);
            const float16x8_t a1 = R == 2 ? vld1q_f16(h1 + t) : a0;
            for (int c = 0; c < 4; c++) {
                const float16x8_t wv = vreinterpretq_f16_u16(vld1q_u16(w[c] + t));
                p[0][c] = vfmaq_f16(p[0][c], wv, a0);
                if (R == 2) p[1][c] = vfmaq_f16(p[1][c], wv, a1);
            }
        }
        for (int r = 0; r < R; r++)
            for (int c = 0; c < 4; c++)
                acc[r][c] = vaddq_f32(acc[r][c], vaddq_f32(vcvt_f32_f16(vget_low_f16(p[r][c])),
                                                           vcvt_high_f32_f16(p[r][c])));
    }
    for (int r = 0; r < R; r++) {
        const float *x = r ? x1 : x0;
        const float inv = r ? inv1 : inv0;
        float *out = r ? s1 : s0;
        for (int c = 0; c < 4; c++) {
            float tail = 0.0f; /* the k % 8 last elements in f32 */
            for (int64_t t = k8; t < k; t++) tail += ea_h2f(w[c][t]) * x[t];
            float v = ea_hadd_f32(acc[r][c]) * inv + tail;
            if (!isfinite(v)) ea_gemm_edge_dot(k, &v, w[c], x); /* fp16 overflow: redo in f32 */
            out[c] = v;
        }
    }
}

void EA_FN(int64_t k, int64_t m, int64_t n, float *s, int64_t lds, const void *vw, size_t ws, const void *va,
           size_t as) {
    const char *wb = (const char *)vw, *ab = (const char *)va;
    const int64_t n4 = n & ~(int64_t)3;
    float16_t *h = NULL;
    if (n4 > 0 && (ea_cpu_features() & EA_CPU_ASIMDHP)) h = (float16_t *)malloc(sizeof(float16_t) * (size_t)(2 * k + 16));
    if (!h) { /* no fp16 arithmetic on this CPU (or no whole column of 4, or no memory): all f32 */
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                ea_gemm_edge_dot(k, &s[i * lds + j], wb + (size_t)j * ws, ab + (size_t)i * as);
        return;
    }
    float16_t *h0 = h, *h1 = h + k + 8;
    for (int64_t i0 = 0; i0 < m; i0 += 2) {
        const int two = i0 + 1 < m; /* a pair of rows, or the last odd row (M = 1: the GEMV) alone */
        const float *x0 = (const float *)(ab + (size_t)i0 * as);
        const float *x1 = two ? (const float *)(ab + (size_t)(i0 + 1) * as) : x0;
        const float inv0 = to_f16_scaled(x0, k, h0), inv1 = two ? to_f16_scaled(x1, k, h1) : inv0;
        float *s0 = s + i0 * lds, *s1 = two ? s + (i0 + 1) * lds : s0;
        for (int64_t j = 0; j < n4; j += 4) {
            const ea_fp16 *w[4];
            for (int c = 0; c < 4; c++) w[c] = (const ea_fp16 *)(wb + (size_t)(j + c) * ws);
            if (two) f16_tile(2, k, w, x0, x1, h0, h1, inv0, inv1, s0 + j, s1 + j);
            else f16_tile(1, k, w, x0, x0, h0, h0, inv0, inv0, s0 + j, s0 + j);
        }
        for (int64_t j = n4; j < n; j++) {
            ea_gemm_edge_dot(k, &s0[j], wb + (size_t)j * ws, x0);
            if (two) ea_gemm_edge_dot(k, &s1[j], wb + (size_t)j * ws, x1);
        }
    }
    free(h);
}
