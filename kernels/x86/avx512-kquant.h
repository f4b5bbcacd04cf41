/* AVX-512 VNNI K-quant kernel (q6_K with q8_K activations), written once for C = 1..4 activation
 * rows: each 256-element weight super-block is unpacked once (6-bit quants regrouped into
 * sub-block order, scale vectors built) and multiplied with every row, so a gemm tile reuses the
 * unpacking across its activation rows; the dot is the C = 1 case.
 * q6_K: per half super-block, 64 low-nibble bytes and 32 bytes of 2-bit highs make two zmm of
 * 6-bit quants (0..63, unsigned) in element order; lanes (4 per 16-element sub-block) scaled by
 * the int8 scale; the -32 offset once per super-block: 32 * sum(scale_j * bsum_j).
 * q4_K and q5_K are not here: their avx512vnni files compile avx2-kquant.h's templates (with the
 * EVEX ymm vpdpwssd), which measured faster on Zen 4 than the zmm kernels this file held for them
 * (see gemm-q4_K-q8_K-avx512vnni.c).
 * ref: ggml-common.h block_q6_K */
#ifndef EDGEAI_X86_AVX512_KQUANT_H
#define EDGEAI_X86_AVX512_KQUANT_H

#include <immintrin.h>
#include "../blocks.h"

/* the 256 6-bit quants (0..63, unsigned; the -32 offset is the caller's) of a q6_K super-block in
 * element order, 64 per zmm; shared with avx512-kpanel.h's pack */
static inline __attribute__((always_inline)) void ea512_q6K_quants(const block_q6_K *x, __m512i Q[4]) {
    const __m512i m0f = _mm512_set1_epi8(0x0f), m03 = _mm512_set1_epi8(0x03);
    for (int h = 0; h < 2; h++) {
        const __m512i L = _mm512_loadu_si512(x->ql + 64 * h);
        const __m256i H = _mm256_loadu_si256((const __m256i *)(x->qh + 32 * h));
        /* bytes 0..31: qh (high bits of elements 0..31), 32..63: qh >> 2 (elements 32..63) */
        const __m512i hz = _mm512_inserti64x4(_mm512_castsi256_si512(H), _mm256_srli_epi16(H, 2), 1);
        Q[2 * h] = _mm512_or_si512(_mm512_and_si512(L, m0f), _mm512_slli_epi16(_mm512_and_si512(hz, m03), 4));
        Q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(L, 4), m0f),
                                       _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(hz, 4), m03), 4));
    }
}

/* q6_K, one activation row (the decode GEMV): the C = 1 case of ea512_q6K_rows did 4 vpmulld per
 * super-block (int32 sums times the scales) and one horizontal sum for the -32 offset. Here
 * vpmaddubsw (6-bit quants 0..63 x int8: pairs within +-16128, no saturation) and vpdpwssd against
 * the int16 scales (vpermw, one per 64 elements) give the scaled int32 sums, in two chains; the
 * offset enters the first chain as vpmaddwd(32 scale, -bsums) (|32 scale| <= 4096, |bsum| <= 2048).
 * C harness, Zen 4, 1 thread, same process, old -> new: 2048 x 2048 from L1 18.5-20.6 -> 30 GB/s;
 * from memory 4096 x 4096 19.4-20.0 -> 25.4-25.8 GB/s (66% -> 85-87% of the streaming read),
 * 32000 x 2048 (an output head) 18.7-18.9 -> 24.5-24.8. Integer sums are the same. */
static inline __attribute__((always_inline)) float ea512_q6K_row1(int64_t nb, const block_q6_K *w, const block_q8_K *a) {
    /* int16 lane l of the scale vector of 64 elements starting at sub-block 4q: 4q + l / 8 */
    const __m512i ix0 = _mm512_set_epi64(0x0003000300030003LL, 0x0003000300030003LL, 0x0002000200020002LL, 0x0002000200020002LL,
                                         0x0001000100010001LL, 0x0001000100010001LL, 0x0000000000000000LL, 0x0000000000000000LL);
    const __m512i four = _mm512_set1_epi16(4);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        /* 16 int8 scales as int16, in both 256-bit halves' reach of vpermw */
        const __m256i s16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w[b].scales));
        const __m512i sc16 = _mm512_castsi256_si512(s16);
        __m512i Q[4];
        ea512_q6K_quants(&w[b], Q);
        const block_q8_K *ab = &a[b];
        /* -32 sum_j scale_j bsum_j: the bsums against -32 scale, int32 lanes 0-7 */
        __m512i i0 = _mm512_zextsi256_si512(_mm256_madd_epi16(_mm256_slli_epi16(s16, 5),
                                                              _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_loadu_si256((const __m256i *)ab->bsums))));
        __m512i i1 = _mm512_setzero_si512();
        __m512i ix = ix0;
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) {
            const __m512i S = _mm512_permutexvar_epi16(ix, sc16);
            ix = _mm512_add_epi16(ix, four);
            const __m512i p = _mm512_maddubs_epi16(Q[q], _mm512_loadu_si512(ab->qs + 64 * q));
            if (q & 1) i1 = _mm512_dpwssd_epi32(i1, p, S);
            else i0 = _mm512_dpwssd_epi32(i0, p, S);
        }
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(i0, i1)), _mm512_set1_ps(_cvtsh_ss(w[b].d) * ab->d), acc);
    }
    return _mm512_reduce_add_ps(acc);
}

static inline __attribute__((always_inline)) void ea512_q6K_rows(const int C, int64_t nb, const block_q6_K *w,
                                                                 const block_q8_K *const *a, float *out) {
    /* lane l of the scale vector of 64 elements starting at sub-block 4q: 4q + l / 4 */
    const __m512i ix0 = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    const __m512i four = _mm512_set1_epi32(4);
    __m512 acc[4];
    float corr[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) acc[r] = _mm512_setzero_ps();
    if (C == 1) {
        out[0] = ea512_q6K_row1(nb, w, a[0]);
        return;
    }
    for (int64_t b = 0; b < nb; b++) {
        const __m512i sc32 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)w[b].scales));
        __m512i Q[4], S[4];
        ea512_q6K_quants(&w[b], Q);
        __m512i ix = ix0;
        for (int h = 0; h < 2; h++) {
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
