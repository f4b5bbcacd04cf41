/* AVX-512 VNNI GEMM micro-kernel for q4_K and q6_K weights x q8_K activations when a tile has
 * enough activation rows (prompt processing, M >= EA512_KPANEL_MIN_M): avx512-panel.h's plan for
 * the K-quant super-block.
 *
 * A panel of 16 weight rows is unpacked once per K segment of EA512_KSEG super-blocks: for each
 * 4-element chunk of the super-block, one zmm holds the 4 quants (u8: q4_K nibbles 0..15, q6_K
 * 6-bit values 0..63) of all 16 rows (lane r = row r); beside them, per sub-block (q4_K: 8 of 32
 * elements, q6_K: 16 of 16), the 16 rows' scales as int32, and per super-block d (and q4_K's
 * dmin). Then for each activation row, one vpdpbusd per chunk with the row's 4 activation bytes
 * broadcast gives the 16 rows' exact int32 sums S_j of a sub-block, already reduced, and
 *   q4_K: dot = d_w d_a sum_j sc_j S_j - dmin_w d_a sum_j m_j bs_j,
 *   q6_K: dot = d_w d_a sum_j sc_j (S_j - 32 bs_j)         (bs_j: sums of a's 16-element blocks)
 * with sc_j S_j by vpmulld + vpaddd per sub-block in int32, and the bs terms by 8 vpdpwssd per
 * super-block against the raw q8_K bsums as int16 pairs (q4_K: (m_j, m_j) against the two
 * bsums of sub-block j; q6_K: (sc_2p, sc_2p+1) against bsums 2p, 2p+1), so no int16 sum is formed
 * for any input. Then one or two float FMAs per super-block.
 *
 * Register blocking: two panels (32 weight rows) x 4 activation rows while more than 16 weight
 * rows remain (8 sub-block sums, 8 int32 super-block sums and 8 float accumulators), else one
 * panel x 8 rows. Per output lane the arithmetic is the same either way, so which blocking a row
 * gets never changes its bits; segment partial sums go into s in segment order.
 * ref: ggml-common.h block_q4_K, block_q6_K, block_q8_K */
#ifndef EDGEAI_X86_AVX512_KPANEL_H
#define EDGEAI_X86_AVX512_KPANEL_H

#include <immintrin.h>
#include <stdalign.h>
#include <string.h>
#include "../blocks.h"
#include "kquant-scales.h"
#include "avx512-panel.h"  /* ea512_bcast32, EA512_CHAIN, ea512_store_tile, and the transpose */
#include "avx512-kquant.h" /* ea512_q6K_quants */

#define EA512_KPANEL_MIN_M 8 /* below this many activation rows avx2-kquant.h's 4-row template runs */
#define EA512_KSEG 2         /* super-blocks per K segment: two panels of ~11 KiB (L1) */
#define EA512_KPR 8          /* activation rows per pass over one panel */
#define EA512_KPR2 4         /* activation rows per pass over two panels */
#define EA512_KPM 128        /* activation rows whose per-super-block side data is prepared at once (EA512_PM) */

enum { EA512K_Q4K, EA512K_Q6K };

typedef struct {
    alignas(64) uint8_t w[EA512_KSEG][64][64];  /* [super-block][chunk x: elements 4x..4x+3] interleaved quants */
    alignas(64) int32_t sc[EA512_KSEG][16][16]; /* scales, per sub-block (q4_K: 8, q6_K: 16) and row */
    alignas(64) int32_t mn[EA512_KSEG][8][16];  /* q4_K: min j in both int16 halves; q6_K: scales 2p | 2p+1 */
    alignas(64) float d[EA512_KSEG][16], dmin[EA512_KSEG][16];
} ea512_kpanel_t;

/* Unpack the 16 weight rows at w0 + r * ws (rows past nrows repeat the last one), super-blocks
 * [b0, b0 + nbs). The quant bytes of a sub-block pair (32 bytes per row: low nibbles sub-block 2k,
 * high nibbles 2k+1) are transposed in registers (avx512-transpose.h), as avx512-panel.h does for
 * q8_0. */
static inline void ea512_kpack_q4K(const uint8_t *w0, size_t ws, int nrows, int64_t b0, int nbs, ea512_kpanel_t *P) {
    const block_q4_K *rw[16];
    const uint8_t *rq[16]; /* row r's quant bytes of super-block b0 */
    for (int r = 0; r < 16; r++) {
        rw[r] = (const block_q4_K *)(w0 + (size_t)(r < nrows ? r : nrows - 1) * ws) + b0;
        rq[r] = rw[r]->qs;
    }
    const __m512i m0f = _mm512_set1_epi8(0x0f);
    for (int b = 0; b < nbs; b++) {
        for (int r = 0; r < 16; r++) {
            uint64_t sc, mn;
            ea_k4_scales64(rw[r][b].scales, &sc, &mn);
            for (int j = 0; j < 8; j++) P->sc[b][j][r] = (int32_t)(sc >> 8 * j & 0xff);
            for (int j = 0; j < 8; j++) P->mn[b][j][r] = (int32_t)((mn >> 8 * j & 0xff) * 0x10001u);
            P->d[b][r] = ea_fp16_to_f32(rw[r][b].d);
            P->dmin[b][r] = ea_fp16_to_f32(rw[r][b].dmin);
        }
        for (int k = 0; k < 4; k++) {
            /* column c: bytes 4c..4c+3 of the pair's 32 in the 16 rows; low nibbles sub-block 2k, high 2k + 1 */
#define EA512_K4_EMIT(c, v)                                                                          \
    do {                                                                                             \
        const __m512i v_ = (v);                                                                      \
        _mm512_store_si512(P->w[b][8 * (2 * k) + (c)], _mm512_and_si512(v_, m0f));                        \
        _mm512_store_si512(P->w[b][8 * (2 * k + 1) + (c)], _mm512_and_si512(_mm512_srli_epi16(v_, 4), m0f)); \
    } while (0)
            EA512_TRANSPOSE16X8(rq, (size_t)b * sizeof(block_q4_K) + 32 * k, EA512_K4_EMIT);
#undef EA512_K4_EMIT
        }
    }
}

/* q6_K: the 16 rows' 6-bit quants (0..63; the -32 offset goes through the bsums) are rebuilt in
 * element order (ea512_q6K_quants, avx512-kquant.h) into a 16 x 256 byte buffer, then
 * transposed 32 bytes at a time: chunk x = elements 4x..4x+3, in sub-block x / 4 of 16 elements. */
static inline void ea512_kpack_q6K(const uint8_t *w0, size_t ws, int nrows, int64_t b0, int nbs, ea512_kpanel_t *P) {
    const block_q6_K *rw[16];
    for (int r = 0; r < 16; r++) rw[r] = (const block_q6_K *)(w0 + (size_t)(r < nrows ? r : nrows - 1) * ws) + b0;
    alignas(64) uint8_t q[16][QK_K];
    const uint8_t *rq[16];
    for (int r = 0; r < 16; r++) rq[r] = q[r];
    for (int b = 0; b < nbs; b++) {
        for (int r = 0; r < 16; r++) {
            const block_q6_K *x = &rw[r][b];
            __m512i Q[4];
            ea512_q6K_quants(x, Q);
            for (int i = 0; i < 4; i++) _mm512_store_si512(q[r] + 64 * i, Q[i]);
            for (int j = 0; j < 16; j++) P->sc[b][j][r] = x->scales[j];
            for (int p = 0; p < 8; p++)
                P->mn[b][p][r] = (int32_t)((uint32_t)(uint16_t)(int16_t)x->scales[2 * p] | (uint32_t)(uint16_t)(int16_t)x->scales[2 * p + 1] << 16);
            P->d[b][r] = ea_fp16_to_f32(x->d);
            P->dmin[b][r] = 0.0f;
        }
        for (int g = 0; g < 8; g++) {
#define EA512_K6_EMIT(c, v) _mm512_store_si512(P->w[b][8 * g + (c)], (v))
            EA512_TRANSPOSE16X8(rq, (size_t)(32 * g), EA512_K6_EMIT);
#undef EA512_K6_EMIT
        }
    }
}

/* per activation row and super-block: d_a, and sub-block j's two bsums as an int16 pair */
static inline void ea512_kact_side(const block_q8_K *ar, int64_t b0, int nbs, float *da, int32_t (*bs)[8]) {
    for (int b = 0; b < nbs; b++) {
        const block_q8_K *ab = &ar[b0 + b];
        da[b] = ab->d;
        memcpy(bs[b], ab->bsums, sizeof bs[b]); /* little-endian: bsums[2j] low, bsums[2j+1] high */
    }
}


/* R activation rows x NP panels over the segment's nbs super-blocks; writes (add: adds) s */
static inline __attribute__((always_inline)) void ea512_kpass(const int FMT, const int NP, const int R, const ea512_kpanel_t *const *P,
                                                              int nbs, const block_q8_K *const *ar, int64_t b0,
                                                              const float (*da)[EA512_KSEG], const int32_t (*bs)[EA512_KSEG][8],
                                                              float *y, int64_t lds, const __mmask16 *keep, int add) {
    __m512 acc[EA512_KPR];
#pragma GCC unroll 8
    for (int i = 0; i < R * NP; i++) acc[i] = _mm512_setzero_ps();
    for (int b = 0; b < nbs; b++) {
        __m512i isum[EA512_KPR];
#pragma GCC unroll 8
        for (int i = 0; i < R * NP; i++) isum[i] = _mm512_setzero_si512();
        const int NSUB = FMT == EA512K_Q6K ? 16 : 8, NCH = FMT == EA512K_Q6K ? 4 : 8; /* sub-blocks, chunks each */
        for (int j = 0; j < NSUB; j++) {
            __m512i t[EA512_KPR];
#pragma GCC unroll 8
            for (int i = 0; i < R * NP; i++) t[i] = _mm512_setzero_si512();
#pragma GCC unroll 8
            for (int c = 0; c < NCH; c++) {
                __m512i W[2];
#pragma GCC unroll 2
                for (int p = 0; p < NP; p++) W[p] = _mm512_load_si512(P[p]->w[b][NCH * j + c]);
#pragma GCC unroll 8
                for (int r = 0; r < R; r++) {
                    const __m512i q4 = ea512_bcast32((const uint8_t *)ar[r][b0 + b].qs + 4 * (NCH * j + c));
#pragma GCC unroll 2
                    for (int p = 0; p < NP; p++) {
                        t[r * NP + p] = _mm512_dpbusd_epi32(t[r * NP + p], W[p], q4);
                        EA512_CHAIN(t[r * NP + p]);
                    }
                }
            }
#pragma GCC unroll 2
            for (int p = 0; p < NP; p++) {
                const __m512i sc = _mm512_load_si512(P[p]->sc[b][j]);
#pragma GCC unroll 8
                for (int r = 0; r < R; r++) isum[r * NP + p] = _mm512_add_epi32(isum[r * NP + p], _mm512_mullo_epi32(t[r * NP + p], sc));
            }
        }
#pragma GCC unroll 2
        for (int p = 0; p < NP; p++) {
            const __m512 dw = _mm512_load_ps(P[p]->d[b]), dm = _mm512_load_ps(P[p]->dmin[b]); /* q6_K: dmin unused */
#pragma GCC unroll 8
            for (int r = 0; r < R; r++) {
                __m512i im = _mm512_setzero_si512();
#pragma GCC unroll 8
                for (int q = 0; q < 8; q++) im = _mm512_dpwssd_epi32(im, _mm512_load_si512(P[p]->mn[b][q]), _mm512_set1_epi32(bs[r][b][q]));
                const __m512 dar = _mm512_set1_ps(da[r][b]);
                const int i = r * NP + p;
                if (FMT == EA512K_Q6K) {
                    /* sum_j sc_j (S_j - 32 bs_j), all in int32 (|.| < 16 * 16 * 128 * 128 * 64) */
                    acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(isum[i], _mm512_slli_epi32(im, 5))),
                                             _mm512_mul_ps(dw, dar), acc[i]);
                } else {
                    acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[i]), _mm512_mul_ps(dw, dar), acc[i]);
                    acc[i] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(im), _mm512_mul_ps(dm, dar), acc[i]);
                }
            }
        }
    }
    ea512_store_tile(NP, R, acc, y, lds, keep, add);
}

/* The ea_gemm_fn contract for m >= EA512_KPANEL_MIN_M: rows of a in groups of EA512_KPM, K
 * segments, 32 (or the last 16) weight rows as two (one) panels, passes of EA512_KPR2 (EA512_KPR)
 * rows. */
static inline __attribute__((always_inline)) void ea512_kpanel_gemm(const int FMT, int64_t k, int64_t m, int64_t n, float *s,
                                                                    int64_t lds, const void *w, size_t ws, const void *a, size_t as) {
    ea512_kpanel_t PP[2];
    const ea512_kpanel_t *const P[2] = {&PP[0], &PP[1]};
    alignas(64) float da[EA512_KPM][EA512_KSEG];
    alignas(64) int32_t bs[EA512_KPM][EA512_KSEG][8];
    const int64_t nb = k / QK_K;
    for (int64_t i00 = 0; i00 < m; i00 += EA512_KPM) {
        const int64_t mm = m - i00 < EA512_KPM ? m - i00 : EA512_KPM;
        for (int64_t b0 = 0; b0 < nb; b0 += EA512_KSEG) {
            const int nbs = nb - b0 < EA512_KSEG ? (int)(nb - b0) : EA512_KSEG;
            for (int64_t r = 0; r < mm; r++)
                ea512_kact_side((const block_q8_K *)((const uint8_t *)a + (size_t)(i00 + r) * as), b0, nbs, da[r],
                                bs[r]);
            for (int64_t j0 = 0; j0 < n;) {
                const int NP = n - j0 > 16 ? 2 : 1;
                __mmask16 keep[2];
                for (int p = 0; p < NP; p++) {
                    const int nr = n - j0 - 16 * p < 16 ? (int)(n - j0 - 16 * p) : 16;
                    keep[p] = (__mmask16)((1u << nr) - 1u);
                    if (FMT == EA512K_Q6K)
                        ea512_kpack_q6K((const uint8_t *)w + (size_t)(j0 + 16 * p) * ws, ws, nr, b0, nbs, &PP[p]);
                    else
                        ea512_kpack_q4K((const uint8_t *)w + (size_t)(j0 + 16 * p) * ws, ws, nr, b0, nbs, &PP[p]);
                }
                const int RP = NP == 2 ? EA512_KPR2 : EA512_KPR;
                ea512_prefetch_next((const uint8_t *)w, ws, n, j0, NP, b0, nb, EA512_KSEG,
                                    FMT == EA512K_Q6K ? (int)sizeof(block_q6_K) : (int)sizeof(block_q4_K));
                for (int64_t i0 = 0; i0 < mm; i0 += RP) {
                    const int R = mm - i0 < RP ? (int)(mm - i0) : RP;
                    const block_q8_K *ar[EA512_KPR];
                    for (int r = 0; r < R; r++) ar[r] = (const block_q8_K *)((const uint8_t *)a + (size_t)(i00 + i0 + r) * as);
                    float *y = s + (i00 + i0) * lds + j0;
                    const int add = b0 > 0;
#define EA512_KPASS(np, rr) \
    ea512_kpass(FMT, np, rr, P, nbs, ar, b0, (const float (*)[EA512_KSEG])da[i0], (const int32_t (*)[EA512_KSEG][8])bs[i0], y, lds, keep, add)
                    if (NP == 2) {
                        switch (R) {
                        case 4: EA512_KPASS(2, 4); break;
                        case 3: EA512_KPASS(2, 3); break;
                        case 2: EA512_KPASS(2, 2); break;
                        default: EA512_KPASS(2, 1); break;
                        }
                    } else {
                        switch (R) {
                        case 8: EA512_KPASS(1, 8); break;
                        case 7: EA512_KPASS(1, 7); break;
                        case 6: EA512_KPASS(1, 6); break;
                        case 5: EA512_KPASS(1, 5); break;
                        case 4: EA512_KPASS(1, 4); break;
                        case 3: EA512_KPASS(1, 3); break;
                        case 2: EA512_KPASS(1, 2); break;
                        default: EA512_KPASS(1, 1); break;
                        }
                    }
#undef EA512_KPASS
                }
                j0 += 16 * NP;
            }
        }
    }
}

#endif /* EDGEAI_X86_AVX512_KPANEL_H */
