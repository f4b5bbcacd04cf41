/* Body of ea_dequantize_q8_0__{neon,armv7neon} (EA_FN named by the including file): x = q * d,
 * bit-exact with the ref (int8 -> float is exact, one rounding in the product). Q8_0 is the
 * default LLM's token-embedding format: this runs once per token per embedding row.
 * ref: ggml-common.h block_q8_0 */
#include "dequant_util.h"

void EA_FN(const void *vx, float *y, int64_t k) {
    const block_q8_0 *x = (const block_q8_0 *)vx;
    for (int64_t b = 0; b < k / QK8_0; b++, y += QK8_0) {
        const float d = ea_h2f(x[b].d);
        ea_store_scaled16(y, vld1q_s8(x[b].qs), d);
        ea_store_scaled16(y + 16, vld1q_s8(x[b].qs + 16), d);
    }
}
