/* Body of ea_dequantize_q6_K__{neon,armv7neon} (EA_FN named by the including file):
 * x = (d * sc) * (q - 32) per sub-block of 16, rounded as in the ref; bit-exact. Element
 * e = 128 h + 32 t + l (l < 32): low nibble of ql[64 h + 32 (t & 1) + l] (the high one if t >= 2),
 * bits 2t, 2t + 1 of qh[32 h + l] on top. ref: GGUF spec, block_q6_K */
#include "dequant_util.h"

void EA_FN(const void *vx, float *y, int64_t k) {
    const block_q6_K *x = (const block_q6_K *)vx;
    for (int64_t b = 0; b < k / QK_K; b++, y += QK_K) {
        const float d = ea_h2f(x[b].d);
        for (int h = 0; h < 2; h++)
            for (int t = 0; t < 4; t++)
                for (int l = 0; l < 32; l += 16) {
                    const int e0 = 128 * h + 32 * t + l;
                    const uint8x16_t lo = vld1q_u8(x[b].ql + 64 * h + 32 * (t & 1) + l);
                    const uint8x16_t hb = vld1q_u8(x[b].qh + 32 * h + l);
                    const uint8x16_t nib = (t & 2) ? vshrq_n_u8(lo, 4) : vandq_u8(lo, vdupq_n_u8(0x0f));
                    /* bits 2t, 2t + 1 -> bits 4, 5 */
                    const uint8x16_t two = vandq_u8(vshlq_u8(hb, vdupq_n_s8((int8_t)(4 - 2 * t))), vdupq_n_u8(0x30));
                    const int8x16_t q = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(nib, two)), vdupq_n_s8(32));
                    ea_store_scaled16(y + e0, q, d * (float)x[b].scales[e0 / 16]);
                }
    }
}
