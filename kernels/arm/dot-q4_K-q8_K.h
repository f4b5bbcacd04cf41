/* Body of ea_dot_q4_K_q8_K__{neon,neondot,armv7neon} (EA_FN named by the including file).
 * Q4_K super-block (256): 8 sub-blocks of 32 with 6-bit scale sc and min m; value
 * d * sc * q - dmin * m, q a nibble. Bytes qs[32c .. 32c+31] hold sub-block 2c in their low
 * nibbles and 2c + 1 in their high ones. Against Q8_K (d_a, qs, bsums):
 *   sum = d_a * (d * sum_j sc_j * (q_j . a_j) - dmin * sum_j m_j * sum(a_j)),
 * sum(a_j) from two bsums. Per sub-block one exact int32x4 dot, scaled by sc_j in integer lanes.
 * ref: GGUF spec, block_q4_K */
#include "kquant_util.h"
#include "neon_util.h"

void EA_FN(int64_t k, float *s, const void *vw, const void *va) {
    const block_q4_K *w = (const block_q4_K *)vw;
    const block_q8_K *a = (const block_q8_K *)va;
    float sum = 0.0f;
    for (int64_t b = 0; b < k / QK_K; b++) {
        uint8_t sc[8], mn[8];
        ea_unpack_scales_k4(w[b].scales, sc, mn);
        /* mins: sum_j m_j * (bsums[2j] + bsums[2j+1]), 16 int16 pairs */
        const int16x8_t bs = ea_padd_s16(vld1q_s16(a[b].bsums), vld1q_s16(a[b].bsums + 8));
        const int32_t summ = ea_dot_s16x8(vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mn))), bs);
        const uint8_t *q = w[b].qs;
        const int8_t *y = a[b].qs;
        int32x4_t acc = vdupq_n_s32(0);
        for (int c = 0; c < 4; c++, q += 32, y += 64) {
            const uint8x16_t q0 = vld1q_u8(q), q1 = vld1q_u8(q + 16);
            const int8x16_t l0 = vreinterpretq_s8_u8(vandq_u8(q0, vdupq_n_u8(0x0f)));
            const int8x16_t l1 = vreinterpretq_s8_u8(vandq_u8(q1, vdupq_n_u8(0x0f)));
            const int8x16_t h0 = vreinterpretq_s8_u8(vshrq_n_u8(q0, 4));
            const int8x16_t h1 = vreinterpretq_s8_u8(vshrq_n_u8(q1, 4));
            int32x4_t pl = ea_dot_s8x2_small(vdupq_n_s32(0), l0, vld1q_s8(y), l1, vld1q_s8(y + 16));
            int32x4_t ph = ea_dot_s8x2_small(vdupq_n_s32(0), h0, vld1q_s8(y + 32), h1, vld1q_s8(y + 48));
            acc = vmlaq_n_s32(acc, pl, sc[2 * c]);
            acc = vmlaq_n_s32(acc, ph, sc[2 * c + 1]);
        }
        const float d = a[b].d * ea_h2f(w[b].d), dmin = a[b].d * ea_h2f(w[b].dmin);
        sum += d * (float)ea_hadd_s32(acc) - dmin * (float)summ;
    }
    *s = sum;
}
