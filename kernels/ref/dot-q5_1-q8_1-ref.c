/* Q5_1 weights . Q8_1 activations: d_w*d_a*sum(q*a) + m * s_a (s_a = d_a * sum(a)). */
#include "../blocks.h"

void ea_dot_q5_1_q8_1__ref(int64_t k, float *s, const void *vw, const void *va) {
    const block_q5_1 *w = (const block_q5_1 *)vw;
    const block_q8_1 *a = (const block_q8_1 *)va;
    float sum = 0.0f;
    for (int64_t b = 0; b < k / QK5_1; b++) {
        uint32_t qh;
        memcpy(&qh, w[b].qh, 4);
        int32_t isum = 0;
        for (int i = 0; i < QK5_1 / 2; i++) {
            const int q0 = (w[b].qs[i] & 0x0f) | (int)(((qh >> i) & 1u) << 4);
            const int q1 = (w[b].qs[i] >> 4) | (int)(((qh >> (i + QK5_1 / 2)) & 1u) << 4);
            isum += q0 * a[b].qs[i] + q1 * a[b].qs[i + QK5_1 / 2];
        }
        sum += (float)isum * (ea_fp16_to_f32(w[b].d) * ea_fp16_to_f32(a[b].d))
             + ea_fp16_to_f32(w[b].m) * ea_fp16_to_f32(a[b].s);
    }
    *s = sum;
}
