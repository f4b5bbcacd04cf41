/* float32 -> Q4_0, bit-exact with gguf-py's Q4_0.quantize (and ggml's quantize_row_q4_0_ref):
 * d = (the signed value of largest magnitude) / -8, q = min(15, trunc(x / d + 8.5)).
 * ref: ggml-common.h block_q4_0 */
#include <math.h>
#include "../blocks.h"

void ea_quantize_q4_0__ref(const float *x, void *vy, int64_t k) {
    block_q4_0 *y = (block_q4_0 *)vy;
    for (int64_t b = 0; b < k / QK4_0; b++) {
        const float *xb = x + b * QK4_0;
        float amax = fabsf(xb[0]), max = xb[0];
        for (int i = 1; i < QK4_0; i++)
            if (fabsf(xb[i]) > amax) { /* first index of the largest |x|, as numpy argmax */
                amax = fabsf(xb[i]);
                max = xb[i];
            }
        const float d = max / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = ea_f32_to_fp16(d);
        for (int i = 0; i < QK4_0 / 2; i++) {
            int q0 = (int)truncf(xb[i] * id + 8.5f);
            int q1 = (int)truncf(xb[i + QK4_0 / 2] * id + 8.5f);
            q0 = q0 > 15 ? 15 : q0;
            q1 = q1 > 15 ? 15 : q1;
            y[b].qs[i] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}
