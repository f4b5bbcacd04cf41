/* Body of ea_dot_f16_f32__{neon,neondot,armv7neon} (EA_FN named by the including file).
 * fp16 weights are widened to float (FCVTL: exact) and multiplied with the f32 activations in
 * float FMA: the activations stay full precision, and the widening is free next to the weight
 * load this memory-bound GEMV waits on. 16 elements per step, four accumulators; scalar tail. */
#include "neon_util.h"

void EA_FN(int64_t k, float *s, const void *vw, const void *va) {
    const ea_fp16 *w = (const ea_fp16 *)vw;
    const float *a = (const float *)va;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 16 <= k; i += 16) {
        acc0 = ea_fma_f32(acc0, ea_f16x4_to_f32(w + i), vld1q_f32(a + i));
        acc1 = ea_fma_f32(acc1, ea_f16x4_to_f32(w + i + 4), vld1q_f32(a + i + 4));
        acc2 = ea_fma_f32(acc2, ea_f16x4_to_f32(w + i + 8), vld1q_f32(a + i + 8));
        acc3 = ea_fma_f32(acc3, ea_f16x4_to_f32(w + i + 12), vld1q_f32(a + i + 12));
    }
    for (; i + 4 <= k; i += 4) acc0 = ea_fma_f32(acc0, ea_f16x4_to_f32(w + i), vld1q_f32(a + i));
    float sum = ea_hadd_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
    for (; i < k; i++) sum += ea_h2f(w[i]) * a[i];
    *s = sum;
}
