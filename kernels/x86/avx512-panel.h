/* AVX-512 VNNI GEMM micro-kernel for the 32-element block formats (q4_0, q4_1, q8_0), used when a
 * tile has enough activation rows (prompt processing, M >= EA512_PANEL_MIN_M).
 *
 * A panel of 16 weight rows is unpacked once per K segment into an interleaved u8 layout: for
 * block b and 4-element group c (0..7), one zmm holds elements 4c..4c+3 of all 16 rows (lane r =
 * row r), gathered straight from the GGUF blocks. Then for each activation row, one vpdpbusd with
 * the row's 4 activation bytes broadcast ({1to16}) adds a 4-element dot product to all 16 rows at
 * once: 8 vpdpbusd give the 16 rows' exact int32 block sums, already reduced. Per block and
 * activation row the float work is 1 cvt, 1 mul, 1 fma (q4_1: +1 fma), so ~8 of every 11 vector
 * uops are vpdpbusd, and the unpacking is amortised over every activation row of the tile.
 *
 * unsigned x signed as in avx512-stream.h: q4_0 nibbles (0..15) with -8 * sum(a) per block,
 * q8_0 bytes ^ 0x80 (= w + 128) with -128 * sum(a), q4_1 nibbles plus m * s. The integer
 * correction starts the block's accumulator, broadcast from the per-row activation prep.
 *
 * Register blocking: two panels (32 weight rows) x 6 activation rows while more than 16 weight
 * rows remain, else one panel x 8 rows. With one panel every vpdpbusd needs its own broadcast
 * load of 4 activation bytes, and with the W loads and the per-block scalars that is ~11 loads
 * per 8 vpdpbusd: the two load ports for 512-bit loads bound the loop below the vpdpbusd rate.
 * Two panels let one broadcast (a register) serve two vpdpbusd. Per output lane the arithmetic is
 * the same either way, so which blocking a weight row gets (it depends on n) never changes bits. */
#ifndef EDGEAI_X86_AVX512_PANEL_H
#define EDGEAI_X86_AVX512_PANEL_H

#include "avx512-stream.h"
#include "avx512-transpose.h"
#include "../prefetch.h"

#define EA512_PANEL_MIN_M 8 /* below this many activation rows the stream engine is faster */
#define EA512_PSEG 16       /* blocks per K segment: two panels of 16 x 640 B = 20 KiB (L1) */
#define EA512_PR 8          /* activation rows per pass over one panel (8 acc + 8 int temps) */
#define EA512_PR2 6         /* activation rows per pass over two panels (12 acc + 12 int temps) */

typedef struct {
    alignas(64) uint8_t w[EA512_PSEG][8][64]; /* interleaved u8 weights */
    alignas(64) float dw[EA512_PSEG][16];
    alignas(64) float mw[EA512_PSEG][16];
} ea512_panel_t;

/* Unpack the 16 weight rows at w0 + r * ws (rows past nrows repeat the last one), blocks [b0, b0+nbs).
 * The quant bytes are transposed in registers from one plain load per row and block, not
 * gathered (a vpgatherdd per 4-byte column): same bytes, and on Zen 4 the gather pack was 13-24%
 * of a tile's time (C harness, weights in cache: q4_0 64 x 128 x 2048 287 -> 328 GOPS with the
 * pack skipped; q8_0 32 x 128 x 288, the terrain UNet's 32-channel conv tile, 208 -> 276). With
 * the transposes (avx512-transpose.h): 287 -> 308 and 208 -> 246 GOPS; 64 x 4096 x 4096 from memory, q4_0 237 -> 266,
 * q8_0 197 -> 239. The d | m header stays one gather per block. */
static inline void ea512_pack(const ea512_fmt *f, const uint8_t *w0, size_t ws, int nrows, int64_t b0, int nbs,
                              ea512_panel_t *P) {
    /* byte offsets of the 16 rows from w0; rows past nrows repeat the last one */
    alignas(64) int32_t off[16];
    const uint8_t *rq[16]; /* row r's quant bytes of block b0 */
    for (int r = 0; r < 16; r++) {
        off[r] = (int32_t)((size_t)(r < nrows ? r : nrows - 1) * ws);
        rq[r] = w0 + off[r] + b0 * f->B + f->qoff;
    }
    const __m512i vo = _mm512_load_si512(off);
    const __m512i m0f = _mm512_set1_epi8(0x0f), m80 = _mm512_set1_epi8((char)0x80);
    for (int b = 0; b < nbs; b++) {
        const uint8_t *bp = w0 + (b0 + b) * f->B;
        const size_t q = (size_t)b * f->B;
        const __m512i hdr = _mm512_i32gather_epi32(vo, (const void *)bp, 1); /* d | m << 16 */
        _mm512_store_ps(P->dw[b], _mm512_cvtph_ps(_mm512_cvtepi32_epi16(hdr)));
        if (f->kind == EA512_MIN) _mm512_store_ps(P->mw[b], _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(hdr, 16))));
        if (f->nib) {
            /* 16 quant bytes per row. 128-bit lane L of Z[r] = row r + 4L; a 4 x 4 dword transpose
             * in every lane leaves dword c of rows 0..15, in order, in u[c] */
            __m512i Z[4];
            for (int r = 0; r < 4; r++) {
                __m512i z = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(rq[r] + q)));
                z = _mm512_inserti32x4(z, _mm_loadu_si128((const __m128i *)(rq[r + 4] + q)), 1);
                z = _mm512_inserti32x4(z, _mm_loadu_si128((const __m128i *)(rq[r + 8] + q)), 2);
                Z[r] = _mm512_inserti32x4(z, _mm_loadu_si128((const __m128i *)(rq[r + 12] + q)), 3);
            }
            const __m512i t0 = _mm512_unpacklo_epi32(Z[0], Z[1]), t1 = _mm512_unpackhi_epi32(Z[0], Z[1]);
            const __m512i t2 = _mm512_unpacklo_epi32(Z[2], Z[3]), t3 = _mm512_unpackhi_epi32(Z[2], Z[3]);
            const __m512i u[4] = {_mm512_unpacklo_epi64(t0, t2), _mm512_unpackhi_epi64(t0, t2),
                                  _mm512_unpacklo_epi64(t1, t3), _mm512_unpackhi_epi64(t1, t3)};
            for (int c = 0; c < 4; c++) {
                _mm512_store_si512(P->w[b][c], _mm512_and_si512(u[c], m0f));
                _mm512_store_si512(P->w[b][c + 4], _mm512_and_si512(_mm512_srli_epi16(u[c], 4), m0f));
            }
        } else {
            /* 32 quant bytes per row, transposed: column c = dword c of rows 0..15 */
#define EA512_Q8_EMIT(c, v) _mm512_store_si512(P->w[b][c], _mm512_xor_si512((v), m80))
            EA512_TRANSPOSE16X8(rq, q, EA512_Q8_EMIT);
#undef EA512_Q8_EMIT
        }
    }
}

/* Per activation row and block: d_a, and the int32 correction (CORR) or f32 s (MIN). */
static inline void ea512_act_side(const ea512_fmt *f, const uint8_t *arow, int64_t b0, int nbs, float *da, int32_t *ex) {
    for (int b = 0; b < nbs; b++) {
        const uint8_t *ab = arow + (b0 + b) * f->AB;
        ea_fp16 h;
        memcpy(&h, ab, 2);
        da[b] = ea_fp16_to_f32(h);
        if (f->kind == EA512_CORR) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(ab + f->aqoff));
            const __m256i sad = _mm256_sad_epu8(_mm256_xor_si256(q, _mm256_set1_epi8((char)0x80)), _mm256_setzero_si256());
            const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(sad), _mm256_extracti128_si256(sad, 1));
            ex[b] = ((int32_t)(_mm_cvtsi128_si64(s2) + _mm_extract_epi64(s2, 1)) - 32 * 128) * f->corr;
        } else {
            memcpy(&h, ab + 2, 2);
            const float s = ea_fp16_to_f32(h);
            memcpy(&ex[b], &s, 4);
        }
    }
}

/* keeps v a register value at this point (gcc would otherwise re-associate the chains or sink
 * the row loop inside the chunk loop again, see ea512_micro) */
#define EA512_CHAIN(v) __asm__("" : "+v"(v))

/* 4 bytes broadcast to the 16 lanes as one load into a register (as plain C, gcc folds the
 * broadcast into each vpdpbusd that uses it, one load per use) */
static inline __m512i ea512_bcast32(const uint8_t *p) {
    __m512i v;
    __asm__ volatile("vpbroadcastd %1, %0" : "=v"(v) : "m"(*(const int32_t *)p));
    return v;
}

/* R activation rows x NP (1 or 2) 16-row panels, blocks [0, nbs) of the segment.
 * acc[r * NP + p] lane l += dot(w row l of panel p, a row r) over the segment.
 * Loop order: per block, chunk c outside, rows inside, so the R * NP vpdpbusd of one chunk are
 * independent (one int32 sum each) and issue back to back. Rows outside (8 dependent vpdpbusd
 * per row, 5-cycle latency each) left the scheduler 1-2 chains to overlap: ~20% of the int8 peak. */
static inline __attribute__((always_inline)) void ea512_micro(const ea512_fmt *f, const int NP, const int R,
                                                              const ea512_panel_t *const *P, int nbs,
                                                              const uint8_t *const *aq, int AB,
                                                              const float (*da)[EA512_PSEG],
                                                              const int32_t (*ex)[EA512_PSEG], __m512 *acc) {
    for (int b = 0; b < nbs; b++) {
        __m512i t[2 * EA512_PR2 > EA512_PR ? 2 * EA512_PR2 : EA512_PR];
#pragma GCC unroll 8
        for (int r = 0; r < R; r++)
#pragma GCC unroll 2
            for (int p = 0; p < NP; p++)
                t[r * NP + p] = f->kind == EA512_CORR ? _mm512_set1_epi32(ex[r][b]) : _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int c = 0; c < 8; c++) {
            __m512i W[2];
#pragma GCC unroll 2
            for (int p = 0; p < NP; p++) W[p] = _mm512_load_si512(P[p]->w[b][c]);
#pragma GCC unroll 8
            for (int r = 0; r < R; r++) {
                const __m512i q4 = ea512_bcast32(aq[r] + (size_t)b * AB + 4 * c); /* 4 activation bytes */
#pragma GCC unroll 2
                for (int p = 0; p < NP; p++) {
                    t[r * NP + p] = _mm512_dpbusd_epi32(t[r * NP + p], W[p], q4);
                    EA512_CHAIN(t[r * NP + p]);
                }
            }
        }
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            const __m512 dar = _mm512_set1_ps(da[r][b]);
#pragma GCC unroll 2
            for (int p = 0; p < NP; p++) {
                const int i = r * NP + p;
                acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t[i]), _mm512_mul_ps(_mm512_load_ps(P[p]->dw[b]), dar), acc[i]);
                if (f->kind == EA512_MIN) {
                    float sa;
                    memcpy(&sa, &ex[r][b], 4);
                    acc[i] = _mm512_fmadd_ps(_mm512_load_ps(P[p]->mw[b]), _mm512_set1_ps(sa), acc[i]);
                }
            }
        }
    }
}

/* y[r * lds + 16 p + l] (=, or += when add) acc[r * NP + p] lane l, lanes under keep[p]; shared with
 * avx512-kpanel.h. Unrolled, so acc stays in registers: as a loop, gcc kept acc in memory and
 * stored all of it after every block of the micro-kernel (C harness, Zen 4: ~5% of a tile). */
static inline __attribute__((always_inline)) void ea512_store_tile(const int NP, const int R, const __m512 *acc, float *y,
                                                                   int64_t lds, const __mmask16 *keep, int add) {
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 2
        for (int p = 0; p < NP; p++) {
            float *yp = y + r * lds + 16 * p;
            __m512 v = acc[r * NP + p];
            if (add) v = _mm512_add_ps(_mm512_maskz_loadu_ps(keep[p], yp), v);
            _mm512_mask_storeu_ps(yp, keep[p], v);
        }
}

/* one pass: rows i0 .. i0 + R - 1 of the PM group against NP panels, added into s */
static inline __attribute__((always_inline)) void ea512_pass(const ea512_fmt *f, const int NP, const int R,
                                                             const ea512_panel_t *const *P, int nbs, const uint8_t *const *aq,
                                                             const float (*da)[EA512_PSEG], const int32_t (*ex)[EA512_PSEG],
                                                             float *y, int64_t lds, const __mmask16 *keep, int add) {
    __m512 acc[2 * EA512_PR2 > EA512_PR ? 2 * EA512_PR2 : EA512_PR];
#pragma GCC unroll 12
    for (int i = 0; i < R * NP; i++) acc[i] = _mm512_setzero_ps();
    ea512_micro(f, NP, R, P, nbs, aq, f->AB, da, ex, acc);
    ea512_store_tile(NP, R, acc, y, lds, keep, add);
}

/* Activation rows whose per-block side data is prepared at once: each K segment's panels are
 * packed once per group, so a 128-token prompt packs every weight once, not twice. C harness, Zen 4,
 * 1 thread, q4_0 m = 128, weights in L3: 64 -> 128 took 2048 x 2048 315 -> 329 GOPS, 5632 x 2048
 * 266 -> 292, 2048 x 5632 298 -> 307. */
#define EA512_PM 128

/* Prefetch into L2 the weight bytes the next panel pair will pack (rows j0 + 16 NP .. + 31 of
 * this segment's blocks, or rows 0 .. 31 of the next segment's when this pair is the last), while
 * this pair's passes run: packing otherwise waits on 16 row streams from L3 or memory. bpb: bytes
 * per block, seg: blocks per segment. C harness as above with cold weights (20 copies on 2 MiB
 * pages): q4_0 m = 128 2048 x 2048 303 -> 318-320 GOPS, 5632 x 2048 296 -> 316-319 (a harness
 * build, not checked for the instruction: see below). */
/* Through ea_prefetch_l2 (prefetch.h): gcc 12's DCE deleted this function's _mm_prefetch loop in
 * the package build (inlined, nothing else in it), so until 2026-12-06 _C.so held no prefetcht1 at
 * all. Same harness, m = 64, cold, library build: 274 -> 298 GOPS with it. */

static inline void ea512_prefetch_next(const uint8_t *w, size_t ws, int64_t n, int64_t j0, int NP, int64_t b0,
                                       int64_t nb, int seg, int bpb) {
    int64_t jn = j0 + 16 * NP, bn = b0;
    if (jn >= n) {
        jn = 0;
        bn = b0 + seg;
    }
    if (bn >= nb) return;
    const int64_t bytes = (nb - bn < seg ? nb - bn : seg) * bpb, rows = n - jn < 32 ? n - jn : 32;
    for (int64_t r = 0; r < rows; r++) {
        const char *p = (const char *)w + (size_t)(jn + r) * ws + (size_t)bn * bpb;
        for (int64_t o = 0; o < bytes; o += 64) ea_prefetch_l2(p + o);
    }
}

/* The ea_gemm_fn contract for m >= EA512_PANEL_MIN_M. Loops: rows of a in groups of EA512_PM,
 * K segments, 32 (or the last 16) weight rows as two (one) panels, micro-kernel passes of
 * EA512_PR2 (EA512_PR) rows. Segment partial sums are added to s in segment order (deterministic). */
static inline __attribute__((always_inline)) void ea512_panel_gemm(const ea512_fmt *f, int64_t k, int64_t m,
                                                                   int64_t n, float *s, int64_t lds, const void *w,
                                                                   size_t ws, const void *a, size_t as) {
    ea512_panel_t PP[2];
    const ea512_panel_t *const P[2] = {&PP[0], &PP[1]};
    alignas(64) float da[EA512_PM][EA512_PSEG];
    alignas(64) int32_t ex[EA512_PM][EA512_PSEG];
    const int64_t nb = k / 32;
    for (int64_t i00 = 0; i00 < m; i00 += EA512_PM) {
        const int64_t mm = m - i00 < EA512_PM ? m - i00 : EA512_PM;
        for (int64_t b0 = 0; b0 < nb; b0 += EA512_PSEG) {
            const int nbs = nb - b0 < EA512_PSEG ? (int)(nb - b0) : EA512_PSEG;
            for (int64_t r = 0; r < mm; r++)
                ea512_act_side(f, (const uint8_t *)a + (size_t)(i00 + r) * as, b0, nbs, da[r], ex[r]);
            for (int64_t j0 = 0; j0 < n;) {
                const int NP = n - j0 > 16 ? 2 : 1;
                __mmask16 keep[2];
                for (int p = 0; p < NP; p++) {
                    const int nr = n - j0 - 16 * p < 16 ? (int)(n - j0 - 16 * p) : 16;
                    keep[p] = (__mmask16)((1u << nr) - 1u);
                    ea512_pack(f, (const uint8_t *)w + (size_t)(j0 + 16 * p) * ws, ws, nr, b0, nbs, &PP[p]);
                }
                const int RP = NP == 2 ? EA512_PR2 : EA512_PR;
                ea512_prefetch_next((const uint8_t *)w, ws, n, j0, NP, b0, nb, EA512_PSEG, f->B);
                for (int64_t i0 = 0; i0 < mm; i0 += RP) {
                    const int R = mm - i0 < RP ? (int)(mm - i0) : RP;
                    const uint8_t *aq[EA512_PR];
                    for (int r = 0; r < R; r++)
                        aq[r] = (const uint8_t *)a + (size_t)(i00 + i0 + r) * as + b0 * f->AB + f->aqoff;
                    const float (*dap)[EA512_PSEG] = (const float (*)[EA512_PSEG])da[i0];
                    const int32_t (*exp_)[EA512_PSEG] = (const int32_t (*)[EA512_PSEG])ex[i0];
                    float *y = s + (i00 + i0) * lds + j0;
                    const int add = b0 > 0;
#define EA512_PASS(np, r) ea512_pass(f, np, r, P, nbs, aq, dap, exp_, y, lds, keep, add)
                    if (NP == 2) {
                        switch (R) {
                        case 6: EA512_PASS(2, 6); break;
                        case 5: EA512_PASS(2, 5); break;
                        case 4: EA512_PASS(2, 4); break;
                        case 3: EA512_PASS(2, 3); break;
                        case 2: EA512_PASS(2, 2); break;
                        default: EA512_PASS(2, 1); break;
                        }
                    } else {
                        switch (R) {
                        case 8: EA512_PASS(1, 8); break;
                        case 7: EA512_PASS(1, 7); break;
                        case 6: EA512_PASS(1, 6); break;
                        case 5: EA512_PASS(1, 5); break;
                        case 4: EA512_PASS(1, 4); break;
                        case 3: EA512_PASS(1, 3); break;
                        case 2: EA512_PASS(1, 2); break;
                        default: EA512_PASS(1, 1); break;
                        }
                    }
#undef EA512_PASS
                }
                j0 += 16 * NP;
            }
        }
    }
}

#endif /* EDGEAI_X86_AVX512_PANEL_H */
