/* Body of ea_dot_f32_f32__{neon,armv7neon} (EA_FN named by the including file).
 * Four float32x4 accumulators (16 elements per step) hide the FMA latency; scalar tail.
 * The ref sums in double: the difference is float rounding, within the f32 tolerance. */
#include "neon_util.h"

void EA_FN(int64_t k, float *s, const void *vw, const void *va) {
    const float *w = (const float *)vw, *a = (const float *)va;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 16 <= k; i += 16) {
        acc0 = ea_fma_f32(acc0, vld1q_f32(w + i), vld1q_f32(a + i));
        acc1 = ea_fma_f32(acc1, vld1q_f32(w + i + 4), vld1q_f32(a + i + 4));
        acc2 = ea_fma_f32(acc2, vld1q_f32(w + i + 8), vld1q_f32(a + i + 8));
        acc3 = ea_fma_f32(acc3, vld1q_f32(w + i + 12), vld1q_f32(a + i + 12));
    }
    for (; i + 4 <= k; i += 4) acc0 = ea_fma_f32(acc0, vld1q_f32(w + i), vld1q_f32(a + i));
    float sum = ea_hadd_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
    for (; i < k; i++) sum += w[i] * a[i];
    *s = sum;
}
