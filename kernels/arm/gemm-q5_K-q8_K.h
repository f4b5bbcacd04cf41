/* Body of ea_gemm_q5_K_q8_K__{neon,neondot} (EA_FN named by the including file): 4 activation rows
 * x 4 weight rows of Q5_K . Q8_K, AArch64. The walk of gemm-q4_K-q8_K.h (sub-block dots folded
 * into lanes c, the 4 weight rows' scales in integer lanes, mins through the bsums) with the fifth
 * bit added at unpack: element l of sub-block sb takes bit sb of qh[l] as 0x10 (q + 16 h in
 * [0, 31]), so each weight row's sub-block is unpacked once for the 4 activation rows.
 * Edges (M % 4, N % 4) through this ISA's dot. ref: GGUF spec, block_q5_K */
#include "kquant_util.h"
#include "neon_util.h"

#ifndef EA_A64
#error "the gemm tiles need AArch64"
#endif

static void ea_gemm_edge_dot(int64_t k, float *s, const void *vw, const void *va);
#pragma push_macro("EA_FN")
#undef EA_FN
#define EA_FN ea_gemm_edge_dot
#include "dot-q5_K-q8_K.h"
#pragma pop_macro("EA_FN")

void EA_FN(int64_t k, int64_t m, int64_t n, float *s, int64_t lds, const void *vw, size_t ws, const void *va,
           size_t as) {
    const char *wb = (const char *)vw, *ab = (const char *)va;
    const int64_t nb = k / QK_K;
    const int64_t m4 = m & ~(int64_t)3, n4 = n & ~(int64_t)3;
    const uint8x16_t m4b = vdupq_n_u8(0x0f);
    const uint8x16_t b4 = vdupq_n_u8(0x10);
    for (int64_t i = 0; i < m4; i += 4) {
        const block_q8_K *a[4];
        for (int r = 0; r < 4; r++) a[r] = (const block_q8_K *)(ab + (size_t)(i + r) * as);
        for (int64_t j = 0; j < n4; j += 4) {
            const block_q5_K *w[4];
            for (int c = 0; c < 4; c++) w[c] = (const block_q5_K *)(wb + (size_t)(j + c) * ws);
            float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
            for (int64_t b = 0; b < nb; b++) {
                uint8_t sc[4][8], mn[4][8];
                float dw[4], dmw[4];
                for (int c = 0; c < 4; c++) {
                    ea_unpack_scales_k4(w[c][b].scales, sc[c], mn[c]);
                    dw[c] = ea_h2f(w[c][b].d);
                    dmw[c] = ea_h2f(w[c][b].dmin);
                }
                int32x4_t isum[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
                for (int sb = 0; sb < 8; sb++) {
                    /* sub-block sb: bytes 32*(sb/2) .. +31, low nibbles if sb is even */
                    int8x16_t w0[4], w1[4];
                    /* bit sb of qh[l] -> bit 4 (a right shift when sb > 4) */
                    const int8x16_t hsh = vdupq_n_s8((int8_t)(4 - sb));
                    for (int c = 0; c < 4; c++) {
                        const uint8x16_t q0 = vld1q_u8(w[c][b].qs + 32 * (sb / 2));
                        const uint8x16_t q1 = vld1q_u8(w[c][b].qs + 32 * (sb / 2) + 16);
                        const uint8x16_t h0 = vandq_u8(vshlq_u8(vld1q_u8(w[c][b].qh), hsh), b4);
                        const uint8x16_t h1 = vandq_u8(vshlq_u8(vld1q_u8(w[c][b].qh + 16), hsh), b4);
                        w0[c] = vreinterpretq_s8_u8(vorrq_u8((sb & 1) ? vshrq_n_u8(q0, 4) : vandq_u8(q0, m4b), h0));
                        w1[c] = vreinterpretq_s8_u8(vorrq_u8((sb & 1) ? vshrq_n_u8(q1, 4) : vandq_u8(q1, m4b), h1));
                    }
                    const int32_t scv[4] = {sc[0][sb], sc[1][sb], sc[2][sb], sc[3][sb]};
                    const int32x4_t vsc = vld1q_s32(scv);
                    for (int r = 0; r < 4; r++) {
                        const int8x16_t y0 = vld1q_s8(a[r][b].qs + 32 * sb), y1 = vld1q_s8(a[r][b].qs + 32 * sb + 16);
                        int32x4_t p0 = ea_dot_s8x2_small(vdupq_n_s32(0), w0[0], y0, w1[0], y1);
                        int32x4_t p1 = ea_dot_s8x2_small(vdupq_n_s32(0), w0[1], y0, w1[1], y1);
                        int32x4_t p2 = ea_dot_s8x2_small(vdupq_n_s32(0), w0[2], y0, w1[2], y1);
                        int32x4_t p3 = ea_dot_s8x2_small(vdupq_n_s32(0), w0[3], y0, w1[3], y1);
                        isum[r] = vmlaq_s32(isum[r], vpaddq_s32(vpaddq_s32(p0, p1), vpaddq_s32(p2, p3)), vsc);
                    }
                }
                const float32x4_t vdw = vld1q_f32(dw), vdm = vld1q_f32(dmw);
                for (int r = 0; r < 4; r++) {
                    const int16x8_t bs = ea_padd_s16(vld1q_s16(a[r][b].bsums), vld1q_s16(a[r][b].bsums + 8));
                    int32_t sm[4];
                    for (int c = 0; c < 4; c++)
                        sm[c] = ea_dot_s16x8(vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mn[c]))), bs);
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
