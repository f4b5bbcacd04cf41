/* Q4_0 weights . Q8_0 activations: per block sum((q - 8) * a) exactly in int32, times d_w * d_a. */
#include "../blocks.h"

void ea_dot_q4_0_q8_0__ref(int64_t k, float *s, const void *vw, const void *va) {
    const block_q4_0 *w = (const block_q4_0 *)vw;
    const block_q8_0 *a = (const block_q8_0 *)va;
    float sum = 0.0f;
    for (int64_t b = 0; b < k / QK4_0; b++) {
        int32_t isum = 0;
        for (int i = 0; i < QK4_0 / 2; i++) {
            isum += ((w[b].qs[i] & 0x0f) - 8) * a[b].qs[i];
            isum += ((w[b].qs[i] >> 4) - 8) * a[b].qs[i + QK4_0 / 2];
        }
        sum += (float)isum * (ea_fp16_to_f32(w[b].d) * ea_fp16_to_f32(a[b].d));
    }
    *s = sum;
}
