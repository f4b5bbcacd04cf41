/* Body of ea_dequantize_f16__{neon,armv7neon} (EA_FN named by the including file): fp16 -> f32,
 * exact (FCVTL), 8 per step, scalar tail. */
#include "neon_util.h"

void EA_FN(const void *vx, float *y, int64_t k) {
    const ea_fp16 *x = (const ea_fp16 *)vx;
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) {
        vst1q_f32(y + i, ea_f16x4_to_f32(x + i));
        vst1q_f32(y + i + 4, ea_f16x4_to_f32(x + i + 4));
    }
    for (; i < k; i++) y[i] = ea_h2f(x[i]);
}
