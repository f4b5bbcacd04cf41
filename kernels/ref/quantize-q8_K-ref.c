/* float32 -> Q8_K, the K-quants' activation block (ggml's rule): max = the element of largest |x|
 * (first on ties), iscale = -127 / max, q = min(127, nearest-even(iscale * x)), d = 1 / iscale,
 * bsums[i] = sum of q[16i .. 16i+15]. ref: ggml-common.h block_q8_K */
#include <math.h>
#include "kquants.h"

void ea_quantize_q8_K__ref(const float *x, void *vy, int64_t k) {
    block_q8_K *y = (block_q8_K *)vy;
    for (int64_t b = 0; b < k / QK_K; b++) {
        const float *xb = x + b * QK_K;
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK_K; j++)
            if (fabsf(xb[j]) > amax) {
                amax = fabsf(xb[j]);
                max = xb[j];
            }
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof(y[b]));
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < QK_K; j++) {
            const int v = ea_nearest_int(iscale * xb[j]);
            y[b].qs[j] = (int8_t)(v > 127 ? 127 : v);
        }
        for (int i = 0; i < QK_K / 16; i++) {
            int s = 0;
            for (int j = 0; j < 16; j++) s += y[b].qs[16 * i + j];
            y[b].bsums[i] = (int16_t)s;
        }
        y[b].d = 1.0f / iscale;
    }
}
