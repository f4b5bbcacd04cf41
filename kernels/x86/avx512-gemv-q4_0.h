/* AVX-512 VNNI GEMV (one activation row) for q4_0 weights: the LLM decode case, in zmm.
 *
 * Why not avx512-gemv.h's ymm GEMV: on Zen 4 a ymm vpdpbusd issues at the same rate as a zmm
 * one (~1 per cycle, whatever the width), so the ymm kernel spends twice the multiply-pipe time per
 * weight and runs at ~28 GB/s even from L1 (C harness, 1 thread). That was fast enough only while
 * the weights streamed into L1 ahead of it; with an L2 prefetch far ahead, which is what gets a
 * single core's DRAM read to its streaming rate, the ymm kernel falls behind (its 155-GEMV
 * TinyLlama-shape Q4_0 decode sequence: 22.7 ms/token with its L1 prefetch 6 KiB ahead, 21.4-22.6
 * with an L2 one 16-32 KiB ahead), while this one keeps up (19.2-20.2 ms/token = ~30 GB/s, as fast
 * as the streaming-read probe). C harness over the real file mapping, same process, Zen 4 EPYC.
 *
 * Work goes in steps of 16 blocks (512 elements, 288 bytes), two groups A and B of 8 blocks:
 *   - each group is 3 loads (bytes 0-63, 64-127, 128-143) and two vpermt2w that put the 16 quant
 *     bytes of block 4h + j in 128-bit lane j of register h (every block's qs start on an even
 *     byte: 18-byte blocks); low nibbles = elements 0..15, high nibbles = 16..31, so the prep
 *     holds each block's activations as (0..15 | 16..31) in the same lanes;
 *   - vpdpbusd leaves 4 int32 partial sums per block per 128-bit lane. They are reduced in-lane
 *     with vpunpck[lh]dq / vpunpck[lh]qdq and adds (these issue beside the multiplies; a
 *     cross-lane vpermt2d tree measured slower) to one zmm of 16 block sums, lane 4L + t = block
 *     4t + L of the step;
 *   - q4_0's -8 sum(a) of each block is an int32 add from the prep (exact);
 *   - the 16 fp16 d_w come from two more vpermt2w of the group loads, already in that lane order;
 *     one vcvtph2ps, one multiply by the prep's d_a, one FMA per 16 blocks.
 * A row's last step of 1..15 blocks uses masked loads (never reads past the row) against a
 * zero-padded prep. Integer block sums are exact; only the float summation order differs from
 * the reference. K above EA512_Q4G_MAXS * 512 is left to the caller. */
#ifndef EDGEAI_X86_AVX512_GEMV_Q4_0_H
#define EDGEAI_X86_AVX512_GEMV_Q4_0_H

#include <immintrin.h>
#include <stdalign.h>
#include <stdint.h>
#include <string.h>
#include "avx2-blocks.h"  /* ea256_sum_i8 */
#include "../blocks.h"
#include "../prefetch.h"

#define EA512_Q4G_MAXS 64 /* steps of 16 blocks the stack prep holds: K <= 32768 (40 KiB) */

/* Prefetch distance, into L2: 16 KiB ahead in the row (3 lines per 8-block group). Same decode
 * sequence as above, ms/token by (hint, distance): L1 4 / 8 / 16 KiB 25.1 / 24.3 / 26.6; L2 8 /
 * 12 / 16 / 24 / 32 / 64 KiB 20.7-21.2 / 19.2-20.0 / 19.4-19.6 / 19.5 / 19.4-20.2 / 19.4. */
#define EA512_Q4G_PF 16384

typedef struct {
    /* step s, register h (blocks 4h .. 4h + 3): [2h] the activations under the low nibbles
     * (elements 0..15 of block 4h + j in lane j), [2h + 1] under the high ones (16..31) */
    alignas(64) int8_t a[EA512_Q4G_MAXS][8][64];
    alignas(64) float da[EA512_Q4G_MAXS][16];     /* lane 4L + t: d_a of block 4t + L */
    alignas(64) int32_t corr[EA512_Q4G_MAXS][16]; /* lane 4L + t: -8 sum(a) of block 4t + L */
} ea512_q4g_prep;

/* nb blocks of q8_0 activations (34-byte blocks) -> ceil(nb / 16) steps, the last zero-padded. */
static inline void ea512_q4g_prep_fill(int64_t nb, const uint8_t *a, ea512_q4g_prep *P) {
    const int64_t ns = (nb + 15) / 16;
    if (nb % 16) {
        memset(P->a[ns - 1], 0, sizeof P->a[0]);
        memset(P->da[ns - 1], 0, sizeof P->da[0]);
        memset(P->corr[ns - 1], 0, sizeof P->corr[0]);
    }
    for (int64_t b = 0; b < nb; b++) {
        const int64_t s = b / 16;
        const int i = (int)(b % 16), h = i / 4, j = i % 4, lane = 4 * j + h;
        const uint8_t *ab = a + b * 34;
        ea_fp16 d;
        memcpy(&d, ab, 2);
        const __m256i av = _mm256_loadu_si256((const __m256i *)(ab + 2));
        _mm_store_si128((__m128i *)&P->a[s][2 * h][16 * j], _mm256_castsi256_si128(av));
        _mm_store_si128((__m128i *)&P->a[s][2 * h + 1][16 * j], _mm256_extracti128_si256(av, 1));
        P->da[s][lane] = _cvtsh_ss(d);
        P->corr[s][lane] = -8 * ea256_sum_i8(av);
    }
}

/* vpermt2w controls. A group's words: block b's d at word 9b, its 8 qs words at 9b + 1 .. 9b + 8.
 * q0: blocks 0-3 from (bytes 0-63, 64-127); q1: blocks 4-7 (words 37..71) from (bytes 64-127,
 * 128-143 zero-extended): index W - 32 in both (words 32..63 are the first source's 0..31, and
 * 64..71 the second's 32..39). */
static const alignas(64) uint16_t ea512_q4g_iq0[32] = {1,  2,  3,  4,  5,  6,  7,  8,  10, 11, 12,
                                                       13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24,
                                                       25, 26, 28, 29, 30, 31, 32, 33, 34, 35};
static const alignas(64) uint16_t ea512_q4g_iq1[32] = {5,  6,  7,  8,  9,  10, 11, 12, 14, 15, 16,
                                                       17, 18, 19, 20, 21, 23, 24, 25, 26, 27, 28,
                                                       29, 30, 32, 33, 34, 35, 36, 37, 38, 39};
/* the d_w in lane order 4L + t = block 4t + L of the step: group A fills t = 0, 1 (its blocks L and
 * 4 + L, words 9L and 9 (4 + L)), group B t = 2, 3 (its blocks L and 4 + L); words 16-31 unused */
static const alignas(64) uint16_t ea512_q4g_idA[32] = {0, 36, 0, 0, 9, 45, 0, 0, 18, 54, 0, 0, 27, 63, 0, 0};
static const alignas(64) uint16_t ea512_q4g_idB[32] = {0, 0, 0, 36, 0, 0, 9, 45, 0, 0, 18, 54, 0, 0, 27, 63};

/* One group of 8 blocks at wg: *s0, *s1 = 4 int32 partials per block (blocks j, 4 + j in lane j);
 * *l0, *l1 = its first two loads, for the d_w. full = 0: masked loads with m0 (bytes 0-63), m1
 * (64-127), m2 (128-143). */
static inline __attribute__((always_inline)) void ea512_q4g_group(const uint8_t *wg, const int8_t (*a)[64], __m512i *s0,
                                                                  __m512i *s1, __m512i *l0, __m512i *l1, const int full,
                                                                  __mmask64 m0, __mmask64 m1, __mmask16 m2) {
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    __m512i L0, L1, L2;
    ea_prefetch_l2(wg + EA512_Q4G_PF);
    ea_prefetch_l2(wg + EA512_Q4G_PF + 64);
    ea_prefetch_l2(wg + EA512_Q4G_PF + 128);
    if (full) {
        L0 = _mm512_loadu_si512(wg);
        L1 = _mm512_loadu_si512(wg + 64);
        L2 = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(wg + 128)));
    } else {
        L0 = _mm512_maskz_loadu_epi8(m0, wg);
        L1 = _mm512_maskz_loadu_epi8(m1, wg + 64);
        L2 = _mm512_castsi128_si512(_mm_maskz_loadu_epi8(m2, wg + 128));
    }
    const __m512i q0 = _mm512_permutex2var_epi16(L0, _mm512_load_si512(ea512_q4g_iq0), L1);
    const __m512i q1 = _mm512_permutex2var_epi16(L1, _mm512_load_si512(ea512_q4g_iq1), L2);
    const __m512i x0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(q0, m4), _mm512_load_si512(a[0]));
    const __m512i x1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(q1, m4), _mm512_load_si512(a[2]));
    *s0 = _mm512_dpbusd_epi32(x0, _mm512_and_si512(_mm512_srli_epi16(q0, 4), m4), _mm512_load_si512(a[1]));
    *s1 = _mm512_dpbusd_epi32(x1, _mm512_and_si512(_mm512_srli_epi16(q1, 4), m4), _mm512_load_si512(a[3]));
    *l0 = L0;
    *l1 = L1;
}

/* mask of the bytes below `bytes` in the window [lo, lo + len) */
static inline uint64_t ea512_q4g_mask(int64_t bytes, int lo, int len) {
    if (bytes <= lo) return 0;
    if (bytes >= lo + len) return ~(uint64_t)0 >> (64 - len);
    return ((uint64_t)1 << (bytes - lo)) - 1;
}

/* acc + the 16 scaled block dots of step s (nbt = 16), or of its first nbt blocks (1..15) */
static inline __attribute__((always_inline)) __m512 ea512_q4g_step(const uint8_t *ws, const ea512_q4g_prep *P, int64_t s,
                                                                   __m512 acc, const int nbt) {
    __m512i a0, a1, b0 = _mm512_setzero_si512(), b1 = _mm512_setzero_si512();
    __m512i la0, la1, lb0 = _mm512_setzero_si512(), lb1 = _mm512_setzero_si512();
    if (nbt == 16) {
        ea512_q4g_group(ws, P->a[s], &a0, &a1, &la0, &la1, 1, 0, 0, 0);
        ea512_q4g_group(ws + 144, P->a[s] + 4, &b0, &b1, &lb0, &lb1, 1, 0, 0, 0);
    } else {
        const int64_t bytes = 18 * (int64_t)nbt;
        ea512_q4g_group(ws, P->a[s], &a0, &a1, &la0, &la1, 0, ea512_q4g_mask(bytes, 0, 64),
                        ea512_q4g_mask(bytes, 64, 64), (__mmask16)ea512_q4g_mask(bytes, 128, 16));
        if (nbt > 8)
            ea512_q4g_group(ws + 144, P->a[s] + 4, &b0, &b1, &lb0, &lb1, 0, ea512_q4g_mask(bytes, 144, 64),
                            ea512_q4g_mask(bytes, 208, 64), (__mmask16)ea512_q4g_mask(bytes, 272, 16));
    }
    /* lane L: a0 = partials of block L, a1 of 4 + L, b0 of 8 + L, b1 of 12 + L -> [L, 4+L, 8+L, 12+L] */
    const __m512i p = _mm512_add_epi32(_mm512_unpacklo_epi32(a0, a1), _mm512_unpackhi_epi32(a0, a1));
    const __m512i q = _mm512_add_epi32(_mm512_unpacklo_epi32(b0, b1), _mm512_unpackhi_epi32(b0, b1));
    __m512i u = _mm512_add_epi32(_mm512_unpacklo_epi64(p, q), _mm512_unpackhi_epi64(p, q));
    u = _mm512_add_epi32(u, _mm512_load_si512(P->corr[s]));
    const __m512i dA = _mm512_permutex2var_epi16(la0, _mm512_load_si512(ea512_q4g_idA), la1);
    const __m512i dB = _mm512_permutex2var_epi16(lb0, _mm512_load_si512(ea512_q4g_idB), lb1);
    const __m512i d16 = _mm512_mask_blend_epi16(0xCCCC, dA, dB);
    const __m512 dwa = _mm512_mul_ps(_mm512_cvtph_ps(_mm512_castsi512_si256(d16)), _mm512_load_ps(P->da[s]));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(u), dwa, acc);
}

static inline __attribute__((always_inline)) float ea512_q4g_row(int64_t nb, const uint8_t *w, const ea512_q4g_prep *P) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(); /* two FMA chains */
    const int64_t ns = nb / 16;
    int64_t s = 0;
    for (; s + 1 < ns; s += 2) {
        acc0 = ea512_q4g_step(w + s * 288, P, s, acc0, 16);
        acc1 = ea512_q4g_step(w + (s + 1) * 288, P, s + 1, acc1, 16);
    }
    if (s < ns) acc0 = ea512_q4g_step(w + s * 288, P, s, acc0, 16), s++;
    if (nb % 16) acc1 = ea512_q4g_step(w + s * 288, P, s, acc1, (int)(nb % 16));
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

/* s[j] = dot(w row j, a), j < n; K = 32 nb with nb <= 16 EA512_Q4G_MAXS (the caller checks) */
static inline void ea512_gemv_q4_0(int64_t k, int64_t n, float *s, const void *w, size_t ws, const void *a) {
    const int64_t nb = k / 32;
    ea512_q4g_prep P;
    ea512_q4g_prep_fill(nb, (const uint8_t *)a, &P);
    for (int64_t j = 0; j < n; j++) s[j] = ea512_q4g_row(nb, (const uint8_t *)w + (size_t)j * ws, &P);
}

#endif /* EDGEAI_X86_AVX512_GEMV_Q4_0_H */
