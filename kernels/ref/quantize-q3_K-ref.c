/* float32 -> Q3_K: 16 sub-blocks of 16, q in -4..3, signed 6-bit sub-scales under fp16 d. */
#include "kquant-fit.h"

void ea_quantize_q3_K__ref(const float *x, void *vy, int64_t k) {
    block_q3_K *y = (block_q3_K *)vy;
    for (int64_t b = 0; b < k / QK_K; b++) {
        const float *xb = x + b * QK_K;
        float sc[16], amax = 0.0f;
        for (int i = 0; i < 16; i++) {
            sc[i] = ea_fit_symmetric(xb + 16 * i, 16, -4, 3);
            amax = fabsf(sc[i]) > amax ? fabsf(sc[i]) : amax;
        }
        y[b].d = ea_f32_to_fp16(amax / 31.0f);
        const float dd = ea_fp16_to_f32(y[b].d);
        memset(y[b].hmask, 0, sizeof(y[b].hmask));
        memset(y[b].qs, 0, sizeof(y[b].qs));
        memset(y[b].scales, 0, sizeof(y[b].scales));
        for (int i = 0; i < 16; i++) {
            const int is = dd > 0 ? ea_clampi((int)lrintf(sc[i] / dd), -32, 31) : 0;
            const int u = is + 32; /* stored biased, 6 bits: low nibble + 2 high bits */
            if (i < 8) y[b].scales[i] |= (uint8_t)(u & 0x0f);
            else y[b].scales[i - 8] |= (uint8_t)((u & 0x0f) << 4);
            y[b].scales[8 + i % 4] |= (uint8_t)((u >> 4) << (2 * (i / 4)));
            for (int j = 0; j < 16; j++) {
                const int e = 16 * i + j;
                const int q = ea_assign_symmetric(xb[e], dd * (float)is, -4, 3) + 4; /* 0..7 */
                y[b].qs[32 * (e / 128) + e % 32] |= (uint8_t)((q & 3) << (2 * ((e / 32) % 4)));
                y[b].hmask[e % 32] |= (uint8_t)((q >> 2) << (e / 32));
            }
        }
    }
}
