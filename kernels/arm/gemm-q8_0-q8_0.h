/* Body of ea_gemm_q8_0_q8_0__{neon,neondot} (EA_FN named by the including file): the 4 x 4 tile
 * of gemm_x8_tile.h on Q8_0 weights; edges through this ISA's dot. */
#include "neon_util.h"
#define A_BLOCK block_q8_0
#define W_BLOCK block_q8_0
static void ea_gemm_edge_dot(int64_t k, float *s, const void *vw, const void *va);
#pragma push_macro("EA_FN")
#undef EA_FN
#define EA_FN ea_gemm_edge_dot
#include "dot-q8_0-q8_0.h"
#pragma pop_macro("EA_FN")
#define EA_EDGE_DOT ea_gemm_edge_dot

static inline void w_unpack(const block_q8_0 *b, int8x16_t *lo, int8x16_t *hi) {
    *lo = vld1q_s8(b->qs);
    *hi = vld1q_s8(b->qs + 16);
}
static inline float w_scale(const block_q8_0 *b) { return ea_h2f(b->d); }

#include "gemm_x8_tile.h"
