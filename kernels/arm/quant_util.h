/* Shared steps of the ARM weight quantizers (q4_0, q4_1, q5_0, q5_1), written to reproduce the
 * reference (gguf-py's numpy quantize, ggml's quantize_row_*_ref) byte for byte: the same float32
 * operations in the same order, products and sums rounded separately, truncating conversions. */
#ifndef EDGEAI_ARM_QUANT_UTIL_H
#define EDGEAI_ARM_QUANT_UTIL_H

#include <math.h>
#include "neon_util.h"

/* 32 floats -> 8 vectors; *lo, *hi: the block's minimum and maximum. */
static inline void ea_load32_minmax(const float *x, float32x4_t v[8], float *lo, float *hi) {
    float32x4_t mx = vld1q_f32(x), mn = mx;
    v[0] = mx;
    for (int i = 1; i < 8; i++) {
        v[i] = vld1q_f32(x + 4 * i);
        mx = vmaxq_f32(mx, v[i]);
        mn = vminq_f32(mn, v[i]);
    }
    *hi = ea_hmax_f32(mx);
    *lo = -ea_hmax_f32(vnegq_f32(mn));
    /* FMIN/FMAX order -0 below +0; the reference's sequential "<" / ">" scan keeps the first zero
     * it meets, whose sign reaches the stored m (and d = max - min): take that one */
    if (*lo == 0.0f || *hi == 0.0f) {
        int j = 0;
        while (j < 31 && x[j] != 0.0f) j++;
        if (*lo == 0.0f) *lo = x[j];
        if (*hi == 0.0f) *hi = x[j];
    }
}

/* The element of largest magnitude, with its sign; the first such when +a and -a both occur
 * (numpy argmax / ggml's strict ">" scan). */
static inline float ea_signed_absmax(const float *x, int n, float lo, float hi) {
    if (hi != -lo) return hi > -lo ? hi : lo;
    int j = 0;
    while (j < n - 1 && fabsf(x[j]) != hi) j++;
    return x[j];
}

/* trunc(v * id + add), clamped to [0, top], for 4 lanes (v * id + add >= 0 by construction). */
static inline int32x4_t ea_trunc_affine(float32x4_t v, float32x4_t id, float32x4_t add, int32x4_t top) {
    return vminq_s32(vmaxq_s32(vcvtq_s32_f32(vaddq_f32(vmulq_f32(v, id), add)), vdupq_n_s32(0)), top);
}

/* 16 bytes that are 0 or 1 -> a 16-bit mask, byte j -> bit j. */
static inline uint16_t ea_bits16(uint8x16_t b01) {
    static const uint8_t k_w[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t w = vmulq_u8(b01, vld1q_u8(k_w));
#if defined(EA_A64)
    return (uint16_t)(vaddv_u8(vget_low_u8(w)) | (vaddv_u8(vget_high_u8(w)) << 8));
#else
    uint8x8_t s = vpadd_u8(vget_low_u8(w), vget_high_u8(w));
    s = vpadd_u8(s, s);
    s = vpadd_u8(s, s);
    return (uint16_t)(vget_lane_u8(s, 0) | (vget_lane_u8(s, 1) << 8));
#endif
}

#endif
