/* Body of ea_dot_q5_0_q8_0__{neon,neondot,armv7neon} (EA_FN named by the including file).
 * Q5_0: low 4 bits as Q4_0, bit 4 of element j is bit j of qh (little-endian uint32); value
 * (q - 16) * d, q - 16 in [-16, 15]. ref: ggml-common.h block_q5_0 */
#include "neon_util.h"

static inline int32x4_t q5_0_block(const block_q5_0 *w, const block_q8_0 *a) {
    uint32_t qh;
    memcpy(&qh, w->qh, 4);
    const uint8x16_t q = vld1q_u8(w->qs);
    const uint8x16_t lo = vorrq_u8(vandq_u8(q, vdupq_n_u8(0x0f)), ea_qh_bits16((uint16_t)qh));
    const uint8x16_t hi = vorrq_u8(vshrq_n_u8(q, 4), ea_qh_bits16((uint16_t)(qh >> 16)));
    const int8x16_t l = vsubq_s8(vreinterpretq_s8_u8(lo), vdupq_n_s8(16));
    const int8x16_t h = vsubq_s8(vreinterpretq_s8_u8(hi), vdupq_n_s8(16));
    return ea_dot_s8x2_small(vdupq_n_s32(0), l, vld1q_s8(a->qs), h, vld1q_s8(a->qs + 16));
}

void EA_FN(int64_t k, float *s, const void *vw, const void *va) {
    const block_q5_0 *w = (const block_q5_0 *)vw;
    const block_q8_0 *a = (const block_q8_0 *)va;
    const int64_t nb = k / QK5_0;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        int32x4_t p0 = q5_0_block(&w[b], &a[b]);
        int32x4_t p1 = q5_0_block(&w[b + 1], &a[b + 1]);
        acc0 = ea_fma_f32(acc0, vcvtq_f32_s32(p0), vdupq_n_f32(ea_h2f(w[b].d) * ea_h2f(a[b].d)));
        acc1 = ea_fma_f32(acc1, vcvtq_f32_s32(p1), vdupq_n_f32(ea_h2f(w[b + 1].d) * ea_h2f(a[b + 1].d)));
    }
    for (; b < nb; b++)
        acc0 = ea_fma_f32(acc0, vcvtq_f32_s32(q5_0_block(&w[b], &a[b])), vdupq_n_f32(ea_h2f(w[b].d) * ea_h2f(a[b].d)));
    *s = ea_hadd_f32(vaddq_f32(acc0, acc1));
}
