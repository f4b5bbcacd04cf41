/* Body of ea_dot_q6_K_q8_K__{neon,neondot,armv7neon} (EA_FN named by the including file).
 * Q6_K: 16 sub-blocks of 16 with int8 scales; value d * sc * (q - 32), q 6 bits: 4 from ql, 2
 * from qh. Per 128-element half (ql += 64, qh += 32), for l < 32:
 *   element l      : ql[l] & 15       | (qh[l] >> 0 & 3) << 4
 *   element l + 32 : ql[l + 32] & 15  | (qh[l] >> 2 & 3) << 4
 *   element l + 64 : ql[l] >> 4       | (qh[l] >> 4 & 3) << 4
 *   element l + 96 : ql[l + 32] >> 4  | (qh[l] >> 6 & 3) << 4
 * and the scale of element e is sc[e / 16]. sum = d_a * d * sum_j sc_j * ((q - 32)_j . a_j).
 * ref: GGUF spec, block_q6_K */
#include "neon_util.h"

void EA_FN(int64_t k, float *s, const void *vw, const void *va) {
    const block_q6_K *w = (const block_q6_K *)vw;
    const block_q8_K *a = (const block_q8_K *)va;
    const uint8x16_t m4 = vdupq_n_u8(0x0f), m3 = vdupq_n_u8(0x30);
    const int8x16_t off = vdupq_n_s8(32);
    float sum = 0.0f;
    for (int64_t b = 0; b < k / QK_K; b++) {
        const uint8_t *ql = w[b].ql, *qh = w[b].qh;
        const int8_t *sc = w[b].scales, *y = a[b].qs;
        int32x4_t acc = vdupq_n_s32(0);
        for (int half = 0; half < 2; half++, ql += 64, qh += 32, sc += 8, y += 128) {
            for (int l = 0; l < 32; l += 16) {
                /* 16 elements of each of the four quarters; sub-block index (l / 16) + 2 * quarter */
                const uint8x16_t a0 = vld1q_u8(ql + l), a1 = vld1q_u8(ql + l + 32), h = vld1q_u8(qh + l);
                const int8x16_t e0 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(a0, m4), vandq_u8(vshlq_n_u8(h, 4), m3))), off);
                const int8x16_t e1 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(a1, m4), vandq_u8(vshlq_n_u8(h, 2), m3))), off);
                const int8x16_t e2 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(a0, 4), vandq_u8(h, m3))), off);
                const int8x16_t e3 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(a1, 4), vandq_u8(vshrq_n_u8(h, 2), m3))), off);
                const int is = l / 16;
                acc = vmlaq_n_s32(acc, ea_dot_s8(vdupq_n_s32(0), e0, vld1q_s8(y + l)), sc[is]);
                acc = vmlaq_n_s32(acc, ea_dot_s8(vdupq_n_s32(0), e1, vld1q_s8(y + l + 32)), sc[is + 2]);
                acc = vmlaq_n_s32(acc, ea_dot_s8(vdupq_n_s32(0), e2, vld1q_s8(y + l + 64)), sc[is + 4]);
                acc = vmlaq_n_s32(acc, ea_dot_s8(vdupq_n_s32(0), e3, vld1q_s8(y + l + 96)), sc[is + 6]);
            }
        }
        sum += a[b].d * ea_h2f(w[b].d) * (float)ea_hadd_s32(acc);
    }
    *s = sum;
}
