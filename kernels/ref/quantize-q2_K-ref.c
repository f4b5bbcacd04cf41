/* float32 -> Q2_K: 16 sub-blocks of 16, q in 0..3, 4-bit sub-scales and mins under fp16 d, dmin. */
#include "kquant-fit.h"

void ea_quantize_q2_K__ref(const float *x, void *vy, int64_t k) {
    block_q2_K *y = (block_q2_K *)vy;
    for (int64_t b = 0; b < k / QK_K; b++) {
        const float *xb = x + b * QK_K;
        float sc[16], mn[16];
        for (int i = 0; i < 16; i++) {
            float off;
            ea_fit_affine(xb + 16 * i, 16, 3, &sc[i], &off);
            mn[i] = -off;
        }
        const float d = ea_super_scale(sc, 16, 15), dmin = ea_super_scale(mn, 16, 15);
        y[b].d = ea_f32_to_fp16(d);
        y[b].dmin = ea_f32_to_fp16(dmin);
        const float dd = ea_fp16_to_f32(y[b].d), dm = ea_fp16_to_f32(y[b].dmin);
        memset(y[b].qs, 0, sizeof(y[b].qs));
        for (int i = 0; i < 16; i++) {
            const int is = dd > 0 ? ea_clampi((int)lrintf(sc[i] / dd), 0, 15) : 0;
            const int im = dm > 0 ? ea_clampi((int)lrintf(mn[i] / dm), 0, 15) : 0;
            y[b].scales[i] = (uint8_t)(is | (im << 4));
            for (int j = 0; j < 16; j++) {
                const int e = 16 * i + j;
                const int q = ea_assign_affine(xb[e], dd * (float)is, dm * (float)im, 3);
                y[b].qs[32 * (e / 128) + e % 32] |= (uint8_t)(q << (2 * ((e / 32) % 4)));
            }
        }
    }
}
