/* float32 -> Q4_K: 8 sub-blocks of 32, q in 0..15, 6-bit sub-scales and mins under fp16 d, dmin. */
#include "kquant-fit.h"

void ea_quantize_q4_K__ref(const float *x, void *vy, int64_t k) {
    block_q4_K *y = (block_q4_K *)vy;
    for (int64_t b = 0; b < k / QK_K; b++) {
        const float *xb = x + b * QK_K;
        uint8_t is[8], im[8];
        ea_fit_k4_scales(xb, 15, &y[b].d, &y[b].dmin, y[b].scales, is, im);
        const float dd = ea_fp16_to_f32(y[b].d), dm = ea_fp16_to_f32(y[b].dmin);
        memset(y[b].qs, 0, sizeof(y[b].qs));
        for (int e = 0; e < QK_K; e++) {
            const int q = ea_assign_affine(xb[e], dd * (float)is[e / 32], dm * (float)im[e / 32], 15);
            y[b].qs[32 * (e / 64) + e % 32] |= (uint8_t)((q & 0x0f) << (4 * ((e / 32) % 2)));
        }
    }
}
