/* Body of ea_dequantize_q5_K__{neon,armv7neon} (EA_FN named by the including file): Q4_K's
 * dequantizer with the fifth bit: element l of sub-block sb takes bit sb of qh[l] as 16.
 * x = (d * sc) * q - dmin * m, rounded as in the ref; bit-exact. ref: GGUF spec, block_q5_K */
#include "dequant_util.h"
#include "kquant_util.h"

void EA_FN(const void *vx, float *y, int64_t k) {
    const block_q5_K *x = (const block_q5_K *)vx;
    const uint8x16_t m4 = vdupq_n_u8(0x0f), b4 = vdupq_n_u8(0x10);
    for (int64_t b = 0; b < k / QK_K; b++, y += QK_K) {
        uint8_t sc[8], mn[8];
        ea_unpack_scales_k4(x[b].scales, sc, mn);
        const float d = ea_h2f(x[b].d), dmin = ea_h2f(x[b].dmin);
        const uint8x16_t h0 = vld1q_u8(x[b].qh), h1 = vld1q_u8(x[b].qh + 16);
        for (int sb = 0; sb < 8; sb++) {
            /* bytes 32 (sb / 2) .. +31, low nibbles if sb is even; bit sb of qh -> bit 4 */
            const uint8x16_t q0 = vld1q_u8(x[b].qs + 32 * (sb / 2)), q1 = vld1q_u8(x[b].qs + 32 * (sb / 2) + 16);
            const int8x16_t sh = vdupq_n_s8((int8_t)(4 - sb));
            const uint8x16_t l0 = (sb & 1) ? vshrq_n_u8(q0, 4) : vandq_u8(q0, m4);
            const uint8x16_t l1 = (sb & 1) ? vshrq_n_u8(q1, 4) : vandq_u8(q1, m4);
            const uint8x16_t v0 = vorrq_u8(l0, vandq_u8(vshlq_u8(h0, sh), b4));
            const uint8x16_t v1 = vorrq_u8(l1, vandq_u8(vshlq_u8(h1, sh), b4));
            const float ds = d * (float)sc[sb], ms = dmin * (float)mn[sb];
            ea_store_scaled16_sub(y + 32 * sb, vreinterpretq_s8_u8(v0), ds, ms);
            ea_store_scaled16_sub(y + 32 * sb + 16, vreinterpretq_s8_u8(v1), ds, ms);
        }
    }
}
