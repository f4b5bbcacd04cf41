/* Body of ea_dequantize_bf16__{neon,armv7neon} (EA_FN named by the including file): bf16 -> f32 is
 * the 16 bits moved to the top of the word (VSHLL #16), exact; 8 per step, scalar tail. */
#include "neon_util.h"

void EA_FN(const void *vx, float *y, int64_t k) {
    const ea_bf16 *x = (const ea_bf16 *)vx;
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) {
        const uint16x8_t v = vld1q_u16(x + i);
        vst1q_f32(y + i, vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(v), 16)));
        vst1q_f32(y + i + 4, vreinterpretq_f32_u32(vshll_n_u16(vget_high_u16(v), 16)));
    }
    for (; i < k; i++) y[i] = ea_bf16_to_f32(x[i]);
}
