/* Q4_1 weights . Q8_1 activations: sum((q*d_w + m) * a*d_a) = d_w*d_a*sum(q*a) + m * (d_a*sum(a)),
 * the last factor being the activation block's precomputed s. */
#include "../blocks.h"

void ea_dot_q4_1_q8_1__ref(int64_t k, float *s, const void *vw, const void *va) {
    const block_q4_1 *w = (const block_q4_1 *)vw;
    const block_q8_1 *a = (const block_q8_1 *)va;
    float sum = 0.0f;
    for (int64_t b = 0; b < k / QK4_1; b++) {
        int32_t isum = 0;
        for (int i = 0; i < QK4_1 / 2; i++) {
            isum += (w[b].qs[i] & 0x0f) * a[b].qs[i];
            isum += (w[b].qs[i] >> 4) * a[b].qs[i + QK4_1 / 2];
        }
        sum += (float)isum * (ea_fp16_to_f32(w[b].d) * ea_fp16_to_f32(a[b].d))
             + ea_fp16_to_f32(w[b].m) * ea_fp16_to_f32(a[b].s);
    }
    *s = sum;
}
