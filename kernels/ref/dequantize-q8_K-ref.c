/* Q8_K -> float32: x = q * d. */
#include "kquants.h"

void ea_dequantize_q8_K__ref(const void *vx, float *y, int64_t k) {
    const block_q8_K *x = (const block_q8_K *)vx;
    for (int64_t b = 0; b < k / QK_K; b++)
        for (int j = 0; j < QK_K; j++) y[b * QK_K + j] = (float)x[b].qs[j] * x[b].d;
}
