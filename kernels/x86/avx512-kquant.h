/* AVX-512 VNNI K-quant kernels (q4_K, q6_K with q8_K activations), written once for C = 1..4
 * activation rows: each 256-element weight super-block is unpacked once (nibbles / 6-bit quants
 * regrouped into sub-block order, scale vectors built) and multiplied with every row, so a gemm
 * tile reuses the unpacking across its activation rows; the dot is the C = 1 case.
 *
 * q4_K: the 128 quant bytes are two zmm; their low / high nibbles are regrouped (vshufi64x2) so each
 * vpdpbusd covers 64 contiguous activations; int32 lanes (8 per 32-element sub-block) are scaled
 * by the sub-block's 6-bit scale (vpmulld), summed in int32 over the super-block, then one FMA with
 * d_w * d_a. Mins: dmin * d_a * sum(m_j * bsum_j) from the activation block sums.
 * q6_K: per half super-block, 64 low-nibble bytes and 32 bytes of 2-bit highs make two zmm of
 * 6-bit quants (0..63, unsigned) in element order; lanes (4 per 16-element sub-block) scaled by
 * the int8 scale; the -32 offset once per super-block: 32 * sum(scale_j * bsum_j).
 * ref: ggml-common.h block_q4_K, block_q6_K */
#ifndef EDGEAI_X86_AVX512_KQUANT_H
#define EDGEAI_X86_AVX512_KQUANT_H

#include <immintrin.h>
#include "../blocks.h"
#include "avx2-kquant.h" /* ea256_k4_mins16, ea256_k4_msum: the mins term, one vpmaddwd */

static inline __attribute__((always_inline)) void ea512_q4K_rows(const int C, int64_t nb, const block_q4_K *w,
                                                                 const block_q8_K *const *a, float *out) {
    const __m512i m0f = _mm512_set1_epi8(0x0f);
    /* lane l of the scale vector of sub-block pair (2p, 2p+1): 2p + l / 8 */
    const __m512i ix0 = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i two = _mm512_set1_epi32(2);
    __m512 acc[4];
    float mins[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) acc[r] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        uint64_t sc, mn; /* byte j: sub-block j's scale / min */
        ea_k4_scales64(w[b].scales, &sc, &mn);
        const __m256i mn16 = ea256_k4_mins16(mn);
        const __m512i sc32 = _mm512_cvtepu8_epi32(_mm_cvtsi64_si128((long long)sc));
        __m512i W[4], S[4];
        __m512i ix = ix0;
        for (int g = 0; g < 2; g++) {
            const __m512i v = _mm512_loadu_si512(w[b].qs + 64 * g);
            const __m512i lo = _mm512_and_si512(v, m0f), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m0f);
            W[2 * g] = _mm512_shuffle_i64x2(lo, hi, 0x44);     /* sub-blocks 4g, 4g+1 */
            W[2 * g + 1] = _mm512_shuffle_i64x2(lo, hi, 0xee); /* sub-blocks 4g+2, 4g+3 */
            S[2 * g] = _mm512_permutexvar_epi32(ix, sc32);
            ix = _mm512_add_epi32(ix, two);
            S[2 * g + 1] = _mm512_permutexvar_epi32(ix, sc32);
            ix = _mm512_add_epi32(ix, two);
        }
        const float dw = ea_fp16_to_f32(w[b].d), dmin = ea_fp16_to_f32(w[b].dmin);
#pragma GCC unroll 4
        for (int r = 0; r < C; r++) {
            const block_q8_K *ab = &a[r][b];
            mins[r] += dmin * ab->d * (float)ea256_k4_msum(mn16, ab->bsums);
            __m512i isum = _mm512_setzero_si512();
            for (int q = 0; q < 4; q++) {
                const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), W[q], _mm512_loadu_si512(ab->qs + 64 * q));
                isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(p, S[q]));
            }
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(dw * ab->d), acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) out[r] = _mm512_reduce_add_ps(acc[r]) - mins[r];
}

static inline __attribute__((always_inline)) void ea512_q5K_rows(const int C, int64_t nb, const block_q5_K *w,
                                                                 const block_q8_K *const *a, float *out) {
    const __m512i m0f = _mm512_set1_epi8(0x0f), m10 = _mm512_set1_epi8(0x10);
    /* lane l of the scale vector of sub-block pair (2p, 2p+1): 2p + l / 8 */
    const __m512i ix0 = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i two = _mm512_set1_epi32(2);
    __m512 acc[4];
    float mins[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) acc[r] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        uint64_t sc, mn; /* byte j: sub-block j's scale / min */
        ea_k4_scales64(w[b].scales, &sc, &mn);
        const __m256i mn16 = ea256_k4_mins16(mn);
        const __m256i qh = _mm256_loadu_si256((const __m256i *)w[b].qh);
        /* [qh, qh >> 2]: bytes 32..63 see the bits of the next nibble group */
        const __m512i qh2 = _mm512_inserti64x4(_mm512_castsi256_si512(qh), _mm256_srli_epi16(qh, 2), 1);
        const __m512i sc32 = _mm512_cvtepu8_epi32(_mm_cvtsi64_si128((long long)sc));
        __m512i W[4], S[4];
        __m512i ix = ix0;
        for (int g = 0; g < 2; g++) {
            const __m512i v = _mm512_loadu_si512(w[b].qs + 64 * g);
            const __m512i hb = _mm512_srli_epi16(qh2, 4 * g);
            const __m512i lo = _mm512_or_si512(_mm512_and_si512(v, m0f), _mm512_and_si512(_mm512_slli_epi16(hb, 4), m10));
            const __m512i hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(v, 4), m0f),
                                               _mm512_and_si512(_mm512_slli_epi16(hb, 3), m10));
            W[2 * g] = _mm512_shuffle_i64x2(lo, hi, 0x44);     /* sub-blocks 4g, 4g+1 */
            W[2 * g + 1] = _mm512_shuffle_i64x2(lo, hi, 0xee); /* sub-blocks 4g+2, 4g+3 */
            S[2 * g] = _mm512_permutexvar_epi32(ix, sc32);
            ix = _mm512_add_epi32(ix, two);
            S[2 * g + 1] = _mm512_permutexvar_epi32(ix, sc32);
            ix = _mm512_add_epi32(ix, two);
        }
        const float dw = ea_fp16_to_f32(w[b].d), dmin = ea_fp16_to_f32(w[b].dmin);
#pragma GCC unroll 4
        for (int r = 0; r < C; r++) {
            const block_q8_K *ab = &a[r][b];
            mins[r] += dmin * ab->d * (float)ea256_k4_msum(mn16, ab->bsums);
            __m512i isum = _mm512_setzero_si512();
            for (int q = 0; q < 4; q++) {
                const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), W[q], _mm512_loadu_si512(ab->qs + 64 * q));
                isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(p, S[q]));
            }
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(dw * ab->d), acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) out[r] = _mm512_reduce_add_ps(acc[r]) - mins[r];
}

static inline __attribute__((always_inline)) void ea512_q6K_rows(const int C, int64_t nb, const block_q6_K *w,
                                                                 const block_q8_K *const *a, float *out) {
    const __m512i m0f = _mm512_set1_epi8(0x0f), m03 = _mm512_set1_epi8(0x03);
    /* lane l of the scale vector of 64 elements starting at sub-block 4q: 4q + l / 4 */
    const __m512i ix0 = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    const __m512i four = _mm512_set1_epi32(4);
    __m512 acc[4];
    float corr[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) acc[r] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const __m512i sc32 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)w[b].scales));
        __m512i Q[4], S[4];
        __m512i ix = ix0;
        for (int h = 0; h < 2; h++) {
            const __m512i L = _mm512_loadu_si512(w[b].ql + 64 * h);
            const __m256i H = _mm256_loadu_si256((const __m256i *)(w[b].qh + 32 * h));
            /* bytes 0..31: qh (high bits of elements 0..31), 32..63: qh >> 2 (elements 32..63) */
            const __m512i hz = _mm512_inserti64x4(_mm512_castsi256_si512(H), _mm256_srli_epi16(H, 2), 1);
            Q[2 * h] = _mm512_or_si512(_mm512_and_si512(L, m0f), _mm512_slli_epi16(_mm512_and_si512(hz, m03), 4));
            Q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(L, 4), m0f),
                                           _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(hz, 4), m03), 4));
            S[2 * h] = _mm512_permutexvar_epi32(ix, sc32);
            ix = _mm512_add_epi32(ix, four);
            S[2 * h + 1] = _mm512_permutexvar_epi32(ix, sc32);
            ix = _mm512_add_epi32(ix, four);
        }
        const float dw = ea_fp16_to_f32(w[b].d);
#pragma GCC unroll 4
        for (int r = 0; r < C; r++) {
            const block_q8_K *ab = &a[r][b];
            const __m512i bs32 = _mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)ab->bsums));
            const float d = dw * ab->d;
            corr[r] += d * (float)(32 * _mm512_reduce_add_epi32(_mm512_mullo_epi32(sc32, bs32)));
            __m512i isum = _mm512_setzero_si512();
            for (int q = 0; q < 4; q++) {
                const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), Q[q], _mm512_loadu_si512(ab->qs + 64 * q));
                isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(p, S[q]));
            }
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(d), acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) out[r] = _mm512_reduce_add_ps(acc[r]) - corr[r];
}

/* gemm over any m x n: weight rows outer, activation rows in groups of 4 */
#define EA512_KQ_GEMM(ROWS, WT, k, m, n, s, lds, w, ws, a, as)                                          \
    do {                                                                                               \
        for (int64_t i0 = 0; i0 < (m); i0 += 4) {                                                      \
            const int C = (m) - i0 < 4 ? (int)((m) - i0) : 4;                                          \
            const block_q8_K *ar[4];                                                                   \
            for (int r = 0; r < 4; r++)                                                                \
                ar[r] = (const block_q8_K *)((const uint8_t *)(a) + (size_t)(i0 + (r < C ? r : 0)) * (as)); \
            for (int64_t j = 0; j < (n); j++) {                                                        \
                const WT *wr = (const WT *)((const uint8_t *)(w) + (size_t)j * (ws));                  \
                float out[4];                                                                          \
                switch (C) {                                                                           \
                case 1: ROWS(1, (k) / QK_K, wr, ar, out); break;                                       \
                case 2: ROWS(2, (k) / QK_K, wr, ar, out); break;                                       \
                case 3: ROWS(3, (k) / QK_K, wr, ar, out); break;                                       \
                default: ROWS(4, (k) / QK_K, wr, ar, out); break;                                      \
                }                                                                                      \
                for (int r = 0; r < C; r++) (s)[(i0 + r) * (lds) + j] = out[r];                        \
            }                                                                                          \
        }                                                                                              \
    } while (0)

#endif
