/* AVX-512 VNNI GEMV (one activation row) for q4_0, q4_1 and q8_0 weights: the LLM decode case.
 *
 * The plan of avx2-gemv.h (groups of 8 blocks along a row, the 8 block sums reduced to one vector,
 * the 8 scales applied at once, one horizontal sum per output) with two changes:
 *   - two weight rows per zmm: row j in the low 256 bits, row j + 1 in the high 256, against the
 *     same activations broadcast to both halves (vbroadcasti64x4 from memory: a load, no ALU op).
 *     Scale gathers, FMAs and the final horizontal sum then serve two rows, which matters for the
 *     short rows of small models (SmolLM2: K = 576, 2 groups + 2 blocks per row);
 *   - vpdpbusd (u8 x s8, 4 products summed into int32, no saturation) in place of
 *     vpmaddubsw + vpmaddwd: 4-bit nibbles go in as they are; q8_0 weights as w ^ 0x80 = w + 128,
 *     with -128 sum(a) per block added back (exact for every weight, -128 included).
 * AVX-512 has no vphaddd, so the block sums are reduced by 32/64-bit unpacks + adds (a transpose),
 * landing in avx2-gemv.h's reduced block order (4-bit: [0 2 4 6 | 1 3 5 7], 8-bit: [0..7]) so its
 * activation prep and scale gathers are reused as they are.
 * 4-bit rows longer than 1 KiB go to avx2-gemv.h's one row at a time (see ea512_gemv).
 * Integer block sums are exact; only the float summation order differs from the reference. */
#ifndef EDGEAI_X86_AVX512_GEMV_H
#define EDGEAI_X86_AVX512_GEMV_H

/* Prefetch 3 KiB ahead, not avx2-gemv.h's 1.5: TinyLlama-shape Q4_0 GEMVs over 2 MiB pages
 * (Sapphire Rapids, 2 cores) streamed 26.3-26.5 GB/s at 1.5 KiB, 27.4-28.4 at 3, 26.2-27.0 at
 * 4.5-6 and 24.5-25.0 at 0.75 (2 threads; 1 thread +1-2% at 3 KiB). Set before avx2-gemm.h
 * pulls in avx2-gemv.h, so only the AVX-512 kernels take it. */
#define EA256_GEMV_PF 3072
#include "avx2-gemm.h" /* ea256_gemv_prep, the scale gathers, ea256_gemv for what this file does not take */

/* two 256-bit halves -> one zmm */
static inline __m512 ea512g_join_ps(__m256 lo, __m256 hi) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
}

static inline __m512 ea512g_bcast8_ps(const float *p) { return _mm512_broadcast_f32x8(_mm256_load_ps(p)); }

/* per 128-bit lane: [sum of a's 4 dwords, of b's, of c's, of d's] */
static inline __m512i ea512g_sum4(__m512i a, __m512i b, __m512i c, __m512i d) {
    const __m512i ab = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
    const __m512i cd = _mm512_add_epi32(_mm512_unpacklo_epi32(c, d), _mm512_unpackhi_epi32(c, d));
    return _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd), _mm512_unpackhi_epi64(ab, cd));
}

/* block sums of group g (nt <= 8 blocks) of rows w0 (low half) and w1 (high half), in the reduced
 * order of avx2-gemv.h, 0 past nt, q4_0 / q8_0 corrections included */
static inline __attribute__((always_inline)) __m512i ea512g_group(const int fmt, const uint8_t *w0, const uint8_t *w1,
                                                                  const ea256_gemv_prep *P, const uint8_t *ag, int64_t g,
                                                                  const int nt) {
    const __m512i z = _mm512_setzero_si512();
    __m512i sums;
    if (fmt == EA256_Q8_0) {
        const __m512i m80 = _mm512_set1_epi8((char)0x80);
        __m512i p[8];
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) {
            if (i >= nt) {
                p[i] = z;
                continue;
            }
            const __m256i x0 = _mm256_loadu_si256((const __m256i *)(w0 + 34 * i + 2));
            const __m256i x1 = _mm256_loadu_si256((const __m256i *)(w1 + 34 * i + 2));
            const __m512i wv = _mm512_inserti64x4(_mm512_castsi256_si512(x0), x1, 1);
            const __m512i av = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(ag + 34 * i + 2)));
            p[i] = _mm512_dpbusd_epi32(z, _mm512_xor_si512(wv, m80), av);
        }
        /* per 128-bit lane: partial sums of blocks 0-3 and 4-7; the two lanes of a row's half hold
         * elements 0-15 and 16-31, added after moving them side by side */
        const __m512i s03 = ea512g_sum4(p[0], p[1], p[2], p[3]), s47 = ea512g_sum4(p[4], p[5], p[6], p[7]);
        const __m512i ix = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13), iy = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
        sums = _mm512_add_epi32(_mm512_permutex2var_epi64(s03, ix, s47), _mm512_permutex2var_epi64(s03, iy, s47));
    } else {
        const int WB = fmt == EA256_Q4_0 ? 18 : 20, WQ = fmt == EA256_Q4_0 ? 2 : 4;
        const __m512i m4 = _mm512_set1_epi8(0x0f);
        __m512i p[4];
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) {
            if (2 * q >= nt) {
                p[q] = z;
                continue;
            }
            /* lanes: row 0 block 2q, row 0 block 2q+1, row 1 block 2q, row 1 block 2q+1 (the second
             * block of a pair may be past the row's end: never read it) */
            const uint8_t *b0 = w0 + 2 * q * WB + WQ, *b1 = w1 + 2 * q * WB + WQ;
            const int two = 2 * q + 1 < nt;
            __m512i wv = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)b0));
            wv = _mm512_inserti32x4(wv, two ? _mm_loadu_si128((const __m128i *)(b0 + WB)) : _mm_setzero_si128(), 1);
            wv = _mm512_inserti32x4(wv, _mm_loadu_si128((const __m128i *)b1), 2);
            wv = _mm512_inserti32x4(wv, two ? _mm_loadu_si128((const __m128i *)(b1 + WB)) : _mm_setzero_si128(), 3);
            const __m512i lo = _mm512_and_si512(wv, m4), hi = _mm512_and_si512(_mm512_srli_epi16(wv, 4), m4);
            const __m512i al = _mm512_broadcast_i64x4(_mm256_load_si256((const __m256i *)P->qa[g][q][0]));
            const __m512i ah = _mm512_broadcast_i64x4(_mm256_load_si256((const __m256i *)P->qa[g][q][1]));
            p[q] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(z, lo, al), hi, ah);
        }
        /* lane 0 of a half: blocks 0 2 4 6, lane 1: blocks 1 3 5 7 */
        sums = ea512g_sum4(p[0], p[1], p[2], p[3]);
    }
    if (fmt != EA256_Q4_1) sums = _mm512_add_epi32(sums, _mm512_broadcast_i64x4(_mm256_load_si256((const __m256i *)P->corr[g])));
    return sums;
}

/* rows w0, w1: nb / 8 full groups, then nt = nb % 8 tail blocks (a constant per instantiation) */
static inline __attribute__((always_inline)) void ea512g_rows2(const int fmt, int64_t nb, const int nt, const uint8_t *w0,
                                                               const uint8_t *w1, const uint8_t *a,
                                                               const ea256_gemv_prep *P, float *out0, float *out1) {
    const int WB = fmt == EA256_Q4_0 ? 18 : fmt == EA256_Q8_0 ? 34 : 20;
    const int AB = fmt == EA256_Q4_1 ? 36 : 34;
    __m512 acc = _mm512_setzero_ps(), accm = _mm512_setzero_ps();
    const int64_t ng = nb / 8;
    for (int64_t g = 0; g < ng; g++) {
        const uint8_t *g0 = w0 + g * 8 * WB, *g1 = w1 + g * 8 * WB;
#pragma GCC unroll 5
        for (int l = 0; l < (8 * WB + 63) / 64; l++) {
            _mm_prefetch((const char *)g0 + EA256_GEMV_PF + 64 * l, _MM_HINT_T0);
            _mm_prefetch((const char *)g1 + EA256_GEMV_PF + 64 * l, _MM_HINT_T0);
        }
        const __m512i sums = ea512g_group(fmt, g0, g1, P, a + g * 8 * AB, g, 8);
        __m512 dw, mw = _mm512_setzero_ps();
        if (fmt == EA256_Q4_1) {
            __m256 d0, m0, d1, m1;
            ea256_gather_dm8(g0, &d0, &m0);
            ea256_gather_dm8(g1, &d1, &m1);
            dw = ea512g_join_ps(d0, d1);
            mw = ea512g_join_ps(m0, m1);
        } else if (fmt == EA256_Q4_0) {
            dw = ea512g_join_ps(ea256_gather_d8_q4_0(g0), ea256_gather_d8_q4_0(g1));
        } else {
            dw = ea512g_join_ps(ea256_gather_h8(fmt, g0, WB, 8), ea256_gather_h8(fmt, g1, WB, 8));
        }
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), _mm512_mul_ps(dw, ea512g_bcast8_ps(P->da[g])), acc);
        if (fmt == EA256_Q4_1) accm = _mm512_fmadd_ps(mw, ea512g_bcast8_ps(P->s[g]), accm);
    }
    if (nt) {
        const uint8_t *g0 = w0 + ng * 8 * WB, *g1 = w1 + ng * 8 * WB;
        const __m512i sums = ea512g_group(fmt, g0, g1, P, a + ng * 8 * AB, ng, nt);
        const __m512 dw = ea512g_join_ps(ea256_gather_h8(fmt, g0, WB, nt), ea256_gather_h8(fmt, g1, WB, nt));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), _mm512_mul_ps(dw, ea512g_bcast8_ps(P->da[ng])), acc);
        if (fmt == EA256_Q4_1) {
            const __m512 mw = ea512g_join_ps(ea256_gather_h8(fmt, g0 + 2, WB, nt), ea256_gather_h8(fmt, g1 + 2, WB, nt));
            accm = _mm512_fmadd_ps(mw, ea512g_bcast8_ps(P->s[ng]), accm);
        }
    }
    const __m512 t = _mm512_add_ps(acc, accm);
    *out0 = ea256_hsum(_mm512_castps512_ps256(t));
    *out1 = ea256_hsum(_mm512_extractf32x8_ps(t, 1));
}

/* s[j] = dot(w row j, a), j < n */
static inline __attribute__((always_inline)) void ea512_gemv(const int fmt, int64_t k, int64_t n, float *s,
                                                             const void *w, size_t ws, const void *a) {
    const int64_t nb = k / 32, ng = (nb + 7) / 8;
    /* Two rows side by side are two streams from memory wherever a row is longer than a few
     * cache lines: for the 4-bit formats that measured slower from DRAM than avx2-gemv.h's one
     * row at a time (4096 x 4096 cold: 57-66% vs 72-108% of the read bandwidth, Sapphire
     * Rapids), while q8_0 was as fast or faster (79-93% vs 63-83%). Short 4-bit rows (SmolLM2's
     * 360 and 960 bytes) are one stream either way. */
    if (ng > EA256_GEMV_MAXG || (fmt != EA256_Q8_0 && ws > 1024)) {
        ea256_gemv(fmt, k, n, s, w, ws, a);
        return;
    }
    ea256_gemv_prep P; /* with the per-block integer corrections: q4_0 -8 sum(a), q8_0 -128 sum(a) */
    ea256_gemv_prep_fill(fmt, nb, (const uint8_t *)a, &P, 1);
    const uint8_t *w8 = (const uint8_t *)w, *a8 = (const uint8_t *)a;
    /* an odd last row runs beside itself (its second result is dropped) */
#define EA512_GEMV_ROWS(NT)                                                                                      \
    for (int64_t j = 0; j < n; j += 2) {                                                                         \
        float o1;                                                                                                \
        const uint8_t *r0 = w8 + (size_t)j * ws;                                                                 \
        ea512g_rows2(fmt, nb, NT, r0, j + 1 < n ? r0 + ws : r0, a8, &P, &s[j],                               \
                     j + 1 < n ? &s[j + 1] : &o1);                                                               \
    }
    EA_TAIL8(nb % 8, EA512_GEMV_ROWS)
#undef EA512_GEMV_ROWS
}

#endif /* EDGEAI_X86_AVX512_GEMV_H */
