/* Body of ea_dot_bf16_f32__{neon,armv7neon} (EA_FN named by the including file).
 * bf16 -> f32 is the 16 bits moved to the top of the word (VSHLL #16): exact. Then float FMA,
 * 16 elements per step, four accumulators; scalar tail. */
#include "neon_util.h"

static inline float32x4_t bf16x4(const ea_bf16 *p) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16)); }

void EA_FN(int64_t k, float *s, const void *vw, const void *va) {
    const ea_bf16 *w = (const ea_bf16 *)vw;
    const float *a = (const float *)va;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 16 <= k; i += 16) {
        acc0 = ea_fma_f32(acc0, bf16x4(w + i), vld1q_f32(a + i));
        acc1 = ea_fma_f32(acc1, bf16x4(w + i + 4), vld1q_f32(a + i + 4));
        acc2 = ea_fma_f32(acc2, bf16x4(w + i + 8), vld1q_f32(a + i + 8));
        acc3 = ea_fma_f32(acc3, bf16x4(w + i + 12), vld1q_f32(a + i + 12));
    }
    for (; i + 4 <= k; i += 4) acc0 = ea_fma_f32(acc0, bf16x4(w + i), vld1q_f32(a + i));
    float sum = ea_hadd_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
    for (; i < k; i++) sum += ea_bf16_to_f32(w[i]) * a[i];
    *s = sum;
}
