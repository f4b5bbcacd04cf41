/* Body of ea_dot_q4_0_q8_0__{neon,neondot,armv7neon} (EA_FN named by the including file).
 * Q4_0: 16 bytes hold 32 nibbles; element j is the low nibble of qs[j], element j + 16 the high
 * one; value (q - 8) * d. Per block: unpack to two int8x16 in [-8, 7], an exact int32 dot with
 * the 32 Q8_0 activations, scaled by d_w * d_a. Two blocks per step.
 * ref: ggml-common.h block_q4_0 */
#include "neon_util.h"

static inline int32x4_t q4_0_block(const block_q4_0 *w, const block_q8_0 *a) {
    const uint8x16_t q = vld1q_u8(w->qs);
    const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0f))), vdupq_n_s8(8));
    const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), vdupq_n_s8(8));
    return ea_dot_s8x2_small(vdupq_n_s32(0), lo, vld1q_s8(a->qs), hi, vld1q_s8(a->qs + 16));
}

void EA_FN(int64_t k, float *s, const void *vw, const void *va) {
    const block_q4_0 *w = (const block_q4_0 *)vw;
    const block_q8_0 *a = (const block_q8_0 *)va;
    const int64_t nb = k / QK4_0;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        int32x4_t p0 = q4_0_block(&w[b], &a[b]);
        int32x4_t p1 = q4_0_block(&w[b + 1], &a[b + 1]);
        acc0 = ea_fma_f32(acc0, vcvtq_f32_s32(p0), vdupq_n_f32(ea_h2f(w[b].d) * ea_h2f(a[b].d)));
        acc1 = ea_fma_f32(acc1, vcvtq_f32_s32(p1), vdupq_n_f32(ea_h2f(w[b + 1].d) * ea_h2f(a[b + 1].d)));
    }
    for (; b < nb; b++)
        acc0 = ea_fma_f32(acc0, vcvtq_f32_s32(q4_0_block(&w[b], &a[b])), vdupq_n_f32(ea_h2f(w[b].d) * ea_h2f(a[b].d)));
    *s = ea_hadd_f32(vaddq_f32(acc0, acc1));
}
