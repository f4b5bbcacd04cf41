/* Body of ea_dequantize_q4_1__{neon,armv7neon} (EA_FN named by the including file): x = q * d + m,
 * product and sum rounded separately as in the ref; bit-exact. ref: ggml-common.h block_q4_1 */
#include "dequant_util.h"

void EA_FN(const void *vx, float *y, int64_t k) {
    const block_q4_1 *x = (const block_q4_1 *)vx;
    for (int64_t b = 0; b < k / QK4_1; b++, y += QK4_1) {
        const float d = ea_h2f(x[b].d), m = ea_h2f(x[b].m);
        const uint8x16_t q = vld1q_u8(x[b].qs);
        ea_store_scaled16_min(y, vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0f))), d, m);
        ea_store_scaled16_min(y + 16, vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), d, m);
    }
}
