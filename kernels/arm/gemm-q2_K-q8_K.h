/* Body of ea_gemm_q2_K_q8_K__{neon,neondot} (EA_FN named by the including file): 4 activation rows
 * x 4 weight rows of Q2_K . Q8_K, AArch64 (Q2_K / Q3_K models fit boards with 512 MiB of RAM).
 *
 * The super-block is walked in its 16 sub-blocks of 16 (layout in dot-q2_K-q8_K.h: element
 * 128h + 32t + l is bits 2t, 2t+1 of qs[32h + l]): each weight row's sub-block is unpacked once and
 * used for the 4 activation rows; one row's 4 partial dots fold into lanes c (three pairwise adds)
 * and take the 4 weight rows' 4-bit scales in integer lanes. Per super-block and activation row r:
 *   acc_r += d_a * (d_w * isum_r - dmin_w * summ_r),  summ_r[c] = sum_j m_c[j] * bsums_r[j]
 * (vectors over c). Edges (M % 4, N % 4) through this ISA's dot. ref: GGUF spec, block_q2_K */
#include "neon_util.h"

#ifndef EA_A64
#error "the gemm tiles need AArch64"
#endif

static void ea_gemm_edge_dot(int64_t k, float *s, const void *vw, const void *va);
#pragma push_macro("EA_FN")
#undef EA_FN
#define EA_FN ea_gemm_edge_dot
#include "dot-q2_K-q8_K.h"
#pragma pop_macro("EA_FN")

void EA_FN(int64_t k, int64_t m, int64_t n, float *s, int64_t lds, const void *vw, size_t ws, const void *va,
           size_t as) {
    const char *wb = (const char *)vw, *ab = (const char *)va;
    const int64_t nb = k / QK_K;
    const int64_t m4 = m & ~(int64_t)3, n4 = n & ~(int64_t)3;
    const uint8x16_t m3 = vdupq_n_u8(3);
    for (int64_t i = 0; i < m4; i += 4) {
        const block_q8_K *a[4];
        for (int r = 0; r < 4; r++) a[r] = (const block_q8_K *)(ab + (size_t)(i + r) * as);
        for (int64_t j = 0; j < n4; j += 4) {
            const block_q2_K *w[4];
            for (int c = 0; c < 4; c++) w[c] = (const block_q2_K *)(wb + (size_t)(j + c) * ws);
            float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
            for (int64_t b = 0; b < nb; b++) {
                int32x4_t isum[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
                for (int h = 0; h < 2; h++)
                    for (int l = 0; l < 32; l += 16)
                        for (int t = 0; t < 4; t++) {
                            const int e0 = 128 * h + 32 * t + l; /* first element; sub-block e0 / 16 */
                            const int8x16_t sh = vdupq_n_s8((int8_t)(-2 * t));
                            int8x16_t q[4];
                            int32_t scv[4];
                            for (int c = 0; c < 4; c++) {
                                q[c] = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(vld1q_u8(w[c][b].qs + 32 * h + l), sh), m3));
                                scv[c] = w[c][b].scales[e0 / 16] & 0x0f;
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
                /* mins: m_c[j] (high nibbles of scales) against each row's 16 bsums */
                int16x8_t mn0[4], mn1[4];
                float dw[4], dmw[4];
                for (int c = 0; c < 4; c++) {
                    const uint8x16_t hi = vshrq_n_u8(vld1q_u8(w[c][b].scales), 4);
                    mn0[c] = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(hi)));
                    mn1[c] = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(hi)));
                    dw[c] = ea_h2f(w[c][b].d);
                    dmw[c] = ea_h2f(w[c][b].dmin);
                }
                const float32x4_t vdw = vld1q_f32(dw), vdm = vld1q_f32(dmw);
                for (int r = 0; r < 4; r++) {
                    const int16x8_t bs0 = vld1q_s16(a[r][b].bsums), bs1 = vld1q_s16(a[r][b].bsums + 8);
                    int32_t sm[4];
                    for (int c = 0; c < 4; c++) sm[c] = ea_dot_s16x8(mn0[c], bs0) + ea_dot_s16x8(mn1[c], bs1);
                    const float32x4_t t = vsubq_f32(vmulq_f32(vcvtq_f32_s32(isum[r]), vdw),
                                                    vmulq_f32(vcvtq_f32_s32(vld1q_s32(sm)), vdm));
                    acc[r] = vfmaq_n_f32(acc[r], t, a[r][b].d);
                }
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
