/* AVX2 GEMV (one activation row) for q4_0, q4_1 and q8_0 weights: the LLM decode case, where every
 * weight byte is read once per token, so the kernel must keep up with memory (~5 bytes per cycle per
 * core) rather than spend its time on per-block bookkeeping.
 *
 * Work goes in groups of 8 weight blocks (256 elements) along each weight row:
 *   - integer block dots as 8 x int32 partial sums each (vpmaddubsw + vpmaddwd); the 4-bit formats
 *     take two blocks per register (block b's 16 quant bytes in the low lane, b+1's in the high one,
 *     low nibbles = elements 0..15, high nibbles = 16..31), so the activations are rearranged once
 *     per call into the same pair layout ("prep");
 *   - the partial sums are reduced with vphaddw/vphaddd to one vector of 8 block sums, and the
 *     scales are applied to all 8 blocks at once: 8 fp16 d_w gathered (4-bit formats: 4 loads and
 *     in-lane shuffles, q4_1 with its m; q8_0: scalar loads), one vcvtph2ps, times the 8 d_a of
 *     the prep, one FMA. No
 *     per-block float work, no per-block broadcast, one horizontal sum per output.
 *   q4_0: sum((q - 8) a) = sum(q a) - 8 sum(a); the -8 sum(a) of each block is in the prep.
 *   q4_1: sum((d q + m) d_a a) = d d_a sum(q a) + m s, s = d_a sum(a) from the q8_1 block; the 8
 *         m_w come with the d_w and are multiplied with the 8 s of the prep.
 *   q8_0: sum(w a) = sum(|w| sign(a, w)) (|w| <= 128: no vpmaddubsw saturation).
 * AVX-VNNI (EA256_VNNI): vpdpbusd gives each block's int32 sums directly (4-bit: both nibble
 * halves of a pair into one accumulator, reduced by vphaddd only); q8_0 takes
 * sum(w a) = sum((w ^ 0x80) a) - 128 sum(a), w ^ 0x80 = w + 128 as u8, exact for every byte, with
 * the -128 sum(a) of each block in the prep like q4_0's correction.
 * Integer block sums are exact; only the float summation order differs from the reference. A row's
 * last, partial group is zero-padded. K too long for the stack prep (> 32768) takes the per-block
 * path (ea256_rows).
 * q5_0 / q5_1 use the per-block path throughout. */
#ifndef EDGEAI_X86_AVX2_GEMV_H
#define EDGEAI_X86_AVX2_GEMV_H

#include <stdalign.h>
#include "tail8.h"
#include "avx2-blocks.h" /* included by avx2-gemm.h after ea256_rows */

#define EA256_GEMV_MAXG 128     /* groups of 8 blocks the stack prep holds: K <= 32768 */

/* The pair tail (ea256_gemv_pair_tail) runs in the avx2 build only: the avxvnni and avx512vnni
 * builds (which include this file) keep the group path for their tails. Its gain was measured on
 * Zen 3, which runs neither of them, so nothing here could test them with it. */
#if !EA256_VNNI && !defined(__AVX512F__)
#define EA256_PAIR_TAIL 1
#else
#define EA256_PAIR_TAIL 0
#endif

typedef struct {
    alignas(32) int8_t qa[EA256_GEMV_MAXG][4][2][32]; /* 4-bit: per pair (lo, hi) activations */
    alignas(32) float da[EA256_GEMV_MAXG][8];         /* d_a in the reduced block order */
    alignas(32) int32_t corr[EA256_GEMV_MAXG][8];     /* q4_0: -8 sum(a); q8_0 (VNNI): -128 sum(a) */
    alignas(32) float s[EA256_GEMV_MAXG][8];          /* q4_1: s of the q8_1 block */
    /* 4-bit rows ending in 1 or 2 blocks past the last full group (K = 576: 18 blocks), see
     * ea256_gemv_pair_tail: the last group's blocks 0 and 1 four lanes each */
    alignas(32) float tda[8];                         /* d_a: lanes 0-3 block 0, 4-7 block 1 */
    alignas(32) int32_t tcorr[8];                     /* q4_0: -8 sum(a) in lanes 0 and 4 only */
} ea256_gemv_prep;

/* Reduced block order of a group: 4-bit [0 2 4 6 1 3 5 7] (vphaddd of pairs), 8-bit [0..7]. */
static inline int ea256_gemv_pos(int fmt, int i) { return fmt == EA256_Q8_0 ? i : (i & 1) * 4 + i / 2; }

/* nb blocks of activations -> ceil(nb / 8) groups; a partial last group is zero-padded. Runs once per
 * tile call, i.e. once per 16-512 weight rows of K/32 blocks each, so it must stay cheap: a decode
 * tile of 16 rows of K = 576 costs ~18 x 16 block dots, its prep ~18 block copies.
 * q8corr: also the q8_0 -128 sum(a) of each block in corr (the vpdpbusd GEMVs: avxvnni, avx512-gemv.h). */
static inline __attribute__((always_inline)) void ea256_gemv_prep_fill(const int fmt, int64_t nb, const uint8_t *a,
                                                                       ea256_gemv_prep *P, const int q8corr) {
    const int AB = fmt == EA256_Q4_1 ? 36 : 34, AQ = fmt == EA256_Q4_1 ? 4 : 2;
    const int64_t ng = (nb + 7) / 8;
    if (nb % 8) {
        const int64_t g = ng - 1;
        if (fmt != EA256_Q8_0) memset(P->qa[g], 0, sizeof P->qa[g]);
        memset(P->da[g], 0, sizeof P->da[g]);
        if (fmt == EA256_Q4_0 || (q8corr && fmt == EA256_Q8_0)) memset(P->corr[g], 0, sizeof P->corr[g]);
        if (fmt == EA256_Q4_1) memset(P->s[g], 0, sizeof P->s[g]);
    }
    for (int64_t b = 0; b < nb; b++) {
        const int64_t g = b / 8;
        const int i = (int)(b % 8), pos = ea256_gemv_pos(fmt, i);
        const uint8_t *ab = a + b * AB;
        ea_fp16 h;
        memcpy(&h, ab, 2);
        P->da[g][pos] = ea256_h2f(h);
        if (fmt == EA256_Q4_1) {
            memcpy(&h, ab + 2, 2);
            P->s[g][pos] = ea256_h2f(h);
        }
        if (q8corr && fmt == EA256_Q8_0) P->corr[g][pos] = -128 * ea256_sum_i8(_mm256_loadu_si256((const __m256i *)(ab + AQ)));
        if (fmt == EA256_Q8_0) continue;
        /* pair i / 2, lane i % 2: elements 0..15 under the low nibbles, 16..31 under the high */
        const __m256i av = _mm256_loadu_si256((const __m256i *)(ab + AQ));
        _mm_store_si128((__m128i *)&P->qa[g][i / 2][0][16 * (i & 1)], _mm256_castsi256_si128(av));
        _mm_store_si128((__m128i *)&P->qa[g][i / 2][1][16 * (i & 1)], _mm256_extracti128_si256(av, 1));
        if (fmt == EA256_Q4_0) {
            /* -8 sum(a): vpmaddubsw(8, a) pairs, vpmaddwd(1) to int32, then a horizontal sum */
            const __m256i s8 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(8), av), _mm256_set1_epi16(1));
            __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
            s4 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 1));
            P->corr[g][pos] = -_mm_cvtsi128_si32(s4);
        }
    }
    if (EA256_PAIR_TAIL && fmt != EA256_Q8_0 && nb % 8 && nb % 8 <= 2) {
        /* blocks 0 and 1 of the last group sit at reduced positions 0 and 4 (zero when absent) */
        const int64_t g = ng - 1;
        for (int i = 0; i < 8; i++) {
            P->tda[i] = P->da[g][i < 4 ? 0 : 4];
            P->tcorr[i] = fmt == EA256_Q4_0 && i % 4 == 0 ? P->corr[g][i] : 0;
        }
    }
}

/* nt (<= 8) fp16 at base + i * stride as floats in the reduced block order, 0 past nt. Scalar loads
 * assembled in two 64-bit words: measured faster here than vpgatherdd or a vpinsrw chain. */
static inline __attribute__((always_inline)) __m256 ea256_gather_h8(const int fmt, const uint8_t *base, int stride,
                                                                    const int nt) {
    uint16_t h[8] = {0, 0, 0, 0, 0, 0, 0, 0};
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++)
        if (i < nt) memcpy(&h[i], base + i * stride, 2);
    uint64_t lo, hi;
    if (fmt == EA256_Q8_0) {
        lo = h[0] | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 32 | (uint64_t)h[3] << 48;
        hi = h[4] | (uint64_t)h[5] << 16 | (uint64_t)h[6] << 32 | (uint64_t)h[7] << 48;
    } else {
        lo = h[0] | (uint64_t)h[2] << 16 | (uint64_t)h[4] << 32 | (uint64_t)h[6] << 48;
        hi = h[1] | (uint64_t)h[3] << 16 | (uint64_t)h[5] << 32 | (uint64_t)h[7] << 48;
    }
    return _mm256_cvtph_ps(_mm_set_epi64x((long long)hi, (long long)lo));
}

/* vpshufb controls for the full-group scale gathers below: load q's control moves the low lane's
 * bytes lo, lo+1 and the high lane's bytes hi, hi+1 to word q of their lane (all other bytes 0);
 * q4_1 also moves lo+2, lo+3 and hi+2, hi+3 (the m) to word 4 + q. */
#define EA256_SCALE_CTRL(q, lo, hi, m)                                                                        \
    _mm256_setr_epi8(q == 0 ? lo : -1, q == 0 ? lo + 1 : -1, q == 1 ? lo : -1, q == 1 ? lo + 1 : -1,         \
                     q == 2 ? lo : -1, q == 2 ? lo + 1 : -1, q == 3 ? lo : -1, q == 3 ? lo + 1 : -1,         \
                     m && q == 0 ? lo + 2 : -1, m && q == 0 ? lo + 3 : -1, m && q == 1 ? lo + 2 : -1,          \
                     m && q == 1 ? lo + 3 : -1, m && q == 2 ? lo + 2 : -1, m && q == 2 ? lo + 3 : -1,          \
                     m && q == 3 ? lo + 2 : -1, m && q == 3 ? lo + 3 : -1,                                   \
                     q == 0 ? hi : -1, q == 0 ? hi + 1 : -1, q == 1 ? hi : -1, q == 1 ? hi + 1 : -1,         \
                     q == 2 ? hi : -1, q == 2 ? hi + 1 : -1, q == 3 ? hi : -1, q == 3 ? hi + 1 : -1,         \
                     m && q == 0 ? hi + 2 : -1, m && q == 0 ? hi + 3 : -1, m && q == 1 ? hi + 2 : -1,          \
                     m && q == 1 ? hi + 3 : -1, m && q == 2 ? hi + 2 : -1, m && q == 2 ? hi + 3 : -1,          \
                     m && q == 3 ? hi + 2 : -1, m && q == 3 ? hi + 3 : -1)

/* The scales of a full group of 4-bit blocks, in the reduced order [0 2 4 6 | 1 3 5 7]. A 32-byte
 * load at block 2q's start holds its scales in the low lane (byte 0) and block 2q+1's in the high
 * lane (byte WB - 16: 2 for q4_0's 18-byte blocks, 4 for q4_1's 20): in-lane vpshufb puts them in
 * word q of their lanes, which is the reduced order lane by lane, and one vpermq joins the lanes.
 * 4 loads + 4 vpshufb + 3 vpor + vpermq, against 8 scalar loads and ~14 ops to assemble them
 * (q4_0) or 4 vpermd + 3 vpblendd + vpshufb (q4_1). The loads stay inside the group.
 * q4_0: the 8 d. */
static inline __attribute__((always_inline)) __m256 ea256_gather_d8_q4_0(const uint8_t *wg) {
    __m256i g = _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)wg), EA256_SCALE_CTRL(0, 0, 2, 0));
    g = _mm256_or_si256(g, _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(wg + 36)), EA256_SCALE_CTRL(1, 0, 2, 0)));
    g = _mm256_or_si256(g, _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(wg + 72)), EA256_SCALE_CTRL(2, 0, 2, 0)));
    g = _mm256_or_si256(g, _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(wg + 108)), EA256_SCALE_CTRL(3, 0, 2, 0)));
    /* lane 0 words 0-3: d0 d2 d4 d6; lane 1: d1 d3 d5 d7 -> qwords [0, 2] */
    return _mm256_cvtph_ps(_mm256_castsi256_si128(_mm256_permute4x64_epi64(g, 0x08)));
}

/* q4_1: the 8 d and the 8 m. Per lane after the shuffles: words 0-3 the d, 4-7 the m. */
static inline __attribute__((always_inline)) void ea256_gather_dm8(const uint8_t *wg, __m256 *d, __m256 *m) {
    __m256i g = _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)wg), EA256_SCALE_CTRL(0, 0, 4, 1));
    g = _mm256_or_si256(g, _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(wg + 40)), EA256_SCALE_CTRL(1, 0, 4, 1)));
    g = _mm256_or_si256(g, _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(wg + 80)), EA256_SCALE_CTRL(2, 0, 4, 1)));
    g = _mm256_or_si256(g, _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(wg + 120)), EA256_SCALE_CTRL(3, 0, 4, 1)));
    /* [lane 0 d, lane 1 d, lane 0 m, lane 1 m] */
    const __m256i x = _mm256_permute4x64_epi64(g, 0xd8);
    *d = _mm256_cvtph_ps(_mm256_castsi256_si128(x));
    *m = _mm256_cvtph_ps(_mm256_extracti128_si256(x, 1));
}

/* block sums (int32) of one weight row's group g of nt (<= 8) blocks, in the reduced order, 0 past nt.
 * Full groups pass nt = 8 as a constant; only a row's last group has a run-time nt. */
static inline __attribute__((always_inline)) __m256i ea256_gemv_group(const int fmt, const uint8_t *wg,
                                                                      const ea256_gemv_prep *P, const uint8_t *ag,
                                                                      int64_t g, const int nt) {
    const __m256i ones = _mm256_set1_epi16(1);
    if (fmt == EA256_Q8_0) {
        __m256i p[8];
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) {
            if (i >= nt) {
                p[i] = _mm256_setzero_si256();
                continue;
            }
            const __m256i wv = _mm256_loadu_si256((const __m256i *)(wg + 34 * i + 2));
            const __m256i av = _mm256_loadu_si256((const __m256i *)(ag + 34 * i + 2));
#if EA256_VNNI
            p[i] = ea256_dpbusd(_mm256_setzero_si256(), _mm256_xor_si256(wv, _mm256_set1_epi8((char)0x80)), av);
#else
            p[i] = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(wv, wv), _mm256_sign_epi8(av, wv)), ones);
#endif
        }
        const __m256i x = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
        const __m256i y = _mm256_hadd_epi32(_mm256_hadd_epi32(p[4], p[5]), _mm256_hadd_epi32(p[6], p[7]));
#if EA256_VNNI
        return _mm256_add_epi32(_mm256_add_epi32(_mm256_permute2x128_si256(x, y, 0x20), _mm256_permute2x128_si256(x, y, 0x31)),
                                _mm256_load_si256((const __m256i *)P->corr[g]));
#else
        return _mm256_add_epi32(_mm256_permute2x128_si256(x, y, 0x20), _mm256_permute2x128_si256(x, y, 0x31));
#endif
    }
    const int WB = fmt == EA256_Q4_0 ? 18 : 20, WQ = fmt == EA256_Q4_0 ? 2 : 4;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256i p[4];
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) {
        if (2 * q >= nt) {
            p[q] = _mm256_setzero_si256();
            continue;
        }
        const uint8_t *wb = wg + 2 * q * WB + WQ;
        /* the second block of the pair may be past the row's end: never read it */
        const __m128i w1 = 2 * q + 1 < nt ? _mm_loadu_si128((const __m128i *)(wb + WB)) : _mm_setzero_si128();
        const __m256i wv = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)wb)), w1, 1);
        const __m256i lo = _mm256_and_si256(wv, m4), hi = _mm256_and_si256(_mm256_srli_epi16(wv, 4), m4);
#if EA256_VNNI
        p[q] = ea256_dpbusd(ea256_dpbusd(_mm256_setzero_si256(), lo, _mm256_load_si256((const __m256i *)P->qa[g][q][0])),
                                       hi, _mm256_load_si256((const __m256i *)P->qa[g][q][1]));
#else
        const __m256i s16 = _mm256_add_epi16(_mm256_maddubs_epi16(lo, _mm256_load_si256((const __m256i *)P->qa[g][q][0])),
                                             _mm256_maddubs_epi16(hi, _mm256_load_si256((const __m256i *)P->qa[g][q][1])));
        p[q] = s16;
#endif
    }
#if EA256_VNNI
    /* int32 lanes: [block 2q | block 2q+1] of p[q], 4 lanes each; two vphaddd give the reduced order */
    __m256i sums = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
    (void)ones;
#else
    /* each int16 of s16 sums 4 products of |15 x 128| <= 1920, so two pairwise 16-bit sums (16
     * products, <= 30720) cannot overflow: the tree runs in 16 bits and one vpmaddwd widens it */
    __m256i sums = _mm256_madd_epi16(_mm256_hadd_epi16(_mm256_hadd_epi16(p[0], p[1]), _mm256_hadd_epi16(p[2], p[3])), ones);
#endif
    if (fmt == EA256_Q4_0) sums = _mm256_add_epi32(sums, _mm256_load_si256((const __m256i *)P->corr[g]));
    return sums;
}

/* A 4-bit row's last 1 or 2 blocks (group g, nt = nb % 8): one pair register, as in ea256_gemv_group,
 * but without its reduction tree, which for a single pair is mostly work on zeros. vpmaddwd leaves
 * 4 int32 lanes per block (lanes 0-3 block 0, 4-7 block 1) and each lane is scaled by its block's
 * d_w d_a: acc's lanes are summed at the end anyway, so they need not be one block each. q4_0's
 * -8 sum(a) goes into one lane per block; q4_1's m s terms (the prep's s at reduced positions 0 and 4) come back as a float in *mt. For
 * SmolLM2's K = 576 rows (2 groups + 2 blocks) the tail went from ~35 to ~15 vector ops. */
static inline __attribute__((always_inline)) __m256 ea256_gemv_pair_tail(const int fmt, const uint8_t *wg,
                                                                         const ea256_gemv_prep *P, int64_t g,
                                                                         const int nt, __m256 acc, float *mt) {
    const int WB = fmt == EA256_Q4_0 ? 18 : 20, WQ = fmt == EA256_Q4_0 ? 2 : 4;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    const __m128i w1 = nt == 2 ? _mm_loadu_si128((const __m128i *)(wg + WB + WQ)) : _mm_setzero_si128();
    const __m256i wv = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(wg + WQ))), w1, 1);
    const __m256i lo = _mm256_and_si256(wv, m4), hi = _mm256_and_si256(_mm256_srli_epi16(wv, 4), m4);
    __m256i s32 = _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(lo, _mm256_load_si256((const __m256i *)P->qa[g][0][0])),
                                                     _mm256_maddubs_epi16(hi, _mm256_load_si256((const __m256i *)P->qa[g][0][1]))),
                                    _mm256_set1_epi16(1));
    if (fmt == EA256_Q4_0) s32 = _mm256_add_epi32(s32, _mm256_load_si256((const __m256i *)P->tcorr));
    /* d_w of blocks 0 and 1 as words [d0 x4, d1 x4] */
    uint16_t h0, h1 = 0;
    memcpy(&h0, wg, 2);
    if (nt == 2) memcpy(&h1, wg + WB, 2);
    const __m128i hw = _mm_shuffle_epi8(_mm_cvtsi32_si128((int)((uint32_t)h0 | (uint32_t)h1 << 16)),
                                        _mm_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3));
    const __m256 dw = _mm256_cvtph_ps(hw);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s32), _mm256_mul_ps(dw, _mm256_load_ps(P->tda)), acc);
    if (fmt == EA256_Q4_1) {
        uint16_t m0, m1 = 0;
        memcpy(&m0, wg + 2, 2);
        if (nt == 2) memcpy(&m1, wg + WB + 2, 2);
        *mt = ea256_h2f(m0) * P->s[g][0] + ea256_h2f(m1) * P->s[g][4]; /* s[g][4]: 0 when nt == 1 */
    }
    return acc;
}

/* Prefetch distance (bytes ahead in the row): the hardware prefetcher alone leaves the kernel at
 * ~70% of the streaming-read rate from DRAM; 1-2 KiB ahead brings it to ~85-90% (Zen 3, measured).
 * EA256_GEMV_PF8 is q8_0's (default: the same). A file may set its own before including this one
 * (avx512-gemv.h does). */
#ifndef EA256_GEMV_PF
#define EA256_GEMV_PF 1536
#endif
#ifndef EA256_GEMV_PF8
#define EA256_GEMV_PF8 EA256_GEMV_PF
#endif

/* one weight row: nb / 8 full groups, then nt = nb % 8 tail blocks (a constant per instantiation).
 * One row at a time on purpose: running 2 or 4 rows side by side shares the activation loads but
 * makes 2-4 concurrent DRAM streams, which measured 30-40% slower from memory than one. */
static inline __attribute__((always_inline)) float ea256_gemv_row(const int fmt, int64_t nb, const int nt, const uint8_t *w,
                                                                  const uint8_t *a, const ea256_gemv_prep *P) {
    const int WB = fmt == EA256_Q4_0 ? 18 : fmt == EA256_Q8_0 ? 34 : 20;
    const int AB = fmt == EA256_Q4_1 ? 36 : 34;
    __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
    float mt = 0.0f; /* q4_1: the m s terms of a pair tail */
    const int64_t ng = nb / 8;
    for (int64_t g = 0; g < ng; g++) {
        const uint8_t *wg = w + g * 8 * WB;
        /* a group is 144 (q4_0), 160 (q4_1) or 272 (q8_0) bytes: 3 to 5 cache lines */
#pragma GCC unroll 5
        for (int l = 0; l < (8 * WB + 63) / 64; l++)
            _mm_prefetch((const char *)wg + (fmt == EA256_Q8_0 ? EA256_GEMV_PF8 : EA256_GEMV_PF) + 64 * l, _MM_HINT_T0);
        const __m256i sums = ea256_gemv_group(fmt, wg, P, a + g * 8 * AB, g, 8);
        __m256 dw, mw;
        if (fmt == EA256_Q4_1) ea256_gather_dm8(wg, &dw, &mw);
        else if (fmt == EA256_Q4_0) dw = ea256_gather_d8_q4_0(wg);
        else dw = ea256_gather_h8(fmt, wg, WB, 8);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_mul_ps(dw, _mm256_load_ps(P->da[g])), acc);
        if (fmt == EA256_Q4_1) accm = _mm256_fmadd_ps(mw, _mm256_load_ps(P->s[g]), accm);
    }
    if (EA256_PAIR_TAIL && (fmt == EA256_Q4_0 || fmt == EA256_Q4_1) && (nt == 1 || nt == 2)) {
        acc = ea256_gemv_pair_tail(fmt, w + ng * 8 * WB, P, ng, nt, acc, &mt);
    } else if (nt) {
        const uint8_t *wg = w + ng * 8 * WB;
        const __m256i sums = ea256_gemv_group(fmt, wg, P, a + ng * 8 * AB, ng, nt);
        const __m256 dw = ea256_gather_h8(fmt, wg, WB, nt);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_mul_ps(dw, _mm256_load_ps(P->da[ng])), acc);
        if (fmt == EA256_Q4_1) accm = _mm256_fmadd_ps(ea256_gather_h8(fmt, wg + 2, WB, nt), _mm256_load_ps(P->s[ng]), accm);
    }
    return ea256_hsum(_mm256_add_ps(acc, accm)) + mt;
}

/* s[j] = dot(w row j, a), j < n */
static inline __attribute__((always_inline)) void ea256_gemv(const int fmt, int64_t k, int64_t n, float *s,
                                                             const void *w, size_t ws, const void *a) {
    const int64_t nb = k / 32;
    const int grouped = fmt == EA256_Q4_0 || fmt == EA256_Q4_1 || fmt == EA256_Q8_0;
    if (!grouped || (nb + 7) / 8 > EA256_GEMV_MAXG) {
        const uint8_t *const ar[1] = {(const uint8_t *)a};
        for (int64_t j = 0; j < n; j++) ea256_rows(fmt, 1, nb, (const uint8_t *)w + (size_t)j * ws, ar, &s[j]);
        return;
    }
    ea256_gemv_prep P;
    ea256_gemv_prep_fill(fmt, nb, (const uint8_t *)a, &P, EA256_VNNI);
    /* one instantiation of the row loop per row tail nb % 8 (tail8.h) */
#define EA256_GEMV_ROWS(NT) \
    for (int64_t j = 0; j < n; j++) s[j] = ea256_gemv_row(fmt, nb, NT, (const uint8_t *)w + (size_t)j * ws, (const uint8_t *)a, &P)
    EA_TAIL8(nb % 8, EA256_GEMV_ROWS)
#undef EA256_GEMV_ROWS
}

#endif
