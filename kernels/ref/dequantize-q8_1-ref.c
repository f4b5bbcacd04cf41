/* Q8_1 -> float32: x = q * d (s is derived data). */
#include "../blocks.h"

void ea_dequantize_q8_1__ref(const void *vx, float *y, int64_t k) {
    const block_q8_1 *x = (const block_q8_1 *)vx;
    for (int64_t b = 0; b < k / QK8_1; b++) {
        const float d = ea_fp16_to_f32(x[b].d);
        for (int i = 0; i < QK8_1; i++) y[b * QK8_1 + i] = (float)x[b].qs[i] * d;
    }
}
