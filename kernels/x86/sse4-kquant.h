/* SSSE3 + SSE4.1 K-quant kernels (q4_K, q6_K with q8_K activations) for C = 1..4 activation rows,
 * the 128-bit form of avx2-kquant.h: each super-block is unpacked once per group of rows;
 * pmaddubsw (quants x int8) then pmaddwd against the sub-block scales, int32 over the super-block,
 * one float multiply-add with d_w * d_a (no FMA on these CPUs). ref: ggml-common.h block_q4_K, block_q6_K */
#ifndef EDGEAI_X86_SSE4_KQUANT_H
#define EDGEAI_X86_SSE4_KQUANT_H

#include <smmintrin.h>
#include "../blocks.h"
#include "kquant-scales.h"

static inline float ea128_hsum_ps(__m128 r) {
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

static inline __attribute__((always_inline)) void ea128_q4K_rows(const int C, int64_t nb, const block_q4_K *w,
                                                                 const block_q8_K *const *a, float *out) {
    const __m128i m0f = _mm_set1_epi8(0x0f);
    __m128 acc[4];
    float mins[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) acc[r] = _mm_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        uint8_t sc[8], mn[8];
        ea_k4_scales(w[b].scales, sc, mn);
        const float dw = ea_fp16_to_f32(w[b].d), dmin = ea_fp16_to_f32(w[b].dmin);
        __m128i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < C; r++) {
            int32_t msum = 0;
            for (int j = 0; j < 8; j++) msum += (int32_t)mn[j] * (a[r][b].bsums[2 * j] + a[r][b].bsums[2 * j + 1]);
            mins[r] += dmin * a[r][b].d * (float)msum;
            isum[r] = _mm_setzero_si128();
        }
        for (int g = 0; g < 4; g++) { /* qs[32g .. 32g+31]: low nibbles sub-block 2g, high 2g+1 */
            const __m128i s0 = _mm_set1_epi16(sc[2 * g]), s1 = _mm_set1_epi16(sc[2 * g + 1]);
            for (int half = 0; half < 2; half++) {
                const __m128i v = _mm_loadu_si128((const __m128i *)(w[b].qs + 32 * g + 16 * half));
                const __m128i lo = _mm_and_si128(v, m0f), hi = _mm_and_si128(_mm_srli_epi16(v, 4), m0f);
#pragma GCC unroll 4
                for (int r = 0; r < C; r++) {
                    const int8_t *aq = a[r][b].qs + 64 * g + 16 * half;
                    const __m128i p0 = _mm_maddubs_epi16(lo, _mm_loadu_si128((const __m128i *)aq));
                    const __m128i p1 = _mm_maddubs_epi16(hi, _mm_loadu_si128((const __m128i *)(aq + 32)));
                    isum[r] = _mm_add_epi32(isum[r], _mm_add_epi32(_mm_madd_epi16(p0, s0), _mm_madd_epi16(p1, s1)));
                }
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < C; r++)
            acc[r] = _mm_add_ps(acc[r], _mm_mul_ps(_mm_cvtepi32_ps(isum[r]), _mm_set1_ps(dw * a[r][b].d)));
    }
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) out[r] = ea128_hsum_ps(acc[r]) - mins[r];
}

static inline __attribute__((always_inline)) void ea128_q5K_rows(const int C, int64_t nb, const block_q5_K *w,
                                                                 const block_q8_K *const *a, float *out) {
    const __m128i m0f = _mm_set1_epi8(0x0f), m10 = _mm_set1_epi8(0x10);
    __m128 acc[4];
    float mins[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) acc[r] = _mm_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        uint8_t sc[8], mn[8];
        ea_k4_scales(w[b].scales, sc, mn);
        const float dw = ea_fp16_to_f32(w[b].d), dmin = ea_fp16_to_f32(w[b].dmin);
        __m128i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < C; r++) {
            int32_t msum = 0;
            for (int j = 0; j < 8; j++) msum += (int32_t)mn[j] * (a[r][b].bsums[2 * j] + a[r][b].bsums[2 * j + 1]);
            mins[r] += dmin * a[r][b].d * (float)msum;
            isum[r] = _mm_setzero_si128();
        }
        for (int g = 0; g < 4; g++) { /* qs[32g .. 32g+31]: low nibbles sub-block 2g, high 2g+1 */
            const __m128i s0 = _mm_set1_epi16(sc[2 * g]), s1 = _mm_set1_epi16(sc[2 * g + 1]);
            for (int half = 0; half < 2; half++) {
                const __m128i v = _mm_loadu_si128((const __m128i *)(w[b].qs + 32 * g + 16 * half));
                const __m128i qh = _mm_loadu_si128((const __m128i *)(w[b].qh + 16 * half));
                /* fifth bits: bit 2g of qh[l] for element 64g + l, bit 2g+1 for element 64g + 32 + l */
                const __m128i lo = _mm_or_si128(_mm_and_si128(v, m0f),
                                                _mm_and_si128(_mm_slli_epi16(_mm_srli_epi16(qh, 2 * g), 4), m10));
                const __m128i hi = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(v, 4), m0f),
                                                _mm_and_si128(_mm_slli_epi16(_mm_srli_epi16(qh, 2 * g + 1), 4), m10));
#pragma GCC unroll 4
                for (int r = 0; r < C; r++) {
                    const int8_t *aq = a[r][b].qs + 64 * g + 16 * half;
                    const __m128i p0 = _mm_maddubs_epi16(lo, _mm_loadu_si128((const __m128i *)aq));
                    const __m128i p1 = _mm_maddubs_epi16(hi, _mm_loadu_si128((const __m128i *)(aq + 32)));
                    isum[r] = _mm_add_epi32(isum[r], _mm_add_epi32(_mm_madd_epi16(p0, s0), _mm_madd_epi16(p1, s1)));
                }
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < C; r++)
            acc[r] = _mm_add_ps(acc[r], _mm_mul_ps(_mm_cvtepi32_ps(isum[r]), _mm_set1_ps(dw * a[r][b].d)));
    }
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) out[r] = ea128_hsum_ps(acc[r]) - mins[r];
}

static inline __attribute__((always_inline)) void ea128_q6K_rows(const int C, int64_t nb, const block_q6_K *w,
                                                                 const block_q8_K *const *a, float *out) {
    const __m128i m0f = _mm_set1_epi8(0x0f), m03 = _mm_set1_epi8(0x03);
    __m128 acc[4];
    float corr[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) acc[r] = _mm_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const int8_t *sc = w[b].scales;
        const __m128i sc_lo = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)sc));
        const __m128i sc_hi = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(sc + 8)));
        const float dw = ea_fp16_to_f32(w[b].d);
        __m128i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < C; r++) {
            __m128i o = _mm_add_epi32(_mm_madd_epi16(sc_lo, _mm_loadu_si128((const __m128i *)a[r][b].bsums)),
                                      _mm_madd_epi16(sc_hi, _mm_loadu_si128((const __m128i *)(a[r][b].bsums + 8))));
            o = _mm_hadd_epi32(o, o);
            o = _mm_hadd_epi32(o, o);
            corr[r] += dw * a[r][b].d * (float)(32 * _mm_cvtsi128_si32(o));
            isum[r] = _mm_setzero_si128();
        }
        for (int h = 0; h < 2; h++) {
            for (int half = 0; half < 2; half++) { /* elements 128h + 16*half + {0, 32, 64, 96} + 0..15 */
                const int o = 16 * half;
                const __m128i L0 = _mm_loadu_si128((const __m128i *)(w[b].ql + 64 * h + o));
                const __m128i L1 = _mm_loadu_si128((const __m128i *)(w[b].ql + 64 * h + 32 + o));
                const __m128i H = _mm_loadu_si128((const __m128i *)(w[b].qh + 32 * h + o));
                __m128i q[4];
                q[0] = _mm_or_si128(_mm_and_si128(L0, m0f), _mm_slli_epi16(_mm_and_si128(H, m03), 4));
                q[1] = _mm_or_si128(_mm_and_si128(L1, m0f), _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(H, 2), m03), 4));
                q[2] = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(L0, 4), m0f),
                                    _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(H, 4), m03), 4));
                q[3] = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(L1, 4), m0f),
                                    _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(H, 6), m03), 4));
#pragma GCC unroll 4
                for (int r = 0; r < C; r++) {
                    const int8_t *aq = a[r][b].qs + 128 * h + o;
                    for (int i = 0; i < 4; i++) { /* 16 elements = sub-block 8h + 2i + half */
                        const __m128i p = _mm_maddubs_epi16(q[i], _mm_loadu_si128((const __m128i *)(aq + 32 * i)));
                        isum[r] = _mm_add_epi32(isum[r], _mm_madd_epi16(p, _mm_set1_epi16(sc[8 * h + 2 * i + half])));
                    }
                }
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < C; r++)
            acc[r] = _mm_add_ps(acc[r], _mm_mul_ps(_mm_cvtepi32_ps(isum[r]), _mm_set1_ps(dw * a[r][b].d)));
    }
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) out[r] = ea128_hsum_ps(acc[r]) - corr[r];
}

#endif
