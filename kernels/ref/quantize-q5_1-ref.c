/* float32 -> Q5_1, bit-exact with gguf-py's Q5_1.quantize: d = (max - min) / 31, m = min,
 * q = min(31, trunc((x - min) / d + 0.5)). ref: ggml-common.h block_q5_1 */
#include <math.h>
#include "../blocks.h"

void ea_quantize_q5_1__ref(const float *x, void *vy, int64_t k) {
    block_q5_1 *y = (block_q5_1 *)vy;
    for (int64_t b = 0; b < k / QK5_1; b++) {
        const float *xb = x + b * QK5_1;
        float min = xb[0], max = xb[0];
        for (int i = 1; i < QK5_1; i++) {
            min = xb[i] < min ? xb[i] : min;
            max = xb[i] > max ? xb[i] : max;
        }
        const float d = (max - min) / 31.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = ea_f32_to_fp16(d);
        y[b].m = ea_f32_to_fp16(min);
        uint32_t qh = 0;
        for (int i = 0; i < QK5_1 / 2; i++) {
            int q0 = (int)truncf((xb[i] - min) * id + 0.5f);
            int q1 = (int)truncf((xb[i + QK5_1 / 2] - min) * id + 0.5f);
            q0 = q0 > 31 ? 31 : q0;
            q1 = q1 > 31 ? 31 : q1;
            y[b].qs[i] = (uint8_t)((q0 & 0x0f) | ((q1 & 0x0f) << 4));
            qh |= (uint32_t)(q0 >> 4) << i;
            qh |= (uint32_t)(q1 >> 4) << (i + QK5_1 / 2);
        }
        memcpy(y[b].qh, &qh, 4);
    }
}
