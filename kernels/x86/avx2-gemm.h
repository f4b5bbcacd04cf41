/* AVX2 tile kernel for the 32-element block formats (q4_0, q8_0 with q8_0 activations; q4_1 with
 * q8_1): each weight block is unpacked once and multiplied with up to 4 activation rows, whose
 * per-block int32 partial sums are scaled by d_w * d_a and accumulated in float (two accumulators
 * per row, even / odd blocks, to hide the FMA latency). One horizontal sum per output. */
#ifndef EDGEAI_X86_AVX2_GEMM_H
#define EDGEAI_X86_AVX2_GEMM_H

#include "avx2-blocks.h"

enum { EA256_Q4_0, EA256_Q8_0, EA256_Q4_1 };

static inline __attribute__((always_inline)) void ea256_rows(const int fmt, const int C, int64_t nb,
                                                             const uint8_t *w, const uint8_t *const *a, float *out) {
    const int WB = fmt == EA256_Q4_0 ? 18 : fmt == EA256_Q8_0 ? 34 : 20; /* weight block bytes */
    const int WQ = fmt == EA256_Q4_1 ? 4 : 2;                              /* quants offset */
    const int AB = fmt == EA256_Q4_1 ? 36 : 34, AQ = fmt == EA256_Q4_1 ? 4 : 2;
    __m256 acc[4][2];
    float ms[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *wb = w + b * WB;
        const int par = (int)(b & 1);
        const __m256i wv = fmt == EA256_Q8_0 ? _mm256_loadu_si256((const __m256i *)(wb + WQ)) : ea256_nibbles(wb + WQ);
        const float dw = ea256_h2f(*(const ea_fp16 *)wb);
        const float mw = fmt == EA256_Q4_1 ? ea256_h2f(*(const ea_fp16 *)(wb + 2)) : 0.0f;
#pragma GCC unroll 4
        for (int r = 0; r < C; r++) {
            const uint8_t *ab = a[r] + b * AB;
            const __m256i av = _mm256_loadu_si256((const __m256i *)(ab + AQ));
            const __m256i iv = fmt == EA256_Q4_0 ? ea256_dot_q4_0(wv, av)
                             : fmt == EA256_Q8_0 ? ea256_dot_ss(wv, av) : ea256_dot_us(wv, av);
            const float sc = dw * ea256_h2f(*(const ea_fp16 *)ab);
            acc[r][par] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(iv), _mm256_set1_ps(sc), acc[r][par]);
            if (fmt == EA256_Q4_1) ms[r] += mw * ea256_h2f(*(const ea_fp16 *)(ab + 2));
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) out[r] = ea256_hsum(_mm256_add_ps(acc[r][0], acc[r][1])) + ms[r];
}

/* The ea_gemm_fn contract: s[i*lds + j] = dot(w row j, a row i), i < m, j < n. */
static inline __attribute__((always_inline)) void ea256_gemm(const int fmt, int64_t k, int64_t m, int64_t n, float *s,
                                                             int64_t lds, const void *w, size_t ws, const void *a,
                                                             size_t as) {
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
