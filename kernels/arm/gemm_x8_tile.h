/* Generic body of the AArch64 gemm tiles for weight formats that unpack to int8 blocks of 32 against
 * Q8_0 / Q8_1 activations (q8_0, q4_0, q4_1): s[i*lds + j] = dot(w row j, a row i).
 *
 * The including file defines, before including this:
 *   EA_FN            the gemm's name                      W_BLOCK  the weight block type
 *   A_BLOCK          block_q8_0, or block_q8_1 with W_HAS_MIN (value q * d + m: adds m_w * s_a per block)
 *   EA_EDGE_DOT      a static dot (same ISA) for the edges
 *   w_unpack(b, lo, hi)  block -> int8 elements 0..15, 16..31      w_scale(b) -> float d
 *   w_min(b) -> float m                                              (W_HAS_MIN only)
 * Tile: 4 activation rows x 4 weight rows. Each weight block is unpacked once and used for 4 rows
 * of activations (the GEMM's gain over 16 dots: 4x fewer weight loads and unpacks). Per block and
 * activation row, 4 int32x4 partial dots are folded by three pairwise adds into one vector whose
 * lane j is the block's sum for weight row j, then scaled by d_w[j] * d_a[i] into acc[i].
 * Rows and columns outside whole tiles go through EA_EDGE_DOT. AArch64 only (vpaddq). */
#include "neon_util.h"

#ifndef EA_A64
#error "the gemm tiles need AArch64"
#endif

void EA_FN(int64_t k, int64_t m, int64_t n, float *s, int64_t lds, const void *vw, size_t ws, const void *va,
           size_t as) {
    const char *wb = (const char *)vw, *ab = (const char *)va;
    const int64_t nb = k / 32;
    const int64_t m4 = m & ~(int64_t)3, n4 = n & ~(int64_t)3;
    for (int64_t i = 0; i < m4; i += 4) {
        const A_BLOCK *a[4];
        for (int r = 0; r < 4; r++) a[r] = (const A_BLOCK *)(ab + (size_t)(i + r) * as);
        for (int64_t j = 0; j < n4; j += 4) {
            const W_BLOCK *w[4];
            for (int c = 0; c < 4; c++) w[c] = (const W_BLOCK *)(wb + (size_t)(j + c) * ws);
            float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
            for (int64_t b = 0; b < nb; b++) {
                int8x16_t lo[4], hi[4];
                float dw[4];
                for (int c = 0; c < 4; c++) {
                    w_unpack(&w[c][b], &lo[c], &hi[c]);
                    dw[c] = w_scale(&w[c][b]);
                }
                const float32x4_t vdw = vld1q_f32(dw);
#ifdef W_HAS_MIN
                const float mw[4] = {w_min(&w[0][b]), w_min(&w[1][b]), w_min(&w[2][b]), w_min(&w[3][b])};
                const float32x4_t vmw = vld1q_f32(mw);
#endif
                for (int r = 0; r < 4; r++) {
                    const int8x16_t y0 = vld1q_s8(a[r][b].qs), y1 = vld1q_s8(a[r][b].qs + 16);
                    int32x4_t p0 = ea_dot_s8(ea_dot_s8(vdupq_n_s32(0), lo[0], y0), hi[0], y1);
                    int32x4_t p1 = ea_dot_s8(ea_dot_s8(vdupq_n_s32(0), lo[1], y0), hi[1], y1);
                    int32x4_t p2 = ea_dot_s8(ea_dot_s8(vdupq_n_s32(0), lo[2], y0), hi[2], y1);
                    int32x4_t p3 = ea_dot_s8(ea_dot_s8(vdupq_n_s32(0), lo[3], y0), hi[3], y1);
                    const int32x4_t sums = vpaddq_s32(vpaddq_s32(p0, p1), vpaddq_s32(p2, p3));
                    acc[r] = vfmaq_f32(acc[r], vcvtq_f32_s32(sums), vmulq_n_f32(vdw, ea_h2f(a[r][b].d)));
#ifdef W_HAS_MIN
                    acc[r] = vfmaq_n_f32(acc[r], vmw, ea_h2f(a[r][b].s));
#endif
                }
            }
            for (int r = 0; r < 4; r++) vst1q_f32(s + (i + r) * lds + j, acc[r]);
        }
        for (int64_t j = n4; j < n; j++)
            for (int r = 0; r < 4; r++) EA_EDGE_DOT(k, &s[(i + r) * lds + j], wb + (size_t)j * ws, a[r]);
    }
    for (int64_t i = m4; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            EA_EDGE_DOT(k, &s[i * lds + j], wb + (size_t)j * ws, ab + (size_t)i * as);
}
