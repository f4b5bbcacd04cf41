/* Q4_1 -> float32: x = q * d + m. */
#include "../blocks.h"

void ea_dequantize_q4_1__ref(const void *vx, float *y, int64_t k) {
    const block_q4_1 *x = (const block_q4_1 *)vx;
    for (int64_t b = 0; b < k / QK4_1; b++, y += QK4_1) {
        const float d = ea_fp16_to_f32(x[b].d), m = ea_fp16_to_f32(x[b].m);
        for (int i = 0; i < QK4_1 / 2; i++) {
            y[i] = (float)(x[b].qs[i] & 0x0f) * d + m;
            y[i + QK4_1 / 2] = (float)(x[b].qs[i] >> 4) * d + m;
        }
    }
}
