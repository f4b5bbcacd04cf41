/* float32 -> Q8_1 (the activation format of q4_1 / q5_1 weights): Q8_0's d and qs, plus
 * s = d * sum(qs) so the dot kernels get the weights' offset term for free.
 * ref: ggml-common.h block_q8_1 */
#include <math.h>
#include "../blocks.h"

void ea_quantize_q8_1__ref(const float *x, void *vy, int64_t k) {
    block_q8_1 *y = (block_q8_1 *)vy;
    for (int64_t b = 0; b < k / QK8_1; b++) {
        const float *xb = x + b * QK8_1;
        float amax = 0.0f;
        for (int i = 0; i < QK8_1; i++) amax = fmaxf(amax, fabsf(xb[i]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        int32_t sum = 0;
        for (int i = 0; i < QK8_1; i++) {
            y[b].qs[i] = (int8_t)roundf(xb[i] * id);
            sum += y[b].qs[i];
        }
        y[b].d = ea_f32_to_fp16(d);
        y[b].s = ea_f32_to_fp16((float)sum * d);
    }
}
