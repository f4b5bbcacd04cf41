/* Body of ea_quantize_q8_K__{neon,armv7neon} (EA_FN named by the including file).
 * Q8_K, the K-quants' activation block: 256 int8 with one float scale and the sums of each 16.
 * Byte-exact with ea_quantize_q8_K__ref (ggml's rule): max = the element of largest |x| (the first
 * such on ties), iscale = -127 / max, q = min(127, nearest-even(iscale * x)), d = 1 / iscale.
 * ref: ggml-common.h block_q8_K */
#include <math.h>
#include "neon_util.h"

void EA_FN(const float *x, void *vy, int64_t k) {
    block_q8_K *y = (block_q8_K *)vy;
    for (int64_t b = 0; b < k / QK_K; b++) {
        const float *xb = x + b * QK_K;
        float32x4_t vmax = vdupq_n_f32(-INFINITY), vmin = vdupq_n_f32(INFINITY);
        for (int i = 0; i < QK_K; i += 4) {
            float32x4_t v = vld1q_f32(xb + i);
            vmax = vmaxq_f32(vmax, v);
            vmin = vminq_f32(vmin, v);
        }
        const float hi = ea_hmax_f32(vmax), lo = -ea_hmax_f32(vnegq_f32(vmin));
        const float amax = fmaxf(hi, -lo);
        float max;
        if (hi != -lo) {
            max = hi > -lo ? hi : lo;
        } else {
            /* +amax and -amax both present: the first one wins, as in the ref's scan */
            int j = 0;
            while (fabsf(xb[j]) != amax) j++;
            max = xb[j];
        }
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof(y[b]));
            continue;
        }
        const float iscale = -127.0f / max;
#if !defined(EA_A64)
        if (amax < 1e-30f) { /* ARMv7 NEON flushes subnormals: IEEE scalar path for tiny blocks */
            for (int j = 0; j < QK_K; j++) {
                float v = iscale * xb[j] + 12582912.0f;
                int32_t iv;
                memcpy(&iv, &v, 4);
                iv = (iv & 0x007fffff) - 0x00400000;
                y[b].qs[j] = (int8_t)(iv > 127 ? 127 : iv);
            }
            for (int j = 0; j < QK_K / 16; j++) {
                int s = 0;
                for (int i = 0; i < 16; i++) s += y[b].qs[16 * j + i];
                y[b].bsums[j] = (int16_t)s;
            }
            y[b].d = 1.0f / iscale;
            continue;
        }
#endif
        const float32x4_t vs = vdupq_n_f32(iscale);
        const int32x4_t top = vdupq_n_s32(127);
        for (int j = 0; j < QK_K; j += 16) {
            int32x4_t q0 = vminq_s32(ea_round_even(vmulq_f32(vld1q_f32(xb + j), vs)), top);
            int32x4_t q1 = vminq_s32(ea_round_even(vmulq_f32(vld1q_f32(xb + j + 4), vs)), top);
            int32x4_t q2 = vminq_s32(ea_round_even(vmulq_f32(vld1q_f32(xb + j + 8), vs)), top);
            int32x4_t q3 = vminq_s32(ea_round_even(vmulq_f32(vld1q_f32(xb + j + 12), vs)), top);
            int8x16_t q = ea_narrow_s32x4(q0, q1, q2, q3);
            vst1q_s8(y[b].qs + j, q);
            y[b].bsums[j / 16] = (int16_t)ea_hadd_s16(vpaddlq_s8(q));
        }
        y[b].d = 1.0f / iscale;
    }
}
