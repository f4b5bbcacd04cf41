/* float32 -> Q6_K: 16 sub-blocks of 16, q in -32..31, int8 sub-scales under fp16 d. */
#include "kquant-fit.h"

void ea_quantize_q6_K__ref(const float *x, void *vy, int64_t k) {
    block_q6_K *y = (block_q6_K *)vy;
    for (int64_t b = 0; b < k / QK_K; b++) {
        const float *xb = x + b * QK_K;
        float sc[16], amax = 0.0f;
        for (int i = 0; i < 16; i++) {
            sc[i] = ea_fit_symmetric(xb + 16 * i, 16, -32, 31);
            amax = fabsf(sc[i]) > amax ? fabsf(sc[i]) : amax;
        }
        y[b].d = ea_f32_to_fp16(amax / 127.0f);
        const float dd = ea_fp16_to_f32(y[b].d);
        memset(y[b].ql, 0, sizeof(y[b].ql));
        memset(y[b].qh, 0, sizeof(y[b].qh));
        for (int i = 0; i < 16; i++) {
            const int is = dd > 0 ? ea_clampi((int)lrintf(sc[i] / dd), -128, 127) : 0;
            y[b].scales[i] = (int8_t)is;
            for (int j = 0; j < 16; j++) {
                const int e = 16 * i + j, g = e / 128, r = e % 128;
                const int u = ea_assign_symmetric(xb[e], dd * (float)is, -32, 31) + 32; /* 0..63 */
                y[b].ql[64 * g + r % 64] |= (uint8_t)((u & 0x0f) << (4 * (r / 64)));
                y[b].qh[32 * g + r % 32] |= (uint8_t)((u >> 4) << (2 * (r / 32)));
            }
        }
    }
}
