/* Body of ea_dot_q3_K_q8_K__{neon,neondot,armv7neon} (EA_FN named by the including file).
 * Q3_K: 16 sub-blocks of 16 with 6-bit scales stored plus 32; value d * (sc - 32) * q with
 * q = (2 low bits, laid out as in Q2_K) - (4 unless the element's hmask bit is set), in [-4, 3].
 * The hmask bit of element 128h + 32s + l is bit 4h + s of hmask[l].
 * sum = d_a * d * sum_j (sc_j - 32) (q_j . a_j). ref: GGUF spec, block_q3_K */
#include "kquant_util.h"
#include "neon_util.h"

void EA_FN(int64_t k, float *s, const void *vw, const void *va) {
    const block_q3_K *w = (const block_q3_K *)vw;
    const block_q8_K *a = (const block_q8_K *)va;
    const uint8x16_t m3 = vdupq_n_u8(3), four = vdupq_n_u8(4);
    float sum = 0.0f;
    for (int64_t b = 0; b < k / QK_K; b++) {
        int8_t sc[16];
        ea_unpack_scales_q3(w[b].scales, sc);
        const uint8x16_t hm0 = vld1q_u8(w[b].hmask), hm1 = vld1q_u8(w[b].hmask + 16);
        const int8_t *y = a[b].qs;
        int32x4_t acc = vdupq_n_s32(0);
        for (int h = 0; h < 2; h++) {
            uint8x16_t q0 = vld1q_u8(w[b].qs + 32 * h), q1 = vld1q_u8(w[b].qs + 32 * h + 16);
            for (int t = 0; t < 4; t++, y += 32) {
                const uint8x16_t bit = vdupq_n_u8((uint8_t)(1u << (4 * h + t)));
                /* subtract 4 where the hmask bit is clear */
                const int8x16_t e0 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q0, m3)),
                                              vreinterpretq_s8_u8(vbicq_u8(four, vtstq_u8(hm0, bit))));
                const int8x16_t e1 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q1, m3)),
                                              vreinterpretq_s8_u8(vbicq_u8(four, vtstq_u8(hm1, bit))));
                q0 = vshrq_n_u8(q0, 2);
                q1 = vshrq_n_u8(q1, 2);
                const int j = 8 * h + 2 * t;
                acc = vmlaq_n_s32(acc, ea_dot_s8(vdupq_n_s32(0), e0, vld1q_s8(y)), sc[j]);
                acc = vmlaq_n_s32(acc, ea_dot_s8(vdupq_n_s32(0), e1, vld1q_s8(y + 16)), sc[j + 1]);
            }
        }
        sum += a[b].d * ea_h2f(w[b].d) * (float)ea_hadd_s32(acc);
    }
    *s = sum;
}
