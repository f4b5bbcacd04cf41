/* float32 -> Q5_K: 8 sub-blocks of 32, q in 0..31, 6-bit sub-scales and mins under fp16 d, dmin. */
#include "kquant-fit.h"

void ea_quantize_q5_K__ref(const float *x, void *vy, int64_t k) {
    block_q5_K *y = (block_q5_K *)vy;
    for (int64_t b = 0; b < k / QK_K; b++) {
        const float *xb = x + b * QK_K;
        float sc[8], mn[8];
        for (int i = 0; i < 8; i++) {
            float off;
            ea_fit_affine(xb + 32 * i, 32, 31, &sc[i], &off);
            mn[i] = -off;
        }
        y[b].d = ea_f32_to_fp16(ea_super_scale(sc, 8, 63));
        y[b].dmin = ea_f32_to_fp16(ea_super_scale(mn, 8, 63));
        const float dd = ea_fp16_to_f32(y[b].d), dm = ea_fp16_to_f32(y[b].dmin);
        uint8_t is[8], im[8];
        for (int i = 0; i < 8; i++) {
            is[i] = (uint8_t)(dd > 0 ? ea_clampi((int)lrintf(sc[i] / dd), 0, 63) : 0);
            im[i] = (uint8_t)(dm > 0 ? ea_clampi((int)lrintf(mn[i] / dm), 0, 63) : 0);
        }
        /* 12-byte packing: bytes 0-3 scales 0-3 (+ top bits of scales 4-7), 4-7 mins 0-3
         * (+ top bits of mins 4-7), 8-11 low nibbles of scale|min 4-7 */
        for (int j = 0; j < 4; j++) {
            y[b].scales[j] = (uint8_t)((is[j] & 63) | ((is[j + 4] >> 4) << 6));
            y[b].scales[j + 4] = (uint8_t)((im[j] & 63) | ((im[j + 4] >> 4) << 6));
            y[b].scales[j + 8] = (uint8_t)((is[j + 4] & 0x0f) | ((im[j + 4] & 0x0f) << 4));
        }
        memset(y[b].qs, 0, sizeof(y[b].qs));
        memset(y[b].qh, 0, sizeof(y[b].qh));
        for (int e = 0; e < QK_K; e++) {
            const int q = ea_assign_affine(xb[e], dd * (float)is[e / 32], dm * (float)im[e / 32], 31);
            y[b].qs[32 * (e / 64) + e % 32] |= (uint8_t)((q & 0x0f) << (4 * ((e / 32) % 2)));
            y[b].qh[e % 32] |= (uint8_t)((q >> 4) << (e / 32));
        }
    }
}
