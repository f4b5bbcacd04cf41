/* Body of ea_dot_q8_0_q8_0__{neon,neondot,armv7neon}: the including file names the function
 * (EA_FN) after its ISA guard. Per 32-element block: an exact int32 sum of 32 int8 x int8
 * products (ea_dot_s8), scaled by d_w * d_a into float lanes. Two blocks per step, two
 * accumulators, so the loads of the next block overlap the multiply of this one.
 * ref: ggml-common.h block_q8_0; kernels/ref/dot-q8_0-q8_0-ref.c */
#include "neon_util.h"

void EA_FN(int64_t k, float *s, const void *vw, const void *va) {
    const block_q8_0 *w = (const block_q8_0 *)vw;
    const block_q8_0 *a = (const block_q8_0 *)va;
    const int64_t nb = k / QK8_0;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        const block_q8_0 *w0 = &w[b], *w1 = &w[b + 1], *a0 = &a[b], *a1 = &a[b + 1];
        int32x4_t p0 = ea_dot_s8(vdupq_n_s32(0), vld1q_s8(w0->qs), vld1q_s8(a0->qs));
        int32x4_t p1 = ea_dot_s8(vdupq_n_s32(0), vld1q_s8(w1->qs), vld1q_s8(a1->qs));
        p0 = ea_dot_s8(p0, vld1q_s8(w0->qs + 16), vld1q_s8(a0->qs + 16));
        p1 = ea_dot_s8(p1, vld1q_s8(w1->qs + 16), vld1q_s8(a1->qs + 16));
        acc0 = ea_fma_f32(acc0, vcvtq_f32_s32(p0), vdupq_n_f32(ea_h2f(w0->d) * ea_h2f(a0->d)));
        acc1 = ea_fma_f32(acc1, vcvtq_f32_s32(p1), vdupq_n_f32(ea_h2f(w1->d) * ea_h2f(a1->d)));
    }
    for (; b < nb; b++) {
        int32x4_t p = ea_dot_s8(vdupq_n_s32(0), vld1q_s8(w[b].qs), vld1q_s8(a[b].qs));
        p = ea_dot_s8(p, vld1q_s8(w[b].qs + 16), vld1q_s8(a[b].qs + 16));
        acc0 = ea_fma_f32(acc0, vcvtq_f32_s32(p), vdupq_n_f32(ea_h2f(w[b].d) * ea_h2f(a[b].d)));
    }
    *s = ea_hadd_f32(vaddq_f32(acc0, acc1));
}
