/* AVX2 tile kernel for the 32-element block formats (q4_0, q5_0, q8_0 with q8_0 activations; q4_1,
 * q5_1 with q8_1): each weight block is unpacked once and multiplied with up to 4 activation rows, whose
 * per-block int32 partial sums are scaled by d_w * d_a and accumulated in float (two accumulators
 * per row, even / odd blocks, to hide the FMA latency). One horizontal sum per output. */
#ifndef EDGEAI_X86_AVX2_GEMM_H
#define EDGEAI_X86_AVX2_GEMM_H

#include "avx2-blocks.h"

enum { EA256_Q4_0, EA256_Q8_0, EA256_Q4_1, EA256_Q5_0, EA256_Q5_1 };

/* q5 high bits: bit j of the little-endian qh word -> 0x10 in byte j (element j) */
static inline __m256i ea256_qh_bits(const uint8_t *qh) {
    uint32_t h;
    memcpy(&h, qh, 4);
    /* byte j takes qh byte j / 8 (lane 0: bytes 0, 1; lane 1: bytes 2, 3), then tests bit j % 8 */
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)h),
        _mm256_setr_epi64x(0, 0x0101010101010101LL, 0x0202020202020202LL, 0x0303030303030303LL));
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(0x10));
}

static inline __attribute__((always_inline)) void ea256_rows(const int fmt, const int C, int64_t nb,
                                                             const uint8_t *w, const uint8_t *const *a, float *out) {
    /* weight block bytes, offset of the quants, of qh (q5), whether it has a min m (q8_1 activations) */
    const int WB = fmt == EA256_Q4_0 ? 18 : fmt == EA256_Q8_0 ? 34 : fmt == EA256_Q4_1 ? 20 : fmt == EA256_Q5_0 ? 22 : 24;
    const int WQ = fmt == EA256_Q4_0 || fmt == EA256_Q8_0 ? 2 : fmt == EA256_Q4_1 ? 4 : fmt == EA256_Q5_0 ? 6 : 8;
    const int WH = fmt == EA256_Q5_0 ? 2 : 4;
    const int MIN = fmt == EA256_Q4_1 || fmt == EA256_Q5_1;
    const int AB = MIN ? 36 : 34, AQ = MIN ? 4 : 2;
    __m256 acc[4][2];
    float ms[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *wb = w + b * WB;
        const int par = (int)(b & 1);
        __m256i wv = fmt == EA256_Q8_0 ? _mm256_loadu_si256((const __m256i *)(wb + WQ)) : ea256_nibbles(wb + WQ);
        if (fmt == EA256_Q5_0 || fmt == EA256_Q5_1) wv = _mm256_or_si256(wv, ea256_qh_bits(wb + WH));
        ea_fp16 h16;
        memcpy(&h16, wb, 2);
        const float dw = ea256_h2f(h16);
        float mw = 0.0f;
        if (MIN) {
            memcpy(&h16, wb + 2, 2);
            mw = ea256_h2f(h16);
        }
#pragma GCC unroll 4
        for (int r = 0; r < C; r++) {
            const uint8_t *ab = a[r] + b * AB;
            const __m256i av = _mm256_loadu_si256((const __m256i *)(ab + AQ));
            const __m256i iv = fmt == EA256_Q4_0 ? ea256_dot_off(wv, av, 8)
                             : fmt == EA256_Q5_0 ? ea256_dot_off(wv, av, 16)
                             : fmt == EA256_Q8_0 ? ea256_dot_ss(wv, av) : ea256_dot_us(wv, av);
            memcpy(&h16, ab, 2);
            const float sc = dw * ea256_h2f(h16);
            acc[r][par] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(iv), _mm256_set1_ps(sc), acc[r][par]);
            if (MIN) {
                memcpy(&h16, ab + 2, 2);
                ms[r] += mw * ea256_h2f(h16);
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) out[r] = ea256_hsum(_mm256_add_ps(acc[r][0], acc[r][1])) + ms[r];
}

#include "avx2-gemv.h" /* uses ea256_rows for tails */

/* The ea_gemm_fn contract: s[i*lds + j] = dot(w row j, a row i), i < m, j < n. */
static inline __attribute__((always_inline)) void ea256_gemm(const int fmt, int64_t k, int64_t m, int64_t n, float *s,
                                                             int64_t lds, const void *w, size_t ws, const void *a,
                                                             size_t as) {
    if (m == 1) { /* decode: avx2-gemv.h */
        ea256_gemv(fmt, k, n, s, w, ws, a);
        return;
    }
    const int64_t nb = k / 32;
    for (int64_t i0 = 0; i0 < m; i0 += 4) {
        const int C = m - i0 < 4 ? (int)(m - i0) : 4;
        const uint8_t *ar[4];
        for (int r = 0; r < 4; r++) ar[r] = (const uint8_t *)a + (size_t)(i0 + (r < C ? r : 0)) * as;
        for (int64_t j = 0; j < n; j++) {
            const uint8_t *wr = (const uint8_t *)w + (size_t)j * ws;
            float out[4];
            switch (C) {
            case 1: ea256_rows(fmt, 1, nb, wr, ar, out); break;
            case 2: ea256_rows(fmt, 2, nb, wr, ar, out); break;
            case 3: ea256_rows(fmt, 3, nb, wr, ar, out); break;
            default: ea256_rows(fmt, 4, nb, wr, ar, out); break;
            }
            for (int r = 0; r < C; r++) s[(i0 + r) * lds + j] = out[r];
        }
    }
}

#endif
