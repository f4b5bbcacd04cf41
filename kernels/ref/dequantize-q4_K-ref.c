/* Q4_K -> float32: x = (d * scale) * q - dmin * min, per sub-block of 32. */
#include "kquants.h"

void ea_dequantize_q4_K__ref(const void *vx, float *y, int64_t k) {
    const block_q4_K *x = (const block_q4_K *)vx;
    int8_t q[QK_K];
    uint8_t sc[8], mn[8];
    for (int64_t b = 0; b < k / QK_K; b++, y += QK_K) {
        ea_unpack_q4_K(&x[b], q, sc, mn);
        const float d = ea_fp16_to_f32(x[b].d), dmin = ea_fp16_to_f32(x[b].dmin);
        for (int e = 0; e < QK_K; e++) y[e] = (d * (float)sc[e / 32]) * (float)q[e] - dmin * (float)mn[e / 32];
    }
}
