/* Body of ea_gemm_q4_0_q8_0__{neon,neondot} (EA_FN named by the including file): the 4 x 4 tile
 * of gemm_x8_tile.h on Q4_0 weights (nibbles unpacked once per tile, minus 8); edges through
 * this ISA's dot. */
#include "neon_util.h"
#define A_BLOCK block_q8_0
#define W_BLOCK block_q4_0
static void ea_gemm_edge_dot(int64_t k, float *s, const void *vw, const void *va);
#pragma push_macro("EA_FN")
#undef EA_FN
#define EA_FN ea_gemm_edge_dot
#include "dot-q4_0-q8_0.h"
#pragma pop_macro("EA_FN")
#define EA_EDGE_DOT ea_gemm_edge_dot

static inline void w_unpack(const block_q4_0 *b, int8x16_t *lo, int8x16_t *hi) {
    const uint8x16_t q = vld1q_u8(b->qs);
    *lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0f))), vdupq_n_s8(8));
    *hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), vdupq_n_s8(8));
}
static inline float w_scale(const block_q4_0 *b) { return ea_h2f(b->d); }

#include "gemm_x8_tile.h"
