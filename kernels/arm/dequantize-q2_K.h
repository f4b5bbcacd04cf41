/* Body of ea_dequantize_q2_K__{neon,armv7neon} (EA_FN named by the including file):
 * x = (d * sc) * q - dmin * m per sub-block of 16 (4-bit sc and m in scales[]), rounded as in
 * the ref; bit-exact. Element e = 128 g + 32 t + l: bits 2t, 2t + 1 of qs[32 g + l].
 * ref: GGUF spec, block_q2_K */
#include "dequant_util.h"

void EA_FN(const void *vx, float *y, int64_t k) {
    const block_q2_K *x = (const block_q2_K *)vx;
    for (int64_t b = 0; b < k / QK_K; b++, y += QK_K) {
        const float d = ea_h2f(x[b].d), dmin = ea_h2f(x[b].dmin);
        for (int g = 0; g < 2; g++)
            for (int l = 0; l < 32; l += 16) {
                const uint8x16_t qs = vld1q_u8(x[b].qs + 32 * g + l);
                for (int t = 0; t < 4; t++) {
                    const int e0 = 128 * g + 32 * t + l;
                    const uint8_t s = x[b].scales[e0 / 16];
                    const uint8x16_t q = vandq_u8(vshlq_u8(qs, vdupq_n_s8((int8_t)(-2 * t))), vdupq_n_u8(3));
                    ea_store_scaled16_sub(y + e0, vreinterpretq_s8_u8(q), d * (float)(s & 0x0f), dmin * (float)(s >> 4));
                }
            }
    }
}
