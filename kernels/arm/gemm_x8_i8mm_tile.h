/* Generic body of the i8mm gemm tiles (weights unpacking to int8 blocks of 32, Q8_0 / Q8_1
 * activations): s[i*lds + j] = dot(w row j, a row i). Same contract as gemm_x8_tile.h (EA_FN,
 * W_BLOCK, A_BLOCK, EA_EDGE_DOT, w_unpack, w_scale, and w_min with W_HAS_MIN).
 *
 * SMMLA multiplies a 2x8 int8 matrix by the transpose of another 2x8 into a 2x2 int32 tile:
 * with A = [a_i[8t..8t+7]; a_{i+1}[8t..8t+7]] and B = [w_j[..]; w_{j+1}[..]] one instruction adds
 * the 4 dots (i, j) (i, j+1) (i+1, j) (i+1, j+1) of 8 elements each. Tile: 2 activation rows x 4
 * weight rows; per block of 32, rows are interleaved 8 bytes at a time (ZIP1/ZIP2 on 64-bit lanes)
 * and 8 SMMLA cover the 2 x 4 x 32 products that take 16 SDOT. Edges through EA_EDGE_DOT. */
#include "neon_util.h"

#ifndef __ARM_FEATURE_MATMUL_INT8
#error "needs i8mm"
#endif

/* [x[0..7], y[0..7]] and [x[8..15], y[8..15]] */
static inline void ea_zip64(int8x16_t x, int8x16_t y, int8x16_t *lo, int8x16_t *hi) {
    *lo = vreinterpretq_s8_s64(vzip1q_s64(vreinterpretq_s64_s8(x), vreinterpretq_s64_s8(y)));
    *hi = vreinterpretq_s8_s64(vzip2q_s64(vreinterpretq_s64_s8(x), vreinterpretq_s64_s8(y)));
}

void EA_FN(int64_t k, int64_t m, int64_t n, float *s, int64_t lds, const void *vw, size_t ws, const void *va,
           size_t as) {
    const char *wb = (const char *)vw, *ab = (const char *)va;
    const int64_t nb = k / 32;
    const int64_t m2 = m & ~(int64_t)1, n4 = n & ~(int64_t)3;
    for (int64_t i = 0; i < m2; i += 2) {
        const A_BLOCK *a0 = (const A_BLOCK *)(ab + (size_t)i * as);
        const A_BLOCK *a1 = (const A_BLOCK *)(ab + (size_t)(i + 1) * as);
        for (int64_t j = 0; j < n4; j += 4) {
            const W_BLOCK *w[4];
            for (int c = 0; c < 4; c++) w[c] = (const W_BLOCK *)(wb + (size_t)(j + c) * ws);
            /* acc01: lanes (i,j) (i,j+1) (i+1,j) (i+1,j+1); acc23 the same for columns j+2, j+3 */
            float32x4_t acc01 = vdupq_n_f32(0.0f), acc23 = vdupq_n_f32(0.0f);
            for (int64_t b = 0; b < nb; b++) {
                int8x16_t A[4], W01[4], W23[4], lo[4], hi[4];
                ea_zip64(vld1q_s8(a0[b].qs), vld1q_s8(a1[b].qs), &A[0], &A[1]);
                ea_zip64(vld1q_s8(a0[b].qs + 16), vld1q_s8(a1[b].qs + 16), &A[2], &A[3]);
                for (int c = 0; c < 4; c++) w_unpack(&w[c][b], &lo[c], &hi[c]);
                ea_zip64(lo[0], lo[1], &W01[0], &W01[1]);
                ea_zip64(hi[0], hi[1], &W01[2], &W01[3]);
                ea_zip64(lo[2], lo[3], &W23[0], &W23[1]);
                ea_zip64(hi[2], hi[3], &W23[2], &W23[3]);
                int32x4_t p01 = vdupq_n_s32(0), p23 = vdupq_n_s32(0);
                for (int t = 0; t < 4; t++) {
                    p01 = vmmlaq_s32(p01, A[t], W01[t]);
                    p23 = vmmlaq_s32(p23, A[t], W23[t]);
                }
                const float da0 = ea_h2f(a0[b].d), da1 = ea_h2f(a1[b].d);
                const float dw0 = w_scale(&w[0][b]), dw1 = w_scale(&w[1][b]);
                const float dw2 = w_scale(&w[2][b]), dw3 = w_scale(&w[3][b]);
                const float sc01[4] = {da0 * dw0, da0 * dw1, da1 * dw0, da1 * dw1};
                const float sc23[4] = {da0 * dw2, da0 * dw3, da1 * dw2, da1 * dw3};
                acc01 = vfmaq_f32(acc01, vcvtq_f32_s32(p01), vld1q_f32(sc01));
                acc23 = vfmaq_f32(acc23, vcvtq_f32_s32(p23), vld1q_f32(sc23));
#ifdef W_HAS_MIN
                const float sa0 = ea_h2f(a0[b].s), sa1 = ea_h2f(a1[b].s);
                const float m0 = w_min(&w[0][b]), m1 = w_min(&w[1][b]), m2 = w_min(&w[2][b]), m3 = w_min(&w[3][b]);
                const float mn01[4] = {m0 * sa0, m1 * sa0, m0 * sa1, m1 * sa1};
                const float mn23[4] = {m2 * sa0, m3 * sa0, m2 * sa1, m3 * sa1};
                acc01 = vaddq_f32(acc01, vld1q_f32(mn01));
                acc23 = vaddq_f32(acc23, vld1q_f32(mn23));
#endif
            }
            /* row i: lanes 0, 1 of acc01 then of acc23; row i+1: lanes 2, 3 */
            vst1q_f32(s + i * lds + j, vcombine_f32(vget_low_f32(acc01), vget_low_f32(acc23)));
            vst1q_f32(s + (i + 1) * lds + j, vcombine_f32(vget_high_f32(acc01), vget_high_f32(acc23)));
        }
        for (int64_t j = n4; j < n; j++) {
            EA_EDGE_DOT(k, &s[i * lds + j], wb + (size_t)j * ws, a0);
            EA_EDGE_DOT(k, &s[(i + 1) * lds + j], wb + (size_t)j * ws, a1);
        }
    }
    for (int64_t i = m2; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            EA_EDGE_DOT(k, &s[i * lds + j], wb + (size_t)j * ws, ab + (size_t)i * as);
}
