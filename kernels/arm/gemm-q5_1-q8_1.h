/* Body of ea_gemm_q5_1_q8_1__{neon,neondot} (EA_FN named by the including file): the 4 x 4 tile
 * of gemm_x8_tile.h on Q5_1 weights (nibble | qh bit << 4, 0..31, unpacked once per tile; m_w * s_a
 * added per block); edges through this ISA's dot. Layout: dot-q5_1-q8_1.h. */
#include "neon_util.h"
#define A_BLOCK block_q8_1
#define W_BLOCK block_q5_1
#define W_HAS_MIN 1
static void ea_gemm_edge_dot(int64_t k, float *s, const void *vw, const void *va);
#pragma push_macro("EA_FN")
#undef EA_FN
#define EA_FN ea_gemm_edge_dot
#include "dot-q5_1-q8_1.h"
#pragma pop_macro("EA_FN")
#define EA_EDGE_DOT ea_gemm_edge_dot

static inline void w_unpack(const block_q5_1 *b, int8x16_t *lo, int8x16_t *hi) {
    uint32_t qh;
    memcpy(&qh, b->qh, 4);
    const uint8x16_t q = vld1q_u8(b->qs);
    *lo = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q, vdupq_n_u8(0x0f)), ea_qh_bits16((uint16_t)qh)));
    *hi = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q, 4), ea_qh_bits16((uint16_t)(qh >> 16))));
}
static inline float w_scale(const block_q5_1 *b) { return ea_h2f(b->d); }
static inline float w_min(const block_q5_1 *b) { return ea_h2f(b->m); }

#include "gemm_x8_tile.h"
