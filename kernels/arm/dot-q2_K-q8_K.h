/* Body of ea_dot_q2_K_q8_K__{neon,neondot,armv7neon} (EA_FN named by the including file).
 * Q2_K: 16 sub-blocks of 16; scales[j] holds a 4-bit scale (low) and 4-bit min (high); value
 * d * sc * q - dmin * m, q 2 bits. In each 128-element half, byte qs[32h + l] holds elements
 * 128h + 32s + l (bits 2s, 2s+1) for s = 0..3; element e belongs to sub-block e / 16.
 * sum = d_a * (d * sum_j sc_j (q_j . a_j) - dmin * sum_j m_j bsums_j).
 * ref: GGUF spec, block_q2_K */
#include "neon_util.h"

void EA_FN(int64_t k, float *s, const void *vw, const void *va) {
    const block_q2_K *w = (const block_q2_K *)vw;
    const block_q8_K *a = (const block_q8_K *)va;
    const uint8x16_t m3 = vdupq_n_u8(3);
    float sum = 0.0f;
    for (int64_t b = 0; b < k / QK_K; b++) {
        const uint8x16_t sc = vld1q_u8(w[b].scales);
        const int16x8_t mn0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(vshrq_n_u8(sc, 4))));
        const int16x8_t mn1 = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(vshrq_n_u8(sc, 4))));
        const int32_t summ = ea_dot_s16x8(mn0, vld1q_s16(a[b].bsums)) + ea_dot_s16x8(mn1, vld1q_s16(a[b].bsums + 8));
        uint8_t scl[16];
        vst1q_u8(scl, vandq_u8(sc, vdupq_n_u8(0x0f)));
        const int8_t *y = a[b].qs;
        int32x4_t acc = vdupq_n_s32(0);
        for (int h = 0; h < 2; h++) {
            uint8x16_t q0 = vld1q_u8(w[b].qs + 32 * h), q1 = vld1q_u8(w[b].qs + 32 * h + 16);
            for (int t = 0; t < 4; t++, y += 32) {
                const int8x16_t e0 = vreinterpretq_s8_u8(vandq_u8(q0, m3));
                const int8x16_t e1 = vreinterpretq_s8_u8(vandq_u8(q1, m3));
                q0 = vshrq_n_u8(q0, 2);
                q1 = vshrq_n_u8(q1, 2);
                const int j = 8 * h + 2 * t;
                acc = vmlaq_n_s32(acc, ea_dot_s8(vdupq_n_s32(0), e0, vld1q_s8(y)), scl[j]);
                acc = vmlaq_n_s32(acc, ea_dot_s8(vdupq_n_s32(0), e1, vld1q_s8(y + 16)), scl[j + 1]);
            }
        }
        const float d = a[b].d * ea_h2f(w[b].d), dmin = a[b].d * ea_h2f(w[b].dmin);
        sum += d * (float)ea_hadd_s32(acc) - dmin * (float)summ;
    }
    *s = sum;
}
