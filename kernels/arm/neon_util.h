/* Helpers shared by the ARM kernels: one spelling for what AArch64 and ARMv7 NEON both can do.
 *
 * The kernel bodies (the .h templates of kernels/arm) are written against these so one body serves
 * neon (ARMv8.0), neondot (ARMv8.2 dotprod) and armv7neon: what changes per ISA is the helper.
 *   ea_dot_s8     : 4 int32 lanes += 16 int8 x int8 products (sdot, or vmull + vpadal)
 *   ea_hadd_s32/f32, ea_hmax_f32 : horizontal reductions (vaddvq on AArch64, pairwise on ARMv7)
 *   ea_round_away : float -> int32, round half away from zero (C roundf), as the ref quantizers
 * Included only by files built with their ISA's flags; never by baseline code. */
#ifndef EDGEAI_ARM_NEON_UTIL_H
#define EDGEAI_ARM_NEON_UTIL_H

#include <arm_neon.h>
#include "../blocks.h"

#if defined(__aarch64__)
#define EA_A64 1
#endif

/* acc[l] += sum of 4 of the 16 products a[t] * b[t]; the lane a product lands in differs between
 * the two spellings, the sum over lanes does not. Safe for any int8 input (-128 * -128 fits the
 * int16 of vmull; vpadal widens to int32 at once). */
static inline int32x4_t ea_dot_s8(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(acc, a, b);
#else
    int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    int16x8_t hi = vmull_s8(vget_high_s8(a), vget_high_s8(b));
    acc = vpadalq_s16(acc, lo);
    return vpadalq_s16(acc, hi);
#endif
}

/* Same, for two 16-byte pairs at once where one side of every product is small (|a| <= 64, the
 * 4/5/6-bit weights): two products are added in int16 before widening, one vpadal per 32 bytes. */
static inline int32x4_t ea_dot_s8x2_small(int32x4_t acc, int8x16_t a0, int8x16_t b0, int8x16_t a1, int8x16_t b1) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(vdotq_s32(acc, a0, b0), a1, b1);
#else
    int16x8_t p0 = vmull_s8(vget_low_s8(a0), vget_low_s8(b0));
    int16x8_t p1 = vmull_s8(vget_high_s8(a0), vget_high_s8(b0));
    p0 = vmlal_s8(p0, vget_low_s8(a1), vget_low_s8(b1));
    p1 = vmlal_s8(p1, vget_high_s8(a1), vget_high_s8(b1));
    acc = vpadalq_s16(acc, p0);
    return vpadalq_s16(acc, p1);
#endif
}

static inline int32_t ea_hadd_s32(int32x4_t v) {
#if defined(EA_A64)
    return vaddvq_s32(v);
#else
    int32x2_t s = vadd_s32(vget_low_s32(v), vget_high_s32(v));
    return vget_lane_s32(vpadd_s32(s, s), 0);
#endif
}

/* [a0+a1, a2+a3, a4+a5, a6+a7, b0+b1, ..., b6+b7] */
static inline int16x8_t ea_padd_s16(int16x8_t a, int16x8_t b) {
#if defined(EA_A64)
    return vpaddq_s16(a, b);
#else
    return vcombine_s16(vpadd_s16(vget_low_s16(a), vget_high_s16(a)), vpadd_s16(vget_low_s16(b), vget_high_s16(b)));
#endif
}

/* sum_j x[j] * y[j] over 8 int16 lanes, in int32 */
static inline int32_t ea_dot_s16x8(int16x8_t x, int16x8_t y) {
    int32x4_t p = vmull_s16(vget_low_s16(x), vget_low_s16(y));
    p = vmlal_s16(p, vget_high_s16(x), vget_high_s16(y));
    return ea_hadd_s32(p);
}

static inline int32_t ea_hadd_s16(int16x8_t v) { return ea_hadd_s32(vpaddlq_s16(v)); }

/* float -> int32 to nearest, ties to even (ggml's nearest_int, the K-quant ref rounding). ARMv7:
 * the same magic-number addition ggml uses, exact for |v| < 2^22. */
static inline int32x4_t ea_round_even(float32x4_t v) {
#if defined(EA_A64)
    return vcvtnq_s32_f32(v);
#else
    const float32x4_t magic = vdupq_n_f32(12582912.0f); /* 1.5 * 2^23 */
    int32x4_t i = vreinterpretq_s32_f32(vaddq_f32(v, magic));
    return vsubq_s32(vandq_s32(i, vdupq_n_s32(0x007fffff)), vdupq_n_s32(0x00400000));
#endif
}

static inline float ea_hadd_f32(float32x4_t v) {
#if defined(EA_A64)
    return vaddvq_f32(v);
#else
    float32x2_t s = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpadd_f32(s, s), 0);
#endif
}

static inline float ea_hmax_f32(float32x4_t v) {
#if defined(EA_A64)
    return vmaxvq_f32(v);
#else
    float32x2_t s = vpmax_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpmax_f32(s, s), 0);
#endif
}

/* a * b + c per lane: fused where the ISA has it (AArch64, VFPv4). Only for sums whose rounding
 * may differ from the reference (dots), never in quantizers. */
static inline float32x4_t ea_fma_f32(float32x4_t c, float32x4_t a, float32x4_t b) {
#if defined(EA_A64) || defined(__ARM_FEATURE_FMA)
    return vfmaq_f32(c, a, b);
#else
    return vmlaq_f32(c, a, b);
#endif
}

/* roundf() per lane: to nearest, ties away from zero. ARMv7 has only truncating conversion:
 * truncate, then step one away from zero when the dropped fraction (exact: |v| < 2^23 here) is
 * at least one half. */
static inline int32x4_t ea_round_away(float32x4_t v) {
#if defined(EA_A64)
    return vcvtaq_s32_f32(v);
#else
    int32x4_t t = vcvtq_s32_f32(v);
    float32x4_t frac = vsubq_f32(v, vcvtq_f32_s32(t));
    uint32x4_t up = vcageq_f32(frac, vdupq_n_f32(0.5f));
    int32x4_t sign = vorrq_s32(vshrq_n_s32(vreinterpretq_s32_f32(v), 31), vdupq_n_s32(1)); /* -1 or +1 */
    return vaddq_s32(t, vandq_s32(vreinterpretq_s32_u32(up), sign));
#endif
}

/* 16 int32 (four vectors) -> 16 int8, saturating (values are in [-127, 127] already). */
static inline int8x16_t ea_narrow_s32x4(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
    int16x8_t lo = vcombine_s16(vqmovn_s32(a), vqmovn_s32(b));
    int16x8_t hi = vcombine_s16(vqmovn_s32(c), vqmovn_s32(d));
    return vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi));
}

/* One fp16 scale -> float with the hardware conversion (FCVT / VCVTB, exact, IEEE subnormals):
 * the scalar helper in blocks.h is portable but branchy, and runs once per block here. */
static inline float ea_h2f(ea_fp16 h) {
#if defined(EA_A64) || defined(__ARM_FP16_FORMAT_IEEE)
    __fp16 f;
    memcpy(&f, &h, sizeof(f));
    return (float)f;
#else
    return ea_fp16_to_f32(h);
#endif
}

/* 4 fp16 bits -> 4 floats. Exact: every binary16 value is a binary32 value. (ARMv7 NEON flushes
 * subnormal fp16 inputs of vcvt; weights that small do not occur in practice, and the ARMv7
 * kernels that care convert with the scalar helper instead.) */
static inline float32x4_t ea_f16x4_to_f32(const ea_fp16 *p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

/* Element j < 16 of a 5-bit block gets bit j of the 32-bit qh as 0x10: 16 bytes of 0x10 or 0. */
static inline uint8x16_t ea_qh_bits16(uint16_t bits) {
    static const uint8_t k_bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t b = vcombine_u8(vdup_n_u8((uint8_t)(bits & 0xff)), vdup_n_u8((uint8_t)(bits >> 8)));
    return vandq_u8(vtstq_u8(b, vld1q_u8(k_bit)), vdupq_n_u8(0x10));
}

#endif /* EDGEAI_ARM_NEON_UTIL_H */
