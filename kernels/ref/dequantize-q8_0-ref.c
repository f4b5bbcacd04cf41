/* Q8_0 -> float32: x = q * d. ref: ggml-common.h block_q8_0 */
#include "../blocks.h"

void ea_dequantize_q8_0__ref(const void *vx, float *y, int64_t k) {
    const block_q8_0 *x = (const block_q8_0 *)vx;
    for (int64_t b = 0; b < k / QK8_0; b++) {
        const float d = ea_fp16_to_f32(x[b].d);
        for (int i = 0; i < QK8_0; i++) y[b * QK8_0 + i] = (float)x[b].qs[i] * d;
    }
}
