/* Q8_0 weights . Q8_0 activations: per block an exact int32 sum, scaled by d_w * d_a. */
#include "../blocks.h"

void ea_dot_q8_0_q8_0__ref(int64_t k, float *s, const void *vw, const void *va) {
    const block_q8_0 *w = (const block_q8_0 *)vw;
    const block_q8_0 *a = (const block_q8_0 *)va;
    float sum = 0.0f;
    for (int64_t b = 0; b < k / QK8_0; b++) {
        int32_t isum = 0;
        for (int i = 0; i < QK8_0; i++) isum += (int32_t)w[b].qs[i] * (int32_t)a[b].qs[i];
        sum += (float)isum * (ea_fp16_to_f32(w[b].d) * ea_fp16_to_f32(a[b].d));
    }
    *s = sum;
}
