/* Body of ea_quantize_bf16__{neon,armv7neon} (EA_FN named by the including file): float32 -> bf16
 * bits in integer lanes, the ref's rounding exactly: round to nearest even by adding
 * 0x7fff + (bit 16) and keeping the top half; NaN kept quiet ((x >> 16) | 0x40). 8 per step,
 * scalar tail. ref: blocks.h ea_f32_to_bf16 */
#include "neon_util.h"

static inline uint16x4_t ea_bf16x4(float32x4_t f) {
    const uint32x4_t x = vreinterpretq_u32_f32(f);
    const uint32x4_t nan = vcgtq_u32(vandq_u32(x, vdupq_n_u32(0x7fffffffu)), vdupq_n_u32(0x7f800000u));
    const uint32x4_t bias = vaddq_u32(vdupq_n_u32(0x7fffu), vandq_u32(vshrq_n_u32(x, 16), vdupq_n_u32(1)));
    const uint32x4_t rounded = vshrq_n_u32(vaddq_u32(x, bias), 16);
    const uint32x4_t quiet = vorrq_u32(vshrq_n_u32(x, 16), vdupq_n_u32(64));
    return vmovn_u32(vbslq_u32(nan, quiet, rounded));
}

void EA_FN(const float *x, void *vy, int64_t k) {
    ea_bf16 *y = (ea_bf16 *)vy;
    int64_t i = 0;
    for (; i + 8 <= k; i += 8)
        vst1q_u16(y + i, vcombine_u16(ea_bf16x4(vld1q_f32(x + i)), ea_bf16x4(vld1q_f32(x + i + 4))));
    for (; i < k; i++) y[i] = ea_f32_to_bf16(x[i]);
}
