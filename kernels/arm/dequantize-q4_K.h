/* Body of ea_dequantize_q4_K__{neon,armv7neon} (EA_FN named by the including file):
 * x = (d * sc) * q - dmin * m per sub-block of 32, each product and the difference rounded
 * separately as in the ref; bit-exact. Bytes qs[32c .. 32c+31] hold sub-block 2c in their low
 * nibbles, 2c + 1 in their high ones. ref: GGUF spec, block_q4_K */
#include "dequant_util.h"
#include "kquant_util.h"

void EA_FN(const void *vx, float *y, int64_t k) {
    const block_q4_K *x = (const block_q4_K *)vx;
    for (int64_t b = 0; b < k / QK_K; b++, y += QK_K) {
        uint8_t sc[8], mn[8];
        ea_unpack_scales_k4(x[b].scales, sc, mn);
        const float d = ea_h2f(x[b].d), dmin = ea_h2f(x[b].dmin);
        for (int c = 0; c < 4; c++) {
            const uint8x16_t q0 = vld1q_u8(x[b].qs + 32 * c), q1 = vld1q_u8(x[b].qs + 32 * c + 16);
            const float d0 = d * (float)sc[2 * c], m0 = dmin * (float)mn[2 * c];
            const float d1 = d * (float)sc[2 * c + 1], m1 = dmin * (float)mn[2 * c + 1];
            float *o = y + 64 * c;
            ea_store_scaled16_sub(o, vreinterpretq_s8_u8(vandq_u8(q0, vdupq_n_u8(0x0f))), d0, m0);
            ea_store_scaled16_sub(o + 16, vreinterpretq_s8_u8(vandq_u8(q1, vdupq_n_u8(0x0f))), d0, m0);
            ea_store_scaled16_sub(o + 32, vreinterpretq_s8_u8(vshrq_n_u8(q0, 4)), d1, m1);
            ea_store_scaled16_sub(o + 48, vreinterpretq_s8_u8(vshrq_n_u8(q1, 4)), d1, m1);
        }
    }
}
