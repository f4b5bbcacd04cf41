/* AVX2 K-quant kernels (q2_K, q3_K, q4_K, q5_K, q6_K with q8_K activations) for C = 1..4 activation rows: each
 * super-block is unpacked once per group of rows (the dot is C = 1).
 * q4_K: per 32-element sub-block one vpmaddubsw (nibbles x int8) and one vpmaddwd against the
 * sub-block's scale; int32 over the super-block, one FMA with d_w * d_a; mins via the bsums.
 * q6_K: 6-bit quants rebuilt 32 at a time (0..63, unsigned), vpmaddubsw then vpmaddwd against the
 * two 16-element sub-block scales; the -32 offset once per super-block via the bsums.
 * No saturation: 15 * 127 * 2 and 63 * 127 * 2 fit int16. ref: ggml-common.h block_q4_K, block_q6_K
 * Compiled with -mavxvnni (the *-avxvnni.c files), vpdpwssd fuses a scale's vpmaddwd with the int32
 * add: two sub-blocks as vpmaddwd + vpdpwssd + one add into the super-block sum (q4_K, q5_K,
 * q6_K; the chain through the sum stays one add long), q2_K / q3_K likewise per two sub-block
 * pairs. The avx512vnni q4_K / q5_K files compile these templates too and get the same vpdpwssd
 * on ymm in its EVEX form (AVX-512 VNNI + VL); ea256_dpwssd names whichever form the build has.
 * The int32 sums are the same; the avx2 objects do not change (every VNNI line is under
 * EA256_KVNNI). */
#ifndef EDGEAI_X86_AVX2_KQUANT_H
#define EDGEAI_X86_AVX2_KQUANT_H

#include <immintrin.h>
#include <stdalign.h>
#include "../blocks.h"
#include "kquant-scales.h"

#if defined(__AVXVNNI__)
#define EA256_KVNNI 1
#define ea256_dpwssd _mm256_dpwssd_avx_epi32
#elif defined(__AVX512VNNI__) && defined(__AVX512VL__)
#define EA256_KVNNI 1
#define ea256_dpwssd _mm256_dpwssd_epi32
#else
#define EA256_KVNNI 0
#endif

static inline float ea256_hsum_ps(__m256 acc) {
    __m128 r = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

/* the 8 sub-block mins of q4_K / q5_K, each repeated for the two 16-element bsums it covers, as int16 */
static inline __m256i ea256_k4_mins16(uint64_t mn) {
    const __m128i m = _mm_cvtsi64_si128((long long)mn);
    return _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m, m));
}

/* sum_j mn[j] * (bsums[2j] + bsums[2j+1]): one vpmaddwd and a horizontal sum */
static inline int32_t ea256_k4_msum(__m256i mn16, const int16_t *bsums) {
    const __m256i p = _mm256_madd_epi16(mn16, _mm256_loadu_si256((const __m256i *)bsums));
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

/* q5_K: bit `bit` of every byte of qh moved to bit 4 */
static inline __attribute__((always_inline)) __m256i ea256_k5_bit(__m256i qh, const int bit) {
    /* 16-bit shifts: the mask drops what crossed from the neighbouring byte */
    const __m256i x = bit <= 4 ? _mm256_slli_epi16(qh, 4 - bit) : _mm256_srli_epi16(qh, bit - 4);
    return _mm256_and_si256(x, _mm256_set1_epi8(0x10));
}

/* q4_K with one activation row (the decode GEMV): the same products as ea256_q4K_rows, with less
 * work around them, which the C = 1 loop is bound by (from L1 it ran at 19 GB/s of weights on Zen 4):
 *   - each sub-block scale goes to the products as the int16 pair (sc, sc) of a dword, stored once
 *     per super-block and taken back by vpbroadcastd from memory (a load, not a shuffle: set1_epi16
 *     of a general register is vmovd + vpbroadcastw per sub-block);
 *   - the scaled sums go into two int32 chains (even / odd 64-element quarters), so no vector add;
 *   - the mins term stays a vector: vpmaddwd against the bsums, converted and accumulated with
 *     dmin d_a, one horizontal sum per row instead of one per super-block.
 * C harness, Zen 4, 1 thread, same process, old -> new: avx512vnni build 2048 x 2048 from L1 18.8 ->
 * 24.0 GB/s, 4096 x 4096 and 2048 x 5632 from memory 16.3 -> 23.4-23.8 GB/s (52-53% -> 75-77% of
 * the streaming read); avx2 build 17.9 -> 21.3 from L1, 17.5 -> 21.3 from memory (not measured on
 * an AVX2-only CPU). Integer sums are the same; the float sum order differs.
 * ea256_k45_sblock is one super-block of it (qh5 NULL) or of ea256_q5K_row1: acc += d d_a sum(sc q a)
 * (8 lanes), macc += dmin d_a sum(m bsums). */
static inline __attribute__((always_inline)) void ea256_k45_sblock(const uint8_t *scales, const uint8_t *qs,
                                                                   const uint8_t *qh5, ea_fp16 d, ea_fp16 dmin,
                                                                   const block_q8_K *ab, __m256 *acc, __m256 *macc) {
    const __m256i m0f = _mm256_set1_epi8(0x0f);
    uint64_t sc, mn;
    ea_k4_scales64(scales, &sc, &mn);
    alignas(32) int32_t sc2[8]; /* dword j: sub-block j's scale in both int16 halves */
    const __m128i s16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)sc));
    _mm256_store_si256((__m256i *)sc2, _mm256_set_m128i(_mm_unpackhi_epi16(s16, s16), _mm_unpacklo_epi16(s16, s16)));
    const __m256i qh = qh5 ? _mm256_loadu_si256((const __m256i *)qh5) : _mm256_setzero_si256();
    __m256i i0 = _mm256_setzero_si256(), i1 = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int g = 0; g < 4; g++) {
        /* 32 bytes: low nibbles = sub-block 2g, high nibbles = sub-block 2g + 1 (q5_K: + the fifth bits) */
        const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * g));
        __m256i lo = _mm256_and_si256(v, m0f), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m0f);
        if (qh5) {
            lo = _mm256_or_si256(lo, ea256_k5_bit(qh, 2 * g));
            hi = _mm256_or_si256(hi, ea256_k5_bit(qh, 2 * g + 1));
        }
        const int8_t *aq = ab->qs + 64 * g;
        const __m256i p0 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)aq));
        const __m256i p1 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(aq + 32)));
        const __m256i s0 = _mm256_set1_epi32(sc2[2 * g]), s1 = _mm256_set1_epi32(sc2[2 * g + 1]);
#if EA256_KVNNI
        if (g & 1) i1 = ea256_dpwssd(ea256_dpwssd(i1, p0, s0), p1, s1);
        else i0 = ea256_dpwssd(ea256_dpwssd(i0, p0, s0), p1, s1);
#else
        const __m256i t = _mm256_add_epi32(_mm256_madd_epi16(p0, s0), _mm256_madd_epi16(p1, s1));
        if (g & 1) i1 = _mm256_add_epi32(i1, t);
        else i0 = _mm256_add_epi32(i0, t);
#endif
    }
    const __m256i mp = _mm256_madd_epi16(ea256_k4_mins16(mn), _mm256_loadu_si256((const __m256i *)ab->bsums));
    *acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(i0, i1)), _mm256_set1_ps(_cvtsh_ss(d) * ab->d), *acc);
    *macc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mp), _mm256_set1_ps(_cvtsh_ss(dmin) * ab->d), *macc);
}

static inline __attribute__((always_inline)) float ea256_q4K_row1(int64_t nb, const block_q4_K *w, const block_q8_K *a) {
    __m256 acc = _mm256_setzero_ps(), macc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) ea256_k45_sblock(w[b].scales, w[b].qs, NULL, w[b].d, w[b].dmin, &a[b], &acc, &macc);
    return ea256_hsum_ps(_mm256_sub_ps(acc, macc));
}

static inline __attribute__((always_inline)) void ea256_q4K_rows(const int C, int64_t nb, const block_q4_K *w,
                                                                 const block_q8_K *const *a, float *out) {
    const __m256i m0f = _mm256_set1_epi8(0x0f);
    __m256 acc[4];
    float mins[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) acc[r] = _mm256_setzero_ps();
    if (C == 1) {
        out[0] = ea256_q4K_row1(nb, w, a[0]);
        return;
    }
    for (int64_t b = 0; b < nb; b++) {
        uint64_t sc, mn; /* byte j: sub-block j's scale / min */
        ea_k4_scales64(w[b].scales, &sc, &mn);
        const __m256i mn16 = ea256_k4_mins16(mn);
        const float dw = _cvtsh_ss(w[b].d), dmin = _cvtsh_ss(w[b].dmin);
        __m256i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < C; r++) {
            mins[r] += dmin * a[r][b].d * (float)ea256_k4_msum(mn16, a[r][b].bsums);
            isum[r] = _mm256_setzero_si256();
        }
        for (int g = 0; g < 4; g++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(w[b].qs + 32 * g));
            const __m256i lo = _mm256_and_si256(v, m0f), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m0f);
            const __m256i s0 = _mm256_set1_epi16((short)(sc >> 16 * g & 0xff)), s1 = _mm256_set1_epi16((short)(sc >> (16 * g + 8) & 0xff));
#pragma GCC unroll 4
            for (int r = 0; r < C; r++) {
                const int8_t *aq = a[r][b].qs + 64 * g;
                const __m256i p0 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)aq));
                const __m256i p1 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(aq + 32)));
#if EA256_KVNNI
                isum[r] = _mm256_add_epi32(isum[r], ea256_dpwssd(_mm256_madd_epi16(p0, s0), p1, s1));
#else
                isum[r] = _mm256_add_epi32(isum[r], _mm256_add_epi32(_mm256_madd_epi16(p0, s0), _mm256_madd_epi16(p1, s1)));
#endif
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < C; r++)
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r]), _mm256_set1_ps(dw * a[r][b].d), acc[r]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) out[r] = ea256_hsum_ps(acc[r]) - mins[r];
}

/* q5_K with one activation row: ea256_q4K_row1's plan (scales as int16 pairs broadcast from
 * memory, two int32 chains, vector mins) with the fifth bits of qh: bit 2g of qh[l] -> bit 4 of
 * element 64g + l, bit 2g + 1 -> bit 4 of element 64g + 32 + l, each one shift and one mask.
 * C harness, Zen 4, 1 thread, same process, old -> new, 4096 x 4096 from memory: avx512vnni build
 * 16.5 -> 24.0 GB/s (53% -> 78% of the streaming read), avx2 build 14.5 -> 21.9. */
static inline __attribute__((always_inline)) float ea256_q5K_row1(int64_t nb, const block_q5_K *w, const block_q8_K *a) {
    __m256 acc = _mm256_setzero_ps(), macc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) ea256_k45_sblock(w[b].scales, w[b].qs, w[b].qh, w[b].d, w[b].dmin, &a[b], &acc, &macc);
    return ea256_hsum_ps(_mm256_sub_ps(acc, macc));
}

static inline __attribute__((always_inline)) void ea256_q5K_rows(const int C, int64_t nb, const block_q5_K *w,
                                                                 const block_q8_K *const *a, float *out) {
    const __m256i m0f = _mm256_set1_epi8(0x0f), m10 = _mm256_set1_epi8(0x10);
    __m256 acc[4];
    float mins[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) acc[r] = _mm256_setzero_ps();
    if (C == 1) {
        out[0] = ea256_q5K_row1(nb, w, a[0]);
        return;
    }
    for (int64_t b = 0; b < nb; b++) {
        uint64_t sc, mn; /* byte j: sub-block j's scale / min */
        ea_k4_scales64(w[b].scales, &sc, &mn);
        const __m256i mn16 = ea256_k4_mins16(mn);
        const __m256i qh = _mm256_loadu_si256((const __m256i *)w[b].qh);
        const float dw = _cvtsh_ss(w[b].d), dmin = _cvtsh_ss(w[b].dmin);
        __m256i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < C; r++) {
            mins[r] += dmin * a[r][b].d * (float)ea256_k4_msum(mn16, a[r][b].bsums);
            isum[r] = _mm256_setzero_si256();
        }
        for (int g = 0; g < 4; g++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(w[b].qs + 32 * g));
            /* fifth bits: bit 2g of qh[l] for element 64g + l, bit 2g+1 for element 64g + 32 + l */
            const __m256i lo = _mm256_or_si256(_mm256_and_si256(v, m0f),
                                               _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * g), 4), m10));
            const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m0f),
                                               _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * g + 1), 4), m10));
            const __m256i s0 = _mm256_set1_epi16((short)(sc >> 16 * g & 0xff)), s1 = _mm256_set1_epi16((short)(sc >> (16 * g + 8) & 0xff));
#pragma GCC unroll 4
            for (int r = 0; r < C; r++) {
                const int8_t *aq = a[r][b].qs + 64 * g;
                const __m256i p0 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)aq));
                const __m256i p1 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(aq + 32)));
#if EA256_KVNNI
                isum[r] = _mm256_add_epi32(isum[r], ea256_dpwssd(_mm256_madd_epi16(p0, s0), p1, s1));
#else
                isum[r] = _mm256_add_epi32(isum[r], _mm256_add_epi32(_mm256_madd_epi16(p0, s0), _mm256_madd_epi16(p1, s1)));
#endif
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < C; r++)
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r]), _mm256_set1_ps(dw * a[r][b].d), acc[r]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) out[r] = ea256_hsum_ps(acc[r]) - mins[r];
}

/* q6_K: the 128 6-bit quants (0..63, unsigned) of half super-block h, 32 per register in element
 * order (q[i] = elements 128h + 32i .. + 31) */
static inline __attribute__((always_inline)) void ea256_q6K_quants(const block_q6_K *x, int h, __m256i q[4]) {
    const __m256i m0f = _mm256_set1_epi8(0x0f), m03 = _mm256_set1_epi8(0x03);
    const __m256i L0 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * h));
    const __m256i L1 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * h + 32));
    const __m256i H = _mm256_loadu_si256((const __m256i *)(x->qh + 32 * h));
    q[0] = _mm256_or_si256(_mm256_and_si256(L0, m0f), _mm256_slli_epi16(_mm256_and_si256(H, m03), 4));
    q[1] = _mm256_or_si256(_mm256_and_si256(L1, m0f),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(H, 2), m03), 4));
    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(L0, 4), m0f),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(H, 4), m03), 4));
    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(L1, 4), m0f),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(H, 6), m03), 4));
}

/* q6_K with one activation row: the quants as in ea256_q6K_rows; the scale pairs (low lane sub-block
 * j, high lane j + 1) by one vpshufb each from the half super-block's 8 int16 scales in both lanes,
 * two int32 chains, and the -32 offset added to the first chain as vpmaddwd(32 scale, -bsums)
 * (the old C = 1 path built each scale pair with 2 vpbroadcastw from general registers and an
 * insert, and summed the offset horizontally per super-block). Runs in the avx2 and avxvnni
 * builds (avx512vnni has ea512_q6K_row1). C harness, Zen 4, avx2 build, 1 thread, old -> new:
 * 2048 x 2048 from L1 13.8 -> 26.0 GB/s, 4096 x 4096 from memory 13.4 -> 24.6 (43% -> 79%). */
static inline __attribute__((always_inline)) float ea256_q6K_row1(int64_t nb, const block_q6_K *w, const block_q8_K *a) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w[b].scales));
        __m256i i0 = _mm256_madd_epi16(_mm256_slli_epi16(sc16, 5),
                                       _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_loadu_si256((const __m256i *)a[b].bsums)));
        __m256i i1 = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256i q[4];
            ea256_q6K_quants(&w[b], h, q);
            /* scales 8h .. 8h + 7 (int16) in both lanes */
            const __m256i sh = _mm256_permute4x64_epi64(sc16, h ? 0xee : 0x44);
            const int8_t *aq = a[b].qs + 128 * h;
#pragma GCC unroll 4
            for (int i = 0; i < 4; i++) { /* 32 elements = sub-blocks 8h + 2i (low lane), + 1 (high) */
                const __m256i S = _mm256_shuffle_epi8(sh, _mm256_setr_epi8(4 * i, 4 * i + 1, 4 * i, 4 * i + 1, 4 * i, 4 * i + 1,
                    4 * i, 4 * i + 1, 4 * i, 4 * i + 1, 4 * i, 4 * i + 1, 4 * i, 4 * i + 1, 4 * i, 4 * i + 1,
                    4 * i + 2, 4 * i + 3, 4 * i + 2, 4 * i + 3, 4 * i + 2, 4 * i + 3, 4 * i + 2, 4 * i + 3,
                    4 * i + 2, 4 * i + 3, 4 * i + 2, 4 * i + 3, 4 * i + 2, 4 * i + 3, 4 * i + 2, 4 * i + 3));
                const __m256i p = _mm256_maddubs_epi16(q[i], _mm256_loadu_si256((const __m256i *)(aq + 32 * i)));
#if EA256_KVNNI
                if (i & 1) i1 = ea256_dpwssd(i1, p, S);
                else i0 = ea256_dpwssd(i0, p, S);
#else
                if (i & 1) i1 = _mm256_add_epi32(i1, _mm256_madd_epi16(p, S));
                else i0 = _mm256_add_epi32(i0, _mm256_madd_epi16(p, S));
#endif
            }
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(i0, i1)), _mm256_set1_ps(_cvtsh_ss(w[b].d) * a[b].d), acc);
    }
    return ea256_hsum_ps(acc);
}

static inline __attribute__((always_inline)) void ea256_q6K_rows(const int C, int64_t nb, const block_q6_K *w,
                                                                 const block_q8_K *const *a, float *out) {
    __m256 acc[4];
    float corr[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) acc[r] = _mm256_setzero_ps();
    if (C == 1) {
        out[0] = ea256_q6K_row1(nb, w, a[0]);
        return;
    }
    for (int64_t b = 0; b < nb; b++) {
        const int8_t *sc = w[b].scales;
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
        const float dw = _cvtsh_ss(w[b].d);
        __m256i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < C; r++) {
            const __m256i off8 = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)a[r][b].bsums));
            __m128i o4 = _mm_add_epi32(_mm256_castsi256_si128(off8), _mm256_extracti128_si256(off8, 1));
            o4 = _mm_hadd_epi32(o4, o4);
            o4 = _mm_hadd_epi32(o4, o4);
            corr[r] += dw * a[r][b].d * (float)(32 * _mm_cvtsi128_si32(o4));
            isum[r] = _mm256_setzero_si256();
        }
        for (int h = 0; h < 2; h++) {
            __m256i q[4], S[4];
            ea256_q6K_quants(&w[b], h, q);
            for (int i = 0; i < 4; i++) { /* 32 elements = sub-blocks j, j+1: one scale per 128-bit lane */
                const int j = 8 * h + 2 * i;
                S[i] = _mm256_set_m128i(_mm_set1_epi16(sc[j + 1]), _mm_set1_epi16(sc[j]));
            }
#pragma GCC unroll 4
            for (int r = 0; r < C; r++) {
                const int8_t *aq = a[r][b].qs + 128 * h;
#if EA256_KVNNI
                for (int i = 0; i < 4; i += 2) {
                    const __m256i p0 = _mm256_maddubs_epi16(q[i], _mm256_loadu_si256((const __m256i *)(aq + 32 * i)));
                    const __m256i p1 = _mm256_maddubs_epi16(q[i + 1], _mm256_loadu_si256((const __m256i *)(aq + 32 * i + 32)));
                    isum[r] = _mm256_add_epi32(isum[r], ea256_dpwssd(_mm256_madd_epi16(p0, S[i]), p1, S[i + 1]));
                }
#else
                for (int i = 0; i < 4; i++) {
                    const __m256i p = _mm256_maddubs_epi16(q[i], _mm256_loadu_si256((const __m256i *)(aq + 32 * i)));
                    isum[r] = _mm256_add_epi32(isum[r], _mm256_madd_epi16(p, S[i]));
                }
#endif
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < C; r++)
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r]), _mm256_set1_ps(dw * a[r][b].d), acc[r]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) out[r] = ea256_hsum_ps(acc[r]) - corr[r];
}

/* q2_K / q3_K: 32 unsigned quants u of sub-blocks j (low lane) and j + 1 (high lane) against C
 * activation rows: isum_r += sc_j * sum(u a) | sc_j+1 * sum(u a), per lane */
static inline __attribute__((always_inline)) void ea256_k16_pair(const int C, __m256i u, int sc_lo, int sc_hi,
                                                                 const block_q8_K *const *a, int64_t b, int j,
                                                                 __m256i *isum) {
    const __m256i S = _mm256_set_m128i(_mm_set1_epi16((short)sc_hi), _mm_set1_epi16((short)sc_lo));
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) {
        const __m256i p = _mm256_maddubs_epi16(u, _mm256_loadu_si256((const __m256i *)(a[r][b].qs + 16 * j)));
        isum[r] = _mm256_add_epi32(isum[r], _mm256_madd_epi16(p, S));
    }
}

#if EA256_KVNNI
/* two ea256_k16_pair steps at once (u0: sub-blocks j, j + 1; u1: j + 2, j + 3): vpmaddwd +
 * vpdpwssd + one add per row. A vpdpwssd straight into isum per pair would make the chain
 * through isum 8 x 5 cycles per super-block (measured 25% slower than avx2 for q3_K, C = 1). */
static inline __attribute__((always_inline)) void ea256_k16_quad(const int C, __m256i u0, __m256i u1, int sc0, int sc1,
                                                                 int sc2, int sc3, const block_q8_K *const *a, int64_t b,
                                                                 int j, __m256i *isum) {
    const __m256i S0 = _mm256_set_m128i(_mm_set1_epi16((short)sc1), _mm_set1_epi16((short)sc0));
    const __m256i S1 = _mm256_set_m128i(_mm_set1_epi16((short)sc3), _mm_set1_epi16((short)sc2));
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) {
        const __m256i p0 = _mm256_maddubs_epi16(u0, _mm256_loadu_si256((const __m256i *)(a[r][b].qs + 16 * j)));
        const __m256i p1 = _mm256_maddubs_epi16(u1, _mm256_loadu_si256((const __m256i *)(a[r][b].qs + 16 * j + 32)));
        isum[r] = _mm256_add_epi32(isum[r], ea256_dpwssd(_mm256_madd_epi16(p0, S0), p1, S1));
    }
}
#endif

/* q2_K: 16 sub-blocks of 16, q = 2 bits (0..3) from qs[32 * (e / 128) + e % 32] >> 2 * ((e / 32) % 4),
 * scale and min 4 bits each; sum = d_a (d sum_sb sc * sum(q a) - dmin sum_sb mn * bsum_sb).
 * 32 elements per shift of a 32-byte qs half: two sub-blocks, one per 128-bit lane. */
static inline __attribute__((always_inline)) void ea256_q2K_rows(const int C, int64_t nb, const block_q2_K *w,
                                                                 const block_q8_K *const *a, float *out) {
    const __m256i m03 = _mm256_set1_epi8(0x03);
    __m256 acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) acc[r] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const __m128i sb = _mm_loadu_si128((const __m128i *)w[b].scales);
        const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sb, 4), _mm_set1_epi8(0x0f)));
        uint8_t sc[16];
        _mm_storeu_si128((__m128i *)sc, _mm_and_si128(sb, _mm_set1_epi8(0x0f)));
        const float dw = _cvtsh_ss(w[b].d), dmin = _cvtsh_ss(w[b].dmin);
        __m256i isum[4];
        float mins[4];
#pragma GCC unroll 4
        for (int r = 0; r < C; r++) {
            const __m256i m8 = _mm256_madd_epi16(mn16, _mm256_loadu_si256((const __m256i *)a[r][b].bsums));
            __m128i m4 = _mm_add_epi32(_mm256_castsi256_si128(m8), _mm256_extracti128_si256(m8, 1));
            m4 = _mm_hadd_epi32(m4, m4);
            m4 = _mm_hadd_epi32(m4, m4);
            mins[r] = dmin * (float)_mm_cvtsi128_si32(m4);
            isum[r] = _mm256_setzero_si256();
        }
        for (int h = 0; h < 2; h++) {
            const __m256i Q = _mm256_loadu_si256((const __m256i *)(w[b].qs + 32 * h));
#if EA256_KVNNI
#pragma GCC unroll 2
            for (int sh = 0; sh < 4; sh += 2) {
                const int j = 8 * h + 2 * sh;
                ea256_k16_quad(C, _mm256_and_si256(_mm256_srli_epi16(Q, 2 * sh), m03),
                               _mm256_and_si256(_mm256_srli_epi16(Q, 2 * sh + 2), m03), sc[j], sc[j + 1], sc[j + 2],
                               sc[j + 3], a, b, j, isum);
            }
#else
#pragma GCC unroll 4
            for (int sh = 0; sh < 4; sh++) {
                const int j = 8 * h + 2 * sh; /* sub-blocks j (low lane), j + 1 (high lane) */
                ea256_k16_pair(C, _mm256_and_si256(_mm256_srli_epi16(Q, 2 * sh), m03), sc[j], sc[j + 1], a, b, j, isum);
            }
#endif
        }
#pragma GCC unroll 4
        for (int r = 0; r < C; r++) {
            /* d_a (d isum - dmin msum): the isum vector scaled by d_w d_a, the mins by d_a */
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r]), _mm256_set1_ps(dw * a[r][b].d), acc[r]);
            acc[r] = _mm256_sub_ps(acc[r], _mm256_setr_ps(mins[r] * a[r][b].d, 0, 0, 0, 0, 0, 0, 0));
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) out[r] = ea256_hsum_ps(acc[r]);
}

/* q3_K: q = low 2 bits (as q2_K) + 4 * hmask bit - 4, in -4..3; 6-bit scales minus 32. With the
 * unsigned u = low + 4 * hbit (0..7): sum(q a) = sum(u a) - 4 bsum, so
 * isum = sum_sb sc (sum(u a) - 4 bsum_sb); sum = d_a d isum. hbit of element 32 s + j is bit s of
 * hmask[j] (s = 0..7). */
static inline __attribute__((always_inline)) void ea256_q3K_rows(const int C, int64_t nb, const block_q3_K *w,
                                                                 const block_q8_K *const *a, float *out) {
    const __m256i m03 = _mm256_set1_epi8(0x03), m01 = _mm256_set1_epi8(0x01);
    __m256 acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) acc[r] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *ws = w[b].scales;
        int16_t sc[16];
        for (int i = 0; i < 16; i++) {
            const int lo = i < 8 ? (ws[i] & 0x0f) : (ws[i - 8] >> 4);
            const int hi = (ws[8 + i % 4] >> (2 * (i / 4))) & 3;
            sc[i] = (int16_t)((lo | (hi << 4)) - 32);
        }
        const __m256i sc16 = _mm256_loadu_si256((const __m256i *)sc);
        const __m256i H = _mm256_loadu_si256((const __m256i *)w[b].hmask);
        const float dw = _cvtsh_ss(w[b].d);
        __m256i isum[4];
#pragma GCC unroll 4
        for (int r = 0; r < C; r++) /* -4 sum_sb sc bsum_sb, as 8 int32 partial sums */
            isum[r] = _mm256_slli_epi32(_mm256_madd_epi16(sc16, _mm256_sub_epi16(_mm256_setzero_si256(),
                                        _mm256_loadu_si256((const __m256i *)a[r][b].bsums))), 2);
        for (int h = 0; h < 2; h++) {
            const __m256i Q = _mm256_loadu_si256((const __m256i *)(w[b].qs + 32 * h));
#if EA256_KVNNI
#pragma GCC unroll 2
            for (int sh = 0; sh < 4; sh += 2) {
                const int j = 8 * h + 2 * sh, s = 4 * h + sh;
                __m256i u[2];
                for (int i = 0; i < 2; i++) {
                    const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(H, s + i), m01);
                    u[i] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(Q, 2 * (sh + i)), m03), _mm256_slli_epi16(hb, 2));
                }
                ea256_k16_quad(C, u[0], u[1], sc[j], sc[j + 1], sc[j + 2], sc[j + 3], a, b, j, isum);
            }
#else
#pragma GCC unroll 4
            for (int sh = 0; sh < 4; sh++) {
                const int j = 8 * h + 2 * sh, s = 4 * h + sh;
                /* 16-bit shifts: bit 0 of each byte is the wanted bit, the bits shifted in are masked off */
                const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(H, s), m01);
                const __m256i u = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(Q, 2 * sh), m03), _mm256_slli_epi16(hb, 2));
                ea256_k16_pair(C, u, sc[j], sc[j + 1], a, b, j, isum);
            }
#endif
        }
#pragma GCC unroll 4
        for (int r = 0; r < C; r++)
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r]), _mm256_set1_ps(dw * a[r][b].d), acc[r]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) out[r] = ea256_hsum_ps(acc[r]);
}

/* gemm over any m x n: weight rows outer, activation rows in groups of 4 */
#define EA256_KQ_GEMM(ROWS, WT, k, m, n, s, lds, w, ws, a, as)                                          \
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
