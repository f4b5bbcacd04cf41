/* Q6_K -> float32: x = (d * scale) * q, per sub-block of 16. */
#include "kquants.h"

void ea_dequantize_q6_K__ref(const void *vx, float *y, int64_t k) {
    const block_q6_K *x = (const block_q6_K *)vx;
    int8_t q[QK_K];
    for (int64_t b = 0; b < k / QK_K; b++, y += QK_K) {
        ea_unpack_q6_K(&x[b], q);
        const float d = ea_fp16_to_f32(x[b].d);
        for (int e = 0; e < QK_K; e++) y[e] = (d * (float)x[b].scales[e / 16]) * (float)q[e];
    }
}
