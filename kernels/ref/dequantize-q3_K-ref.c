/* Q3_K -> float32: x = (d * scale) * q, per sub-block of 16. */
#include "kquants.h"

void ea_dequantize_q3_K__ref(const void *vx, float *y, int64_t k) {
    const block_q3_K *x = (const block_q3_K *)vx;
    int8_t q[QK_K], sc[16];
    for (int64_t b = 0; b < k / QK_K; b++, y += QK_K) {
        ea_unpack_q3_K(&x[b], q, sc);
        const float d = ea_fp16_to_f32(x[b].d);
        for (int e = 0; e < QK_K; e++) y[e] = (d * (float)sc[e / 16]) * (float)q[e];
    }
}
