/* Body of ea_dequantize_q5_0__{neon,armv7neon} (EA_FN named by the including file): x = (q - 16) * d
 * with q = nibble | bit j of qh << 4; bit-exact with the ref. ref: ggml-common.h block_q5_0 */
#include "dequant_util.h"

void EA_FN(const void *vx, float *y, int64_t k) {
    const block_q5_0 *x = (const block_q5_0 *)vx;
    for (int64_t b = 0; b < k / QK5_0; b++, y += QK5_0) {
        uint32_t qh;
        memcpy(&qh, x[b].qh, 4);
        const float d = ea_h2f(x[b].d);
        const uint8x16_t q = vld1q_u8(x[b].qs);
        const uint8x16_t lo = vorrq_u8(vandq_u8(q, vdupq_n_u8(0x0f)), ea_qh_bits16((uint16_t)qh));
        const uint8x16_t hi = vorrq_u8(vshrq_n_u8(q, 4), ea_qh_bits16((uint16_t)(qh >> 16)));
        ea_store_scaled16(y, vsubq_s8(vreinterpretq_s8_u8(lo), vdupq_n_s8(16)), d);
        ea_store_scaled16(y + 16, vsubq_s8(vreinterpretq_s8_u8(hi), vdupq_n_s8(16)), d);
    }
}
