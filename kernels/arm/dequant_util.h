/* Shared step of the ARM dequantizers: 16 int8 values times a scale (plus an offset) into 16
 * floats. The product and the sum are rounded separately (no FMA), as the reference and gguf's
 * numpy dequantize do, so the output is bit-exact. */
#ifndef EDGEAI_ARM_DEQUANT_UTIL_H
#define EDGEAI_ARM_DEQUANT_UTIL_H

#include "neon_util.h"

static inline void ea_store_scaled16(float *y, int8x16_t q, float d) {
    const int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_s8(vget_high_s8(q));
    vst1q_f32(y, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), d));
    vst1q_f32(y + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo))), d));
    vst1q_f32(y + 8, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), d));
    vst1q_f32(y + 12, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi))), d));
}

static inline void ea_store_scaled16_min(float *y, int8x16_t q, float d, float m) {
    const int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_s8(vget_high_s8(q));
    const float32x4_t vm = vdupq_n_f32(m);
    vst1q_f32(y, vaddq_f32(vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), d), vm));
    vst1q_f32(y + 4, vaddq_f32(vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo))), d), vm));
    vst1q_f32(y + 8, vaddq_f32(vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), d), vm));
    vst1q_f32(y + 12, vaddq_f32(vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi))), d), vm));
}

/* 16 values q * d - m (the K-quants' d * sc * q - dmin * m, with d = d * sc and m = dmin * mn
 * rounded as the ref rounds them). */
static inline void ea_store_scaled16_sub(float *y, int8x16_t q, float d, float m) {
    const int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_s8(vget_high_s8(q));
    const float32x4_t vm = vdupq_n_f32(m);
    vst1q_f32(y, vsubq_f32(vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), d), vm));
    vst1q_f32(y + 4, vsubq_f32(vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo))), d), vm));
    vst1q_f32(y + 8, vsubq_f32(vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), d), vm));
    vst1q_f32(y + 12, vsubq_f32(vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi))), d), vm));
}

#endif
