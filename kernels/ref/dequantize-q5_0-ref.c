/* Q5_0 -> float32: x[j] = ((nibble | bit j of qh << 4) - 16) * d. */
#include "../blocks.h"

void ea_dequantize_q5_0__ref(const void *vx, float *y, int64_t k) {
    const block_q5_0 *x = (const block_q5_0 *)vx;
    for (int64_t b = 0; b < k / QK5_0; b++, y += QK5_0) {
        const float d = ea_fp16_to_f32(x[b].d);
        uint32_t qh;
        memcpy(&qh, x[b].qh, 4);
        for (int i = 0; i < QK5_0 / 2; i++) {
            const int q0 = (x[b].qs[i] & 0x0f) | (int)(((qh >> i) & 1u) << 4);
            const int q1 = (x[b].qs[i] >> 4) | (int)(((qh >> (i + QK5_0 / 2)) & 1u) << 4);
            y[i] = (float)(q0 - 16) * d;
            y[i + QK5_0 / 2] = (float)(q1 - 16) * d;
        }
    }
}
