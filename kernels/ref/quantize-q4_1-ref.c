/* float32 -> Q4_1, bit-exact with gguf-py's Q4_1.quantize: d = (max - min) / 15, m = min,
 * q = min(15, trunc((x - min) / d + 0.5)). ref: ggml-common.h block_q4_1 */
#include <math.h>
#include "../blocks.h"

void ea_quantize_q4_1__ref(const float *x, void *vy, int64_t k) {
    block_q4_1 *y = (block_q4_1 *)vy;
    for (int64_t b = 0; b < k / QK4_1; b++) {
        const float *xb = x + b * QK4_1;
        float min = xb[0], max = xb[0];
        for (int i = 1; i < QK4_1; i++) {
            min = xb[i] < min ? xb[i] : min;
            max = xb[i] > max ? xb[i] : max;
        }
        const float d = (max - min) / 15.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = ea_f32_to_fp16(d);
        y[b].m = ea_f32_to_fp16(min);
        for (int i = 0; i < QK4_1 / 2; i++) {
            int q0 = (int)truncf((xb[i] - min) * id + 0.5f);
            int q1 = (int)truncf((xb[i + QK4_1 / 2] - min) * id + 0.5f);
            q0 = q0 > 15 ? 15 : q0;
            q1 = q1 > 15 ? 15 : q1;
            y[b].qs[i] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}
