/* Body of ea_dequantize_q4_0__{neon,armv7neon} (EA_FN named by the including file): x = (q - 8) * d,
 * element j the low nibble of qs[j], j + 16 the high one; bit-exact with the ref.
 * ref: ggml-common.h block_q4_0 */
#include "dequant_util.h"

void EA_FN(const void *vx, float *y, int64_t k) {
    const block_q4_0 *x = (const block_q4_0 *)vx;
    for (int64_t b = 0; b < k / QK4_0; b++, y += QK4_0) {
        const float d = ea_h2f(x[b].d);
        const uint8x16_t q = vld1q_u8(x[b].qs);
        ea_store_scaled16(y, vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0f))), vdupq_n_s8(8)), d);
        ea_store_scaled16(y + 16, vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), vdupq_n_s8(8)), d);
    }
}
