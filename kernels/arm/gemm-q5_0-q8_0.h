/* Body of ea_gemm_q5_0_q8_0__{neon,neondot} (EA_FN named by the including file): the 4 x 4 tile
 * of gemm_x8_tile.h on Q5_0 weights (nibble | qh bit << 4, minus 16, unpacked once per tile and
 * used for 4 activation rows); edges through this ISA's dot. Layout: dot-q5_0-q8_0.h. */
#include "neon_util.h"
#define A_BLOCK block_q8_0
#define W_BLOCK block_q5_0
static void ea_gemm_edge_dot(int64_t k, float *s, const void *vw, const void *va);
#pragma push_macro("EA_FN")
#undef EA_FN
#define EA_FN ea_gemm_edge_dot
#include "dot-q5_0-q8_0.h"
#pragma pop_macro("EA_FN")
#define EA_EDGE_DOT ea_gemm_edge_dot

static inline void w_unpack(const block_q5_0 *b, int8x16_t *lo, int8x16_t *hi) {
    uint32_t qh;
    memcpy(&qh, b->qh, 4);
    const uint8x16_t q = vld1q_u8(b->qs);
    const uint8x16_t l = vorrq_u8(vandq_u8(q, vdupq_n_u8(0x0f)), ea_qh_bits16((uint16_t)qh));
    const uint8x16_t h = vorrq_u8(vshrq_n_u8(q, 4), ea_qh_bits16((uint16_t)(qh >> 16)));
    *lo = vsubq_s8(vreinterpretq_s8_u8(l), vdupq_n_s8(16));
    *hi = vsubq_s8(vreinterpretq_s8_u8(h), vdupq_n_s8(16));
}
static inline float w_scale(const block_q5_0 *b) { return ea_h2f(b->d); }

#include "gemm_x8_tile.h"
