/* Body of ea_quantize_q8_0__{neon,armv7neon} (EA_FN named by the including file).
 * Byte-exact with ea_quantize_q8_0__ref: d = max|x| / 127 (a scalar division, as the ref),
 * id = 1/d, q = roundf(x * id) (ea_round_away), d stored as fp16 by the same scalar rounding.
 * ref: ggml-common.h block_q8_0 */
#include <math.h>
#include "neon_util.h"

void EA_FN(const float *x, void *vy, int64_t k) {
    block_q8_0 *y = (block_q8_0 *)vy;
    for (int64_t b = 0; b < k / QK8_0; b++) {
        const float *xb = x + b * QK8_0;
        float32x4_t v[8];
        float32x4_t m = vdupq_n_f32(0.0f);
        for (int i = 0; i < 8; i++) {
            v[i] = vld1q_f32(xb + 4 * i);
            m = vmaxq_f32(m, vabsq_f32(v[i]));
        }
        const float amax = ea_hmax_f32(m);
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = ea_f32_to_fp16(d);
#if !defined(EA_A64)
        /* ARMv7 NEON flushes subnormals: a block this tiny takes the IEEE scalar path */
        if (amax < 1e-30f) {
            for (int i = 0; i < QK8_0; i++) y[b].qs[i] = (int8_t)roundf(xb[i] * id);
            continue;
        }
#endif
        const float32x4_t vid = vdupq_n_f32(id);
        for (int h = 0; h < 2; h++) {
            int8x16_t q = ea_narrow_s32x4(ea_round_away(vmulq_f32(v[4 * h], vid)), ea_round_away(vmulq_f32(v[4 * h + 1], vid)),
                                          ea_round_away(vmulq_f32(v[4 * h + 2], vid)), ea_round_away(vmulq_f32(v[4 * h + 3], vid)));
            vst1q_s8(y[b].qs + 16 * h, q);
        }
    }
}
