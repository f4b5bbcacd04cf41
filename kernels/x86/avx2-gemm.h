/* AVX2 tile kernel for the 32-element block formats (q4_0, q5_0, q8_0 with q8_0 activations; q4_1,
 * q5_1 with q8_1). The m == 1 (decode) case goes to avx2-gemv.h, which uses ea256_rows below.
 *
 * m > 1 (prefill, im2col convolutions): the activation rows are repacked once per call, 8 rows per
 * group (ea256_pack): per block, chunk g (g = 0..7) holds elements 4g..4g+3 of the 8 rows, one dword
 * per row, plus the rows' d as float and their -off * sum(q) (q4_0, q5_0) or s (q8_1). Weights stay
 * in their GGUF blocks: a dword of 4 weights is broadcast (vpbroadcastd from memory) and one
 * vpmaddubsw multiplies it with chunk g, giving the 8 rows' pair sums side by side, so each output
 * lane is one (activation row, weight row) pair and no horizontal sum is ever needed. Per block and
 * (weight row, 8 rows) the 16-bit sums are widened by vpmaddwd, then one cvt + mul + FMA applies
 * d_w * d_a (the d_w as float, converted once per call). Register blocking: 2 weight rows x 16
 * activation rows (two groups) while 9+ rows remain, else 4 x 8: each broadcast and nibble unpack
 * serves both groups, each chunk both weight rows.
 *
 * Per format (chunk = 32 multiply-adds for 8 rows):
 *   q4_0 / q4_1: the qs dword j broadcast once; its low nibbles are chunk j, high nibbles chunk j+4.
 *     u in 0..15, pair <= 2*15*128 = 3840: all 8 chunks summed in 16 bits (30720), widened once.
 *   q5_0 / q5_1: the unpacked block (nibbles | qh bit) is stored on the stack one block ahead and
 *     its dwords broadcast; pair <= 7936, widened every 4 chunks (31744).
 *   q8_0: maddubs(|a|, sign(w, a)) with |a| packed too; pair <= 2*127*128, widened every chunk.
 *     sign() cannot negate -128: a block (of the weight rows in flight) holding a -128 weight, which
 *     ggml's quantizer never writes, takes maddubs(|w|, sign(a, w)) instead (|w| <= 128 unsigned).
 * AVX-VNNI (EA256_VNNI, the *-avxvnni.c files): vpdpbusd multiplies 4 u8 x s8 and adds them to an
 * int32 lane, so every chunk goes straight into the int32 accumulator of its (weight row, 8 rows):
 *   q4_0 / q4_1 / q5_0 / q5_1: the same broadcasts and chunks, no 16-bit sums, no vpmaddwd; the
 *     -off * sum(q) of the pack starts the accumulator instead of being added after;
 *   q8_0: sum(w a) = sum(w (a + 128)) - 128 sum(w): the pack stores a ^ 0x80 (= a + 128 as u8),
 *     the weight dwords are broadcast as they are (s8), and -128 * sum(w) of each weight block
 *     (computed per call with the float d_w) starts the accumulator. Exact for every weight and
 *     activation byte: no vpsignb, no |a| copy, no -128 special case.
 * Integer block sums are exact; only the float accumulation order differs from the reference. */
#ifndef EDGEAI_X86_AVX2_GEMM_H
#define EDGEAI_X86_AVX2_GEMM_H

#include <stdlib.h>
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

/* one weight row x C (<= 4) activation rows, block after block: the m == 1 path (avx2-gemv.h) */
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

/* ---- m > 1 ------------------------------------------------------------------------------------- */

/* packed activation block of an 8-row group: 8 chunks of 32 B (chunk g: elements 4g..4g+3 of rows
 * 0..7, one dword per row), then d[8] (float), then c[8]: int32 -off * sum(qs) (q4_0, q5_0) or float
 * s (q8_1: d * sum(qs)), 0 for q8_0; q8_0 then has the 8 chunks again as |qs|. Rows past m are zero.
 * VNNI: q8_0's chunks hold qs ^ 0x80 and there is no |qs| copy. */
#if EA256_VNNI
#define EA256_PB(fmt) 320
#else
#define EA256_PB(fmt) ((fmt) == EA256_Q8_0 ? 576 : 320)
#endif

static inline __attribute__((always_inline)) void ea256_pack(const int fmt, int64_t nb, const uint8_t *a, size_t as,
                                                             int rows, uint8_t *p, size_t pstride) {
    const int MIN = fmt == EA256_Q4_1 || fmt == EA256_Q5_1;
    const int AB = MIN ? 36 : 34, AQ = MIN ? 4 : 2;
    const int off = fmt == EA256_Q4_0 ? 8 : fmt == EA256_Q5_0 ? 16 : 0;
    for (int64_t b = 0; b < nb; b++, p += pstride) {
        __m256i v[8];
        float d[8], c[8];
        int32_t ci[8];
        for (int r = 0; r < 8; r++) {
            if (r < rows) {
                const uint8_t *ab = a + (size_t)r * as + (size_t)b * AB;
                ea_fp16 h;
                v[r] = _mm256_loadu_si256((const __m256i *)(ab + AQ));
                memcpy(&h, ab, 2);
                d[r] = ea256_h2f(h);
                c[r] = 0.0f;
                if (MIN) {
                    memcpy(&h, ab + 2, 2);
                    c[r] = ea256_h2f(h);
                }
            } else {
                v[r] = _mm256_setzero_si256();
                d[r] = c[r] = 0.0f;
            }
        }
        /* 8 x 8 dword transpose: row r's dword g -> chunk g's dword r */
        __m256i t[8], u[8];
        for (int i = 0; i < 4; i++) {
            t[2 * i] = _mm256_unpacklo_epi32(v[2 * i], v[2 * i + 1]);
            t[2 * i + 1] = _mm256_unpackhi_epi32(v[2 * i], v[2 * i + 1]);
        }
        for (int i = 0; i < 2; i++) {
            u[4 * i + 0] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
            u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
            u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
            u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
        }
        __m256i s16 = _mm256_setzero_si256();
        for (int g = 0; g < 4; g++) {
            const __m256i lo = _mm256_permute2x128_si256(u[g], u[4 + g], 0x20);
            const __m256i hi = _mm256_permute2x128_si256(u[g], u[4 + g], 0x31);
#if EA256_VNNI
            if (fmt == EA256_Q8_0) {
                _mm256_storeu_si256((__m256i *)(p + 32 * g), _mm256_xor_si256(lo, _mm256_set1_epi8((char)0x80)));
                _mm256_storeu_si256((__m256i *)(p + 32 * (g + 4)), _mm256_xor_si256(hi, _mm256_set1_epi8((char)0x80)));
            } else {
                _mm256_storeu_si256((__m256i *)(p + 32 * g), lo);
                _mm256_storeu_si256((__m256i *)(p + 32 * (g + 4)), hi);
            }
#else
            _mm256_storeu_si256((__m256i *)(p + 32 * g), lo);
            _mm256_storeu_si256((__m256i *)(p + 32 * (g + 4)), hi);
            if (fmt == EA256_Q8_0) {
                _mm256_storeu_si256((__m256i *)(p + 320 + 32 * g), _mm256_abs_epi8(lo));
                _mm256_storeu_si256((__m256i *)(p + 320 + 32 * (g + 4)), _mm256_abs_epi8(hi));
            }
#endif
            if (off) {
                s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(_mm256_set1_epi8(1), lo));
                s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(_mm256_set1_epi8(1), hi));
            }
        }
        memcpy(p + 256, d, 32);
        if (off) {
            /* per row: -off * sum(qs); the 16-bit pair sums are <= 8 * 2 * 128 */
            _mm256_storeu_si256((__m256i *)ci, _mm256_madd_epi16(s16, _mm256_set1_epi16((short)-off)));
            memcpy(p + 288, ci, 32);
        } else {
            memcpy(p + 288, c, 32);
        }
    }
}

/* vpbroadcastd from memory (a load, no shuffle-port work). As plain C, gcc forwards a just-stored
 * vector through registers with a shift + broadcast per dword, or merges equal broadcasts and keeps
 * them live (spills); volatile keeps each one a load where it is written. */
static inline __m256i ea256_bcast32(const uint8_t *p) {
    __m256i v;
    __asm__ volatile("vpbroadcastd %1, %0" : "=x"(v) : "m"(*(const int32_t *)p));
    return v;
}

/* an aligned 32-byte load that stays one (gcc would fold it into each use as a memory operand) */
static inline __m256i ea256_load(const uint8_t *p) {
    __m256i v;
    __asm__ volatile("vmovdqa %1, %0" : "=x"(v) : "m"(*(const __m256i *)p));
    return v;
}

/* keeps v a register value at this point: without it gcc rebalances the chains of adds into trees
 * and spills the partial products */
#define EA256_CHAIN(v) __asm__("" : "+x"(v))

/* R weight rows x Q packed 8-row groups (R * Q <= 4); out[r * Q + q] lanes = the 8 rows' dot
 * products. A weight broadcast (and its unpacking) serves the Q groups; an activation chunk the R rows.
 * mwf: per weight block, q4_1 / q5_1: m as float; q8_0 with VNNI: -128 * sum(w) as int32. */
static inline __attribute__((always_inline)) void ea256_tile(const int fmt, const int R, const int Q, int64_t nb,
                                                             const uint8_t *w, size_t ws, const uint8_t *p,
                                                             const float *dwf, const float *mwf, const int chk,
                                                             __m256 *out) {
    const int WB = fmt == EA256_Q4_0 ? 18 : fmt == EA256_Q8_0 ? 34 : fmt == EA256_Q4_1 ? 20 : fmt == EA256_Q5_0 ? 22 : 24;
    const int WQ = fmt == EA256_Q4_0 || fmt == EA256_Q8_0 ? 2 : fmt == EA256_Q4_1 ? 4 : fmt == EA256_Q5_0 ? 6 : 8;
    const int WH = fmt == EA256_Q5_0 ? 2 : 4;
    const int MIN = fmt == EA256_Q4_1 || fmt == EA256_Q5_1;
    const int OFF = fmt == EA256_Q4_0 || fmt == EA256_Q5_0;
    const int Q8 = fmt == EA256_Q8_0;
    const int Q4 = fmt == EA256_Q4_0 || fmt == EA256_Q4_1;
    const int PB = EA256_PB(fmt);
    const __m256i ones = _mm256_set1_epi16(1), m4 = _mm256_set1_epi8(0x0f);
    _Alignas(32) uint8_t ub[4][32];
    _Alignas(32) uint8_t ub5[2][4][32];
    if (!Q4 && !Q8 && nb > 0)
        for (int r = 0; r < R; r++)
            _mm256_store_si256((__m256i *)ub5[0][r], _mm256_or_si256(ea256_nibbles(w + (size_t)r * ws + WQ),
                                                                     ea256_qh_bits(w + (size_t)r * ws + WH)));
    __m256 acc[4];
#pragma GCC unroll 4
    for (int t = 0; t < R * Q; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++, p += (size_t)Q * PB) {
        const uint8_t *wr[4];
        __m256i i32[4]; /* [r * Q + q] */
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) wr[r] = w + (size_t)r * ws + (size_t)b * WB;
        if (Q4) {
            /* qs dword j: low nibbles are elements 4j..4j+3 (chunk j), high nibbles 16+4j.. (chunk j+4) */
#if EA256_VNNI
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) {
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) {
                    const __m256i bc = ea256_bcast32(wr[r] + WQ + 4 * j);
                    const __m256i lo = _mm256_and_si256(bc, m4), hi = _mm256_and_si256(_mm256_srli_epi16(bc, 4), m4);
#pragma GCC unroll 4
                    for (int q = 0; q < Q; q++) {
                        const uint8_t *pq = p + (size_t)q * PB;
                        const int t = r * Q + q;
                        const __m256i start = j > 0 ? i32[t] : OFF ? _mm256_load_si256((const __m256i *)(pq + 288)) : _mm256_setzero_si256();
                        i32[t] = ea256_dpbusd(start, lo, _mm256_load_si256((const __m256i *)(pq + 32 * j)));
                        i32[t] = ea256_dpbusd(i32[t], hi, _mm256_load_si256((const __m256i *)(pq + 32 * (j + 4))));
                        EA256_CHAIN(i32[t]);
                    }
                }
            }
            (void)ones;
#else
            /* 8 pairs summed per 16-bit lane: <= 8 * 2 * 15 * 128 */
            __m256i i16[4];
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) {
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) {
                    const __m256i bc = ea256_bcast32(wr[r] + WQ + 4 * j);
                    const __m256i lo = _mm256_and_si256(bc, m4), hi = _mm256_and_si256(_mm256_srli_epi16(bc, 4), m4);
#pragma GCC unroll 4
                    for (int q = 0; q < Q; q++) {
                        const uint8_t *pq = p + (size_t)q * PB;
                        const __m256i plo = _mm256_maddubs_epi16(lo, _mm256_load_si256((const __m256i *)(pq + 32 * j)));
                        const __m256i phi = _mm256_maddubs_epi16(hi, _mm256_load_si256((const __m256i *)(pq + 32 * (j + 4))));
                        const int t = r * Q + q;
                        i16[t] = j == 0 ? plo : _mm256_add_epi16(i16[t], plo);
                        i16[t] = _mm256_add_epi16(i16[t], phi);
                        EA256_CHAIN(i16[t]);
                    }
                }
            }
#pragma GCC unroll 4
            for (int t = 0; t < R * Q; t++) i32[t] = _mm256_madd_epi16(i16[t], ones);
#endif
        } else if (Q8) {
#if EA256_VNNI
            /* chunks hold a + 128 (u8), the weights go in as s8; -128 * sum(w) starts each sum */
            const int32_t *wc = (const int32_t *)(const void *)mwf;
            __m256i cw[4];
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) cw[r] = _mm256_set1_epi32(wc[(size_t)r * nb + b]);
#pragma GCC unroll 8
            for (int g = 0; g < 8; g++) {
                __m256i bc[4];
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) bc[r] = ea256_bcast32(wr[r] + WQ + 4 * g);
#pragma GCC unroll 4
                for (int q = 0; q < Q; q++) {
                    const __m256i av = ea256_load(p + (size_t)q * PB + 32 * g);
#pragma GCC unroll 4
                    for (int r = 0; r < R; r++) {
                        const int t = r * Q + q;
                        i32[t] = ea256_dpbusd(g == 0 ? cw[r] : i32[t], av, bc[r]);
                        EA256_CHAIN(i32[t]);
                    }
                }
            }
            (void)ub;
#else
            /* fast path: maddubs(|a|, sign(w, a)); exact unless a weight is -128 (sign() cannot
             * negate it), which ggml's quantizer never writes: blocks with one take the slow path.
             * chk = 0: the caller found no -128 in any weight row of the call (ea256_gemm) */
            __m256i neg = _mm256_setzero_si256();
            if (chk) {
#pragma GCC unroll 4
                for (int r = 0; r < R; r++)
                    neg = _mm256_or_si256(neg, _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(wr[r] + WQ)),
                                                                 _mm256_set1_epi8(-128)));
            }
            if (__builtin_expect(_mm256_testz_si256(neg, neg), 1)) {
#pragma GCC unroll 8
                for (int g = 0; g < 8; g++) {
                    /* each chunk and each broadcast loaded once (loads, not ALU work, limit this loop) */
                    __m256i bc[4];
#pragma GCC unroll 4
                    for (int r = 0; r < R; r++) bc[r] = ea256_bcast32(wr[r] + WQ + 4 * g);
#pragma GCC unroll 4
                    for (int q = 0; q < Q; q++) {
                        const uint8_t *pq = p + (size_t)q * PB;
                        const __m256i av = ea256_load(pq + 32 * g), aa = ea256_load(pq + 320 + 32 * g);
#pragma GCC unroll 4
                        for (int r = 0; r < R; r++) {
                            const __m256i wide = _mm256_madd_epi16(_mm256_maddubs_epi16(aa, _mm256_sign_epi8(bc[r], av)), ones);
                            const int t = r * Q + q;
                            i32[t] = g == 0 ? wide : _mm256_add_epi32(i32[t], wide);
                            EA256_CHAIN(i32[t]);
                        }
                    }
                }
            } else { /* maddubs(|w|, sign(a, w)): |w| <= 128 read as unsigned */
#pragma GCC unroll 4
                for (int r = 0; r < R; r++)
                    _mm256_store_si256((__m256i *)ub[r], _mm256_abs_epi8(_mm256_loadu_si256((const __m256i *)(wr[r] + WQ))));
                for (int g = 0; g < 8; g++) {
#pragma GCC unroll 4
                    for (int r = 0; r < R; r++) {
                        const __m256i uw = ea256_bcast32(ub[r] + 4 * g), sw = ea256_bcast32(wr[r] + WQ + 4 * g);
#pragma GCC unroll 4
                        for (int q = 0; q < Q; q++) {
                            const __m256i av = _mm256_load_si256((const __m256i *)(p + (size_t)q * PB + 32 * g));
                            const __m256i wide = _mm256_madd_epi16(_mm256_maddubs_epi16(uw, _mm256_sign_epi8(av, sw)), ones);
                            const int t = r * Q + q;
                            i32[t] = g == 0 ? wide : _mm256_add_epi32(i32[t], wide);
                            EA256_CHAIN(i32[t]);
                        }
                    }
                }
            }
#endif
        } else {
            /* q5: the unpacked block (nibbles | qh bit 4) goes through the stack, one block ahead so
             * that its stores have retired when the broadcasts read them; 4 chunks summed per 16-bit
             * lane (<= 4 * 2 * 31 * 128), then widened */
            if (b + 1 < nb) {
#pragma GCC unroll 4
                for (int r = 0; r < R; r++)
                    _mm256_store_si256((__m256i *)ub5[(b + 1) & 1][r],
                                       _mm256_or_si256(ea256_nibbles(wr[r] + WB + WQ), ea256_qh_bits(wr[r] + WB + WH)));
            }
            uint8_t(*ub)[32] = ub5[b & 1];
#if EA256_VNNI
#pragma GCC unroll 8
            for (int g = 0; g < 8; g++) {
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) {
                    const __m256i uw = ea256_bcast32(ub[r] + 4 * g);
#pragma GCC unroll 4
                    for (int q = 0; q < Q; q++) {
                        const uint8_t *pq = p + (size_t)q * PB;
                        const int t = r * Q + q;
                        const __m256i start = g > 0 ? i32[t] : OFF ? _mm256_load_si256((const __m256i *)(pq + 288)) : _mm256_setzero_si256();
                        i32[t] = ea256_dpbusd(start, uw, _mm256_load_si256((const __m256i *)(pq + 32 * g)));
                        EA256_CHAIN(i32[t]);
                    }
                }
            }
#else
            __m256i i16[4];
#pragma GCC unroll 8
            for (int g = 0; g < 8; g++) {
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) {
                    const __m256i uw = ea256_bcast32(ub[r] + 4 * g);
#pragma GCC unroll 4
                    for (int q = 0; q < Q; q++) {
                        const __m256i pr = _mm256_maddubs_epi16(uw, _mm256_load_si256((const __m256i *)(p + (size_t)q * PB + 32 * g)));
                        const int t = r * Q + q;
                        i16[t] = g % 4 == 0 ? pr : _mm256_add_epi16(i16[t], pr);
                        EA256_CHAIN(i16[t]);
                        if (g % 4 == 3) {
                            const __m256i wide = _mm256_madd_epi16(i16[t], ones);
                            i32[t] = g == 3 ? wide : _mm256_add_epi32(i32[t], wide);
                        }
                    }
                }
            }
#endif
        }
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const __m256 dw = _mm256_broadcast_ss(dwf + (size_t)r * nb + b);
#pragma GCC unroll 4
            for (int q = 0; q < Q; q++) {
                const uint8_t *pq = p + (size_t)q * PB;
                const int t = r * Q + q;
                __m256i iv = i32[t];
                if (OFF && !EA256_VNNI) iv = _mm256_add_epi32(iv, _mm256_load_si256((const __m256i *)(pq + 288)));
                const __m256 sc = _mm256_mul_ps(dw, _mm256_load_ps((const float *)(pq + 256)));
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(iv), sc, acc[t]);
                if (MIN)
                    acc[t] = _mm256_fmadd_ps(_mm256_broadcast_ss(mwf + (size_t)r * nb + b),
                                             _mm256_load_ps((const float *)(pq + 288)), acc[t]);
            }
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < R * Q; t++) out[t] = acc[t];
}

/* rows i0 .. i0 + C - 1 (C <= 4) of the tile, one weight row at a time (ea256_rows) */
static inline __attribute__((always_inline)) void ea256_few_rows(const int fmt, int64_t nb, int64_t i0, int C, int64_t n,
                                                                 float *s, int64_t lds, const void *w, size_t ws,
                                                                 const void *a, size_t as) {
    const uint8_t *ar[4];
    for (int r = 0; r < 4; r++) ar[r] = (const uint8_t *)a + (size_t)(i0 + (r < C ? r : 0)) * as;
    for (int64_t j = 0; j < n; j++) {
        float out[4];
        const uint8_t *wj = (const uint8_t *)w + (size_t)j * ws;
        if (C == 1) ea256_rows(fmt, 1, nb, wj, ar, out);
        else if (C == 2) ea256_rows(fmt, 2, nb, wj, ar, out);
        else if (C == 3) ea256_rows(fmt, 3, nb, wj, ar, out);
        else ea256_rows(fmt, 4, nb, wj, ar, out);
        for (int r = 0; r < C; r++) s[(i0 + r) * lds + j] = out[r];
    }
}

/* A whole tile's results into s: out[r * Q + q] lane i is s[(8q + i) * lds + r] (column r, R
 * adjacent columns). Stored as row pieces (2 or 4 floats) after a transpose: one scalar store per
 * float, each to another row, was ~8% of a 3x3 conv's GEMM time (32 channels, 128x128 image). */
static inline __attribute__((always_inline)) void ea256_store_cols(const int R, const int Q, const __m256 *out,
                                                                   float *s, int64_t lds) {
    for (int q = 0; q < Q; q++) {
        float *d = s + 8 * q * lds;
        if (R == 2) {
            const __m256 lo = _mm256_unpacklo_ps(out[q], out[Q + q]); /* rows 0, 1 | 4, 5 as (c0, c1) pairs */
            const __m256 hi = _mm256_unpackhi_ps(out[q], out[Q + q]); /* rows 2, 3 | 6, 7 */
            const __m128 l0 = _mm256_castps256_ps128(lo), l1 = _mm256_extractf128_ps(lo, 1);
            const __m128 h0 = _mm256_castps256_ps128(hi), h1 = _mm256_extractf128_ps(hi, 1);
            _mm_storel_pi((__m64 *)(d + 0 * lds), l0);
            _mm_storeh_pi((__m64 *)(d + 1 * lds), l0);
            _mm_storel_pi((__m64 *)(d + 2 * lds), h0);
            _mm_storeh_pi((__m64 *)(d + 3 * lds), h0);
            _mm_storel_pi((__m64 *)(d + 4 * lds), l1);
            _mm_storeh_pi((__m64 *)(d + 5 * lds), l1);
            _mm_storel_pi((__m64 *)(d + 6 * lds), h1);
            _mm_storeh_pi((__m64 *)(d + 7 * lds), h1);
        } else { /* R == 4, Q == 1 */
            const __m256 t0 = _mm256_unpacklo_ps(out[0], out[1]), t1 = _mm256_unpackhi_ps(out[0], out[1]);
            const __m256 t2 = _mm256_unpacklo_ps(out[2], out[3]), t3 = _mm256_unpackhi_ps(out[2], out[3]);
            const __m256 r0 = _mm256_shuffle_ps(t0, t2, 0x44), r1 = _mm256_shuffle_ps(t0, t2, 0xee); /* rows 0|4, 1|5 */
            const __m256 r2 = _mm256_shuffle_ps(t1, t3, 0x44), r3 = _mm256_shuffle_ps(t1, t3, 0xee); /* rows 2|6, 3|7 */
            _mm_storeu_ps(d + 0 * lds, _mm256_castps256_ps128(r0));
            _mm_storeu_ps(d + 1 * lds, _mm256_castps256_ps128(r1));
            _mm_storeu_ps(d + 2 * lds, _mm256_castps256_ps128(r2));
            _mm_storeu_ps(d + 3 * lds, _mm256_castps256_ps128(r3));
            _mm_storeu_ps(d + 4 * lds, _mm256_extractf128_ps(r0, 1));
            _mm_storeu_ps(d + 5 * lds, _mm256_extractf128_ps(r1, 1));
            _mm_storeu_ps(d + 6 * lds, _mm256_extractf128_ps(r2, 1));
            _mm_storeu_ps(d + 7 * lds, _mm256_extractf128_ps(r3, 1));
        }
    }
}

/* The ea_gemm_fn contract: s[i*lds + j] = dot(w row j, a row i), i < m, j < n. */
static inline __attribute__((always_inline)) void ea256_gemm(const int fmt, int64_t k, int64_t m, int64_t n, float *s,
                                                             int64_t lds, const void *w, size_t ws, const void *a,
                                                             size_t as) {
    if (m == 1) { /* decode: avx2-gemv.h */
        ea256_gemv(fmt, k, n, s, w, ws, a);
        return;
    }
    const int64_t nb = k / 32;
    const int MIN = fmt == EA256_Q4_1 || fmt == EA256_Q5_1;
    const int WC = EA256_VNNI && fmt == EA256_Q8_0; /* -128 * sum(w) per weight block, int32 */
    /* scratch: two packed 8-row groups, then the tile's weight scales (and mins) as float */
    const size_t pbytes = (size_t)(nb > 0 ? nb : 1) * 2 * EA256_PB(fmt);
    const size_t fbytes = ((size_t)n * (size_t)nb * sizeof(float) + 63) & ~(size_t)63;
    uint8_t *p = (uint8_t *)aligned_alloc(64, pbytes + fbytes * (MIN || WC ? 2 : 1));
    if (!p) { /* no memory for the packed rows: one weight row x up to 4 activation rows at a time */
        for (int64_t i0 = 0; i0 < m; i0 += 4) ea256_few_rows(fmt, nb, i0, m - i0 < 4 ? (int)(m - i0) : 4, n, s, lds, w, ws, a, as);
        return;
    }
    float *dwf = (float *)(p + pbytes), *mwf = MIN || WC ? (float *)(p + pbytes + fbytes) : NULL;
    /* q8_0 without VNNI: whether any weight byte is -128 (see ea256_tile), found once per call here
     * rather than per block in every tile that reads the row (og / 16 tiles per row on the conv's
     * swapped GEMM, whose weight rows are activations and never hold -128). The avx512vnni build
     * keeps the per-block check: this host type cannot run it. */
#if !EA256_VNNI && !defined(__AVX512F__)
    const int scan = fmt == EA256_Q8_0;
#else
    const int scan = 0;
#endif
    __m256i negs = _mm256_setzero_si256();
    {
        const int WB = fmt == EA256_Q4_0 ? 18 : fmt == EA256_Q8_0 ? 34 : fmt == EA256_Q4_1 ? 20 : fmt == EA256_Q5_0 ? 22 : 24;
        for (int64_t j = 0; j < n; j++) {
            const uint8_t *wj = (const uint8_t *)w + (size_t)j * ws;
            for (int64_t b = 0; b < nb; b++) {
                ea_fp16 h;
                if (scan)
                    negs = _mm256_or_si256(negs, _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(wj + b * WB + 2)),
                                                                   _mm256_set1_epi8(-128)));
                memcpy(&h, wj + b * WB, 2);
                dwf[j * nb + b] = ea256_h2f(h);
                if (MIN) {
                    memcpy(&h, wj + b * WB + 2, 2);
                    mwf[j * nb + b] = ea256_h2f(h);
                }
#if EA256_VNNI
                if (WC) {
                    const int32_t c = -128 * ea256_sum_i8(_mm256_loadu_si256((const __m256i *)(wj + b * WB + 2)));
                    memcpy(mwf + j * nb + b, &c, 4);
                }
#endif
            }
        }
    }
    const int chk = !scan || !_mm256_testz_si256(negs, negs);
    /* 16 activation rows (two packed groups) x 2 weight rows while 9+ rows remain, then 8 x 4. Every
     * row of every m > 1 goes through the same per-lane arithmetic (a few rows are padded to a
     * group rather than sent to ea256_rows), so a row's bits do not depend on how the caller splits
     * m (conv2d's output-row chunks). */
    for (int64_t i0 = 0; i0 < m;) {
        const int Q = m - i0 > 8 ? 2 : 1;
        const int rows = m - i0 < 8 * Q ? (int)(m - i0) : 8 * Q;
        const size_t pstride = (size_t)Q * EA256_PB(fmt);
        ea256_pack(fmt, nb, (const uint8_t *)a + (size_t)i0 * as, as, rows < 8 ? rows : 8, p, pstride);
        if (Q == 2) ea256_pack(fmt, nb, (const uint8_t *)a + (size_t)(i0 + 8) * as, as, rows - 8, p + EA256_PB(fmt), pstride);
        const int RM = Q == 2 ? 2 : 4;
        for (int64_t j = 0; j < n; j += RM) {
            __m256 out[4];
            const uint8_t *wj = (const uint8_t *)w + (size_t)j * ws;
            const float *dj = dwf + j * nb, *mj = MIN || WC ? mwf + j * nb : NULL;
            const int R = n - j < RM ? (int)(n - j) : RM;
            if (Q == 2) {
                if (R == 2) ea256_tile(fmt, 2, 2, nb, wj, ws, p, dj, mj, chk, out);
                else ea256_tile(fmt, 1, 2, nb, wj, ws, p, dj, mj, chk, out);
            } else {
                if (R == 4) ea256_tile(fmt, 4, 1, nb, wj, ws, p, dj, mj, chk, out);
                else if (R == 3) ea256_tile(fmt, 3, 1, nb, wj, ws, p, dj, mj, chk, out);
                else if (R == 2) ea256_tile(fmt, 2, 1, nb, wj, ws, p, dj, mj, chk, out);
                else ea256_tile(fmt, 1, 1, nb, wj, ws, p, dj, mj, chk, out);
            }
            if (rows == 8 * Q && R == RM) {
                ea256_store_cols(R, Q, out, s + i0 * lds + j, lds);
            } else {
                for (int r = 0; r < R; r++)
                    for (int q = 0; q < Q; q++) {
                        float o[8];
                        _mm256_storeu_ps(o, out[r * Q + q]);
                        for (int i = 0; i < 8 && 8 * q + i < rows; i++) s[(i0 + 8 * q + i) * lds + j + r] = o[i];
                    }
            }
        }
        i0 += rows;
    }
    free(p);
}

#endif
