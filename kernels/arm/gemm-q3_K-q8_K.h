/* Body of ea_gemm_q3_K_q8_K__{neon,neondot} (EA_FN named by the including file): 4 activation rows
 * x 4 weight rows of Q3_K . Q8_K, AArch64 (the bulk of Q3_K_* models).
 *
 * The super-block is walked in its 16 sub-blocks of 16 (layout in dot-q3_K-q8_K.h: element
 * 128h + 32t + l is bits 2t, 2t+1 of qs[32h + l], minus 4 unless bit 4h + t of hmask[l] is set):
 * each weight row's sub-block is unpacked once (int8 in [-4, 3]) and used for the 4 activation
 * rows; one row's 4 partial dots fold into lanes c and take the 4 weight rows' signed 6-bit scales
 * in integer lanes. Per super-block and activation row: acc_r += d_a * d_w * isum_r (vectors over
 * c). Edges (M % 4, N % 4) through this ISA's dot. ref: GGUF spec, block_q3_K */
#include "kquant_util.h"
#include "neon_util.h"

#ifndef EA_A64
#error "the gemm tiles need AArch64"
#endif

static void ea_gemm_edge_dot(int64_t k, float *s, const void *vw, const void *va);
#pragma push_macro("EA_FN")
#undef EA_FN
#define EA_FN ea_gemm_edge_dot
#include "dot-q3_K-q8_K.h"
#pragma pop_macro("EA_FN")

void EA_FN(int64_t k, int64_t m, int64_t n, float *s, int64_t lds, const void *vw, size_t ws, const void *va,
           size_t as) {
    const char *wb = (const char *)vw, *ab = (const char *)va;
    const int64_t nb = k / QK_K;
    const int64_t m4 = m & ~(int64_t)3, n4 = n & ~(int64_t)3;
    const uint8x16_t m3 = vdupq_n_u8(3), four = vdupq_n_u8(4);
    for (int64_t i = 0; i < m4; i += 4) {
        const block_q8_K *a[4];
        for (int r = 0; r < 4; r++) a[r] = (const block_q8_K *)(ab + (size_t)(i + r) * as);
        for (int64_t j = 0; j < n4; j += 4) {
            const block_q3_K *w[4];
            for (int c = 0; c < 4; c++) w[c] = (const block_q3_K *)(wb + (size_t)(j + c) * ws);
            float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
            for (int64_t b = 0; b < nb; b++) {
                int8_t sc[4][16];
                for (int c = 0; c < 4; c++) ea_unpack_scales_q3(w[c][b].scales, sc[c]);
                int32x4_t isum[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
                for (int h = 0; h < 2; h++)
                    for (int l = 0; l < 32; l += 16)
                        for (int t = 0; t < 4; t++) {
                            const int e0 = 128 * h + 32 * t + l; /* first element; sub-block e0 / 16 */
                            const int8x16_t sh = vdupq_n_s8((int8_t)(-2 * t));
                            const uint8x16_t bit = vdupq_n_u8((uint8_t)(1u << (4 * h + t)));
                            int8x16_t q[4];
                            int32_t scv[4];
                            for (int c = 0; c < 4; c++) {
                                const uint8x16_t lo = vandq_u8(vshlq_u8(vld1q_u8(w[c][b].qs + 32 * h + l), sh), m3);
                                /* subtract 4 where the hmask bit is clear */
                                const uint8x16_t sub = vbicq_u8(four, vtstq_u8(vld1q_u8(w[c][b].hmask + l), bit));
                                q[c] = vsubq_s8(vreinterpretq_s8_u8(lo), vreinterpretq_s8_u8(sub));
                                scv[c] = sc[c][e0 / 16];
                            }
                            const int32x4_t vsc = vld1q_s32(scv);
                            for (int r = 0; r < 4; r++) {
                                const int8x16_t y = vld1q_s8(a[r][b].qs + e0);
                                int32x4_t p0 = ea_dot_s8(vdupq_n_s32(0), q[0], y);
                                int32x4_t p1 = ea_dot_s8(vdupq_n_s32(0), q[1], y);
                                int32x4_t p2 = ea_dot_s8(vdupq_n_s32(0), q[2], y);
                                int32x4_t p3 = ea_dot_s8(vdupq_n_s32(0), q[3], y);
                                isum[r] = vmlaq_s32(isum[r], vpaddq_s32(vpaddq_s32(p0, p1), vpaddq_s32(p2, p3)), vsc);
                            }
                        }
                const float dw[4] = {ea_h2f(w[0][b].d), ea_h2f(w[1][b].d), ea_h2f(w[2][b].d), ea_h2f(w[3][b].d)};
                const float32x4_t vdw = vld1q_f32(dw);
                for (int r = 0; r < 4; r++)
                    acc[r] = vfmaq_f32(acc[r], vcvtq_f32_s32(isum[r]), vmulq_n_f32(vdw, a[r][b].d));
            }
            for (int r = 0; r < 4; r++) vst1q_f32(s + (i + r) * lds + j, acc[r]);
        }
        for (int64_t j = n4; j < n; j++)
            for (int r = 0; r < 4; r++) ea_gemm_edge_dot(k, &s[(i + r) * lds + j], wb + (size_t)j * ws, a[r]);
    }
    for (int64_t i = m4; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            ea_gemm_edge_dot(k, &s[i * lds + j], wb + (size_t)j * ws, ab + (size_t)i * as);
}
