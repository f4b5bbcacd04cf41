/* Body of ea_dot_q4_1_q8_1__{neon,neondot,armv7neon} (EA_FN named by the including file).
 * Q4_1: value q * d + m with q in [0, 15] (nibbles as in Q4_0). Against Q8_1 (d_a, s_a = d_a *
 * sum(qs_a)): sum_j (q_j d + m) a_j d_a = d d_a sum_j q_j a_j + m s_a, so per block one exact
 * int32 dot plus one scalar term. ref: ggml-common.h block_q4_1, block_q8_1 */
#include "neon_util.h"

static inline int32x4_t q4_1_block(const block_q4_1 *w, const block_q8_1 *a) {
    const uint8x16_t q = vld1q_u8(w->qs);
    const int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0f)));
    const int8x16_t hi = vreinterpretq_s8_u8(vshrq_n_u8(q, 4));
    return ea_dot_s8x2_small(vdupq_n_s32(0), lo, vld1q_s8(a->qs), hi, vld1q_s8(a->qs + 16));
}

void EA_FN(int64_t k, float *s, const void *vw, const void *va) {
    const block_q4_1 *w = (const block_q4_1 *)vw;
    const block_q8_1 *a = (const block_q8_1 *)va;
    const int64_t nb = k / QK4_1;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
    float summs = 0.0f;
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        int32x4_t p0 = q4_1_block(&w[b], &a[b]);
        int32x4_t p1 = q4_1_block(&w[b + 1], &a[b + 1]);
        summs += ea_h2f(w[b].m) * ea_h2f(a[b].s) + ea_h2f(w[b + 1].m) * ea_h2f(a[b + 1].s);
        acc0 = ea_fma_f32(acc0, vcvtq_f32_s32(p0), vdupq_n_f32(ea_h2f(w[b].d) * ea_h2f(a[b].d)));
        acc1 = ea_fma_f32(acc1, vcvtq_f32_s32(p1), vdupq_n_f32(ea_h2f(w[b + 1].d) * ea_h2f(a[b + 1].d)));
    }
    for (; b < nb; b++) {
        summs += ea_h2f(w[b].m) * ea_h2f(a[b].s);
        acc0 = ea_fma_f32(acc0, vcvtq_f32_s32(q4_1_block(&w[b], &a[b])), vdupq_n_f32(ea_h2f(w[b].d) * ea_h2f(a[b].d)));
    }
    *s = ea_hadd_f32(vaddq_f32(acc0, acc1)) + summs;
}
