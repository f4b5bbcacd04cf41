/* SSSE3 + SSE4.1 GEMV (one activation row) for q4_0, q4_1 and q8_0 weights: the decode case on
 * 2008-2013 PCs. The plan of avx2-gemv.h in 128-bit registers: per weight row, groups of 8 blocks;
 * each block's integer dot as 4 x int32 (pmaddubsw + pmaddwd), phaddd to 4 block sums per register,
 * the scales of 8 blocks applied with two mul + add (no FMA, no F16C here: the fp16 d's are
 * converted 4 at a time with integer ops, ea128_h2f4). The activation side (d_a, q4_0's -8 sum(a), q4_1's s) is
 * prepared once per call. Integer block sums are exact; only the float summation order differs
 * from the reference. Included by sse4-blocks.h after ea128_rows. */
#ifndef EDGEAI_X86_SSE4_GEMV_H
#define EDGEAI_X86_SSE4_GEMV_H

#include <stdalign.h>
#include "tail8.h"

#define EA128_GEMV_MAXG 128  /* groups of 8 blocks the stack prep holds: K <= 32768 */
#define EA128_GEMV_PF 1536   /* prefetch distance in bytes, as avx2-gemv.h */

typedef struct {
    alignas(16) float da[EA128_GEMV_MAXG][8];     /* d_a */
    alignas(16) int32_t corr[EA128_GEMV_MAXG][8]; /* q4_0: -8 sum(a) */
    alignas(16) float s[EA128_GEMV_MAXG][8];      /* q4_1: s of the q8_1 block */
} ea128_gemv_prep;

/* nb activation blocks -> ceil(nb / 8) groups, the last one zero-padded */
static inline __attribute__((always_inline)) void ea128_gemv_prep_fill(const int fmt, int64_t nb, const uint8_t *a,
                                                                       ea128_gemv_prep *P) {
    const int AB = fmt == EA128_Q4_1 ? 36 : 34, AQ = fmt == EA128_Q4_1 ? 4 : 2;
    const int64_t ng = (nb + 7) / 8;
    if (nb % 8) {
        memset(P->da[ng - 1], 0, sizeof P->da[0]);
        memset(P->corr[ng - 1], 0, sizeof P->corr[0]);
        memset(P->s[ng - 1], 0, sizeof P->s[0]);
    }
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *ab = a + b * AB;
        ea_fp16 h;
        memcpy(&h, ab, 2);
        P->da[b / 8][b % 8] = ea_fp16_to_f32(h);
        if (fmt == EA128_Q4_1) {
            memcpy(&h, ab + 2, 2);
            P->s[b / 8][b % 8] = ea_fp16_to_f32(h);
        }
        if (fmt == EA128_Q4_0) {
            const __m128i e8 = _mm_set1_epi8(8), one = _mm_set1_epi16(1);
            __m128i s4 = _mm_add_epi32(_mm_madd_epi16(_mm_maddubs_epi16(e8, _mm_loadu_si128((const __m128i *)(ab + AQ))), one),
                                       _mm_madd_epi16(_mm_maddubs_epi16(e8, _mm_loadu_si128((const __m128i *)(ab + AQ + 16))), one));
            s4 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 1));
            P->corr[b / 8][b % 8] = -_mm_cvtsi128_si32(s4);
        }
    }
}

/* 4 fp16 (zero-extended in 32-bit lanes) -> 4 float, exact: the exponent-and-mantissa bits moved to
 * float position and scaled by 2^112 give every finite value (subnormals too); inf / nan keep an
 * all-ones exponent. */
static inline __m128 ea128_h2f4(__m128i h) {
    const __m128i em = _mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x7fff)), 13);
    __m128 f = _mm_mul_ps(_mm_castsi128_ps(em), _mm_castsi128_ps(_mm_set1_epi32(0x77800000))); /* 2^112 */
    const __m128i infnan = _mm_cmpeq_epi32(_mm_and_si128(h, _mm_set1_epi32(0x7c00)), _mm_set1_epi32(0x7c00));
    f = _mm_blendv_ps(f, _mm_castsi128_ps(_mm_or_si128(em, _mm_set1_epi32(0x7f800000))), _mm_castsi128_ps(infnan));
    return _mm_or_ps(f, _mm_castsi128_ps(_mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x8000)), 16)));
}

/* nt (<= 8) fp16 at base + i * stride -> two registers of 4 floats, 0 past nt */
static inline __attribute__((always_inline)) void ea128_gather_h8(const uint8_t *base, int stride, const int nt,
                                                                  __m128 *lo, __m128 *hi) {
    uint16_t h[8] = {0, 0, 0, 0, 0, 0, 0, 0};
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++)
        if (i < nt) memcpy(&h[i], base + i * stride, 2);
    const uint64_t a = h[0] | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 32 | (uint64_t)h[3] << 48;
    const uint64_t b = h[4] | (uint64_t)h[5] << 16 | (uint64_t)h[6] << 32 | (uint64_t)h[7] << 48;
    *lo = ea128_h2f4(_mm_cvtepu16_epi32(_mm_cvtsi64_si128((long long)a)));
    *hi = ea128_h2f4(_mm_cvtepu16_epi32(_mm_cvtsi64_si128((long long)b)));
}

/* one block's dot as 4 int32 partial sums (q4_0 without its -8 sum(a) correction) */
static inline __attribute__((always_inline)) __m128i ea128_gemv_block(const int fmt, const uint8_t *wb, const uint8_t *ab) {
    const __m128i one = _mm_set1_epi16(1);
    if (fmt == EA128_Q8_0) {
        const __m128i w0 = _mm_loadu_si128((const __m128i *)(wb + 2)), w1 = _mm_loadu_si128((const __m128i *)(wb + 18));
        const __m128i a0 = _mm_loadu_si128((const __m128i *)(ab + 2)), a1 = _mm_loadu_si128((const __m128i *)(ab + 18));
        /* int16 pairs reach 2 * 128 * 127: widen each half before adding */
        return _mm_add_epi32(_mm_madd_epi16(_mm_maddubs_epi16(_mm_sign_epi8(w0, w0), _mm_sign_epi8(a0, w0)), one),
                             _mm_madd_epi16(_mm_maddubs_epi16(_mm_sign_epi8(w1, w1), _mm_sign_epi8(a1, w1)), one));
    }
    const int WQ = fmt == EA128_Q4_0 ? 2 : 4, AQ = fmt == EA128_Q4_0 ? 2 : 4;
    const __m128i m4 = _mm_set1_epi8(0x0f);
    const __m128i q = _mm_loadu_si128((const __m128i *)(wb + WQ));
    const __m128i lo = _mm_and_si128(q, m4), hi = _mm_and_si128(_mm_srli_epi16(q, 4), m4);
    /* 15 * 127 * 2 per int16 pair, twice: fits */
    const __m128i s16 = _mm_add_epi16(_mm_maddubs_epi16(lo, _mm_loadu_si128((const __m128i *)(ab + AQ))),
                                      _mm_maddubs_epi16(hi, _mm_loadu_si128((const __m128i *)(ab + AQ + 16))));
    return _mm_madd_epi16(s16, one);
}

/* 4 block sums of blocks b0 .. b0+3 of a row (0 past nt) */
static inline __attribute__((always_inline)) __m128i ea128_gemv_quad(const int fmt, const uint8_t *w, const uint8_t *a,
                                                                     int b0, const int nt) {
    const int WB = fmt == EA128_Q4_0 ? 18 : fmt == EA128_Q8_0 ? 34 : 20;
    const int AB = fmt == EA128_Q4_1 ? 36 : 34;
    __m128i p[4];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++)
        p[i] = b0 + i < nt ? ea128_gemv_block(fmt, w + (b0 + i) * WB, a + (b0 + i) * AB) : _mm_setzero_si128();
    return _mm_hadd_epi32(_mm_hadd_epi32(p[0], p[1]), _mm_hadd_epi32(p[2], p[3]));
}

/* group g of a row: nt (<= 8) blocks, a compile-time constant at every call site */
static inline __attribute__((always_inline)) void ea128_gemv_grp(const int fmt, const uint8_t *w, const uint8_t *a,
                                                                 const ea128_gemv_prep *P, int64_t g, const int nt,
                                                                 __m128 *acc, __m128 *accm) {
    const int WB = fmt == EA128_Q4_0 ? 18 : fmt == EA128_Q8_0 ? 34 : 20;
    const int AB = fmt == EA128_Q4_1 ? 36 : 34;
    const uint8_t *wg = w + g * 8 * WB, *ag = a + g * 8 * AB;
    if (nt == 8) {
#pragma GCC unroll 5
        for (int l = 0; l < (8 * WB + 63) / 64; l++) _mm_prefetch((const char *)wg + EA128_GEMV_PF + 64 * l, _MM_HINT_T0);
    }
    __m128 dw[2], mw[2] = {_mm_setzero_ps(), _mm_setzero_ps()};
    ea128_gather_h8(wg, WB, nt, &dw[0], &dw[1]);
    if (fmt == EA128_Q4_1) ea128_gather_h8(wg + 2, WB, nt, &mw[0], &mw[1]);
#pragma GCC unroll 2
    for (int half = 0; half < 2; half++) {
        if (4 * half >= nt) break;
        __m128i sums = ea128_gemv_quad(fmt, wg, ag, 4 * half, nt);
        if (fmt == EA128_Q4_0) sums = _mm_add_epi32(sums, _mm_load_si128((const __m128i *)&P->corr[g][4 * half]));
        const __m128 sc = _mm_mul_ps(dw[half], _mm_load_ps(&P->da[g][4 * half]));
        *acc = _mm_add_ps(*acc, _mm_mul_ps(_mm_cvtepi32_ps(sums), sc));
        if (fmt == EA128_Q4_1) *accm = _mm_add_ps(*accm, _mm_mul_ps(mw[half], _mm_load_ps(&P->s[g][4 * half])));
    }
}

/* one weight row: nb / 8 full groups, then a tail of nt = nb % 8 blocks (a constant per
 * instantiation, tail8.h) */
static inline __attribute__((always_inline)) float ea128_gemv_row(const int fmt, int64_t nb, const int nt, const uint8_t *w,
                                                                  const uint8_t *a, const ea128_gemv_prep *P) {
    __m128 acc = _mm_setzero_ps(), accm = _mm_setzero_ps();
    const int64_t ng = nb / 8;
    for (int64_t g = 0; g < ng; g++) ea128_gemv_grp(fmt, w, a, P, g, 8, &acc, &accm);
    if (nt) ea128_gemv_grp(fmt, w, a, P, ng, nt, &acc, &accm);
    return ea128_hsum(_mm_add_ps(acc, accm));
}

/* s[j] = dot(w row j, a), j < n */
static inline __attribute__((always_inline)) void ea128_gemv(const int fmt, int64_t k, int64_t n, float *s,
                                                             const void *w, size_t ws, const void *a) {
    const int64_t nb = k / 32;
    const int grouped = fmt == EA128_Q4_0 || fmt == EA128_Q4_1 || fmt == EA128_Q8_0;
    if (!grouped || (nb + 7) / 8 > EA128_GEMV_MAXG) {
        const uint8_t *const ar[1] = {(const uint8_t *)a};
        for (int64_t j = 0; j < n; j++) ea128_rows(fmt, 1, nb, (const uint8_t *)w + (size_t)j * ws, ar, &s[j]);
        return;
    }
    ea128_gemv_prep P;
    ea128_gemv_prep_fill(fmt, nb, (const uint8_t *)a, &P);
#define EA128_GEMV_ROWS(NT) \
    for (int64_t j = 0; j < n; j++) s[j] = ea128_gemv_row(fmt, nb, NT, (const uint8_t *)w + (size_t)j * ws, (const uint8_t *)a, &P)
    EA_TAIL8(nb % 8, EA128_GEMV_ROWS)
#undef EA128_GEMV_ROWS
}

#endif
