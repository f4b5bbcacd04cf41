/* Body of ea_dequantize_q3_K__{neon,armv7neon} (EA_FN named by the including file):
 * x = (d * sc) * q per sub-block of 16 (6-bit signed sc), rounded as in the ref; bit-exact.
 * Element e = 128 g + 32 t + l: q = bits 2t, 2t + 1 of qs[32 g + l], minus 4 unless bit 4g + t
 * of hmask[l] is set. ref: GGUF spec, block_q3_K */
#include "dequant_util.h"
#include "kquant_util.h"

void EA_FN(const void *vx, float *y, int64_t k) {
    const block_q3_K *x = (const block_q3_K *)vx;
    for (int64_t b = 0; b < k / QK_K; b++, y += QK_K) {
        int8_t sc[16];
        ea_unpack_scales_q3(x[b].scales, sc);
        const float d = ea_h2f(x[b].d);
        for (int g = 0; g < 2; g++)
            for (int l = 0; l < 32; l += 16) {
                const uint8x16_t qs = vld1q_u8(x[b].qs + 32 * g + l), hm = vld1q_u8(x[b].hmask + l);
                for (int t = 0; t < 4; t++) {
                    const int e0 = 128 * g + 32 * t + l;
                    const uint8x16_t low = vandq_u8(vshlq_u8(qs, vdupq_n_s8((int8_t)(-2 * t))), vdupq_n_u8(3));
                    /* hmask bit 4g + t -> 4 (kept) or 0 (minus 4): q = low + 4 h - 4 */
                    const uint8x16_t hi = vandq_u8(vshlq_u8(hm, vdupq_n_s8((int8_t)(2 - 4 * g - t))), vdupq_n_u8(4));
                    const int8x16_t q = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(low, hi)), vdupq_n_s8(4));
                    ea_store_scaled16(y + e0, q, d * (float)sc[e0 / 16]);
                }
            }
    }
}
