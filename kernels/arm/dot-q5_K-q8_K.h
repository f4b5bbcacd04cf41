/* Body of ea_dot_q5_K_q8_K__{neon,neondot,armv7neon} (EA_FN named by the including file).
 * Q5_K: Q4_K's layout (8 sub-blocks of 32, 6-bit scales and mins, nibbles in qs) plus qh[32]:
 * bit 2c of qh[l] is the fifth bit of element l of sub-block 2c, bit 2c + 1 that of sub-block
 * 2c + 1. Value d * sc * (q + 16 h) - dmin * m, q + 16 h in [0, 31]. Sums as in Q4_K.
 * ref: GGUF spec, block_q5_K */
#include "kquant_util.h"
#include "neon_util.h"

void EA_FN(int64_t k, float *s, const void *vw, const void *va) {
    const block_q5_K *w = (const block_q5_K *)vw;
    const block_q8_K *a = (const block_q8_K *)va;
    float sum = 0.0f;
    for (int64_t b = 0; b < k / QK_K; b++) {
        uint8_t sc[8], mn[8];
        ea_unpack_scales_k4(w[b].scales, sc, mn);
        const int16x8_t bs = ea_padd_s16(vld1q_s16(a[b].bsums), vld1q_s16(a[b].bsums + 8));
        const int32_t summ = ea_dot_s16x8(vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mn))), bs);
        const uint8_t *q = w[b].qs;
        const int8_t *y = a[b].qs;
        /* qh0/qh1: the 32 high-bit bytes; shifted right by 2 each chunk so bits 0 and 1 are current */
        uint8x16_t qh0 = vld1q_u8(w[b].qh), qh1 = vld1q_u8(w[b].qh + 16);
        const uint8x16_t one = vdupq_n_u8(1), two = vdupq_n_u8(2), m4 = vdupq_n_u8(0x0f);
        int32x4_t acc = vdupq_n_s32(0);
        for (int c = 0; c < 4; c++, q += 32, y += 64) {
            const uint8x16_t q0 = vld1q_u8(q), q1 = vld1q_u8(q + 16);
            /* bit 0 -> 16, bit 1 -> 16 */
            const uint8x16_t hl0 = vshlq_n_u8(vandq_u8(qh0, one), 4), hl1 = vshlq_n_u8(vandq_u8(qh1, one), 4);
            const uint8x16_t hh0 = vshlq_n_u8(vandq_u8(qh0, two), 3), hh1 = vshlq_n_u8(vandq_u8(qh1, two), 3);
            qh0 = vshrq_n_u8(qh0, 2);
            qh1 = vshrq_n_u8(qh1, 2);
            const int8x16_t l0 = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q0, m4), hl0));
            const int8x16_t l1 = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q1, m4), hl1));
            const int8x16_t h0 = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q0, 4), hh0));
            const int8x16_t h1 = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q1, 4), hh1));
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
