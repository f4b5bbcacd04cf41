/* Q2_K -> float32: x = (d * scale) * q - dmin * min, per sub-block of 16. */
#include "kquants.h"

void ea_dequantize_q2_K__ref(const void *vx, float *y, int64_t k) {
    const block_q2_K *x = (const block_q2_K *)vx;
    int8_t q[QK_K];
    uint8_t sc[16], mn[16];
    for (int64_t b = 0; b < k / QK_K; b++, y += QK_K) {
        ea_unpack_q2_K(&x[b], q, sc, mn);
        const float d = ea_fp16_to_f32(x[b].d), dmin = ea_fp16_to_f32(x[b].dmin);
        for (int e = 0; e < QK_K; e++) y[e] = (d * (float)sc[e / 16]) * (float)q[e] - dmin * (float)mn[e / 16];
    }
}
