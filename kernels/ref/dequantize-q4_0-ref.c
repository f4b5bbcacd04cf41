/* Q4_0 -> float32: x[j] = (lo nibble of qs[j] - 8) * d, x[j+16] = (hi nibble - 8) * d. */
#include "../blocks.h"

void ea_dequantize_q4_0__ref(const void *vx, float *y, int64_t k) {
    const block_q4_0 *x = (const block_q4_0 *)vx;
    for (int64_t b = 0; b < k / QK4_0; b++, y += QK4_0) {
        const float d = ea_fp16_to_f32(x[b].d);
        for (int i = 0; i < QK4_0 / 2; i++) {
            y[i] = (float)((x[b].qs[i] & 0x0f) - 8) * d;
            y[i + QK4_0 / 2] = (float)((x[b].qs[i] >> 4) - 8) * d;
        }
    }
}
