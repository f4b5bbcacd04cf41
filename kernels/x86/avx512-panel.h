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
 * correction starts the block's accumulator, broadcast from the per-row activation prep. */
#ifndef EDGEAI_X86_AVX512_PANEL_H
#define EDGEAI_X86_AVX512_PANEL_H

#include "avx512-stream.h"

#define EA512_PANEL_MIN_M 8 /* below this many activation rows the stream engine is faster */
#define EA512_PSEG 32       /* blocks per K segment: panel 32 x 640 B = 20 KiB (L1) */
#define EA512_PR 8          /* activation rows per micro-kernel pass (8 acc + 8 int temps + 10 zmm) */

typedef struct {
    alignas(64) uint8_t w[EA512_PSEG][8][64]; /* interleaved u8 weights */
    alignas(64) float dw[EA512_PSEG][16];
    alignas(64) float mw[EA512_PSEG][16];
} ea512_panel_t;

/* Unpack rows rows[0..15] (pointers; tail rows repeat a valid row), blocks [b0, b0+nbs). */
static inline void ea512_pack(const ea512_fmt *f, const uint8_t *w0, size_t ws, int nrows, int64_t b0, int nbs,
                              ea512_panel_t *P) {
    /* byte offsets of the 16 rows from w0; rows past nrows repeat the last one */
    alignas(64) int32_t off[16];
    for (int r = 0; r < 16; r++) off[r] = (int32_t)((size_t)(r < nrows ? r : nrows - 1) * ws);
    const __m512i vo = _mm512_load_si512(off);
    const __m512i m0f = _mm512_set1_epi8(0x0f), m80 = _mm512_set1_epi8((char)0x80);
    for (int b = 0; b < nbs; b++) {
        const uint8_t *bp = w0 + (b0 + b) * f->B;
        const __m512i hdr = _mm512_i32gather_epi32(vo, (const void *)bp, 1); /* d | m << 16 */
        _mm512_store_ps(P->dw[b], _mm512_cvtph_ps(_mm512_cvtepi32_epi16(hdr)));
        if (f->kind == EA512_MIN) _mm512_store_ps(P->mw[b], _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(hdr, 16))));
        if (f->nib) {
            for (int c = 0; c < 4; c++) {
                const __m512i g = _mm512_i32gather_epi32(vo, (const void *)(bp + f->qoff + 4 * c), 1);
                _mm512_store_si512(P->w[b][c], _mm512_and_si512(g, m0f));
                _mm512_store_si512(P->w[b][c + 4], _mm512_and_si512(_mm512_srli_epi16(g, 4), m0f));
            }
        } else {
            for (int c = 0; c < 8; c++) {
                const __m512i g = _mm512_i32gather_epi32(vo, (const void *)(bp + f->qoff + 4 * c), 1);
                _mm512_store_si512(P->w[b][c], _mm512_xor_si512(g, m80));
            }
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

/* R (1..EA512_PR) activation rows x the 16-row panel, blocks [0, nbs) of the segment.
 * acc[r] lane l += dot(w row l, a row r) over the segment.
 * Loop order: per block, chunk c outside, rows inside, so the R vpdpbusd of one chunk are
 * independent (one int32 sum per row) and issue back to back. Rows outside (8 dependent
 * vpdpbusd per row, 5-cycle latency each) left the scheduler 1-2 chains to overlap: ~20% of the
 * int8 peak. The activation dword is a broadcast load ({1to16} or vpbroadcastd from memory: load
 * ports, not the vector ALUs the vpdpbusd use). */
static inline __attribute__((always_inline)) void ea512_micro(const ea512_fmt *f, const int R, const ea512_panel_t *P,
                                                              int nbs, const uint8_t *const *aq, int AB,
                                                              const float (*da)[EA512_PSEG],
                                                              const int32_t (*ex)[EA512_PSEG], __m512 *acc) {
    for (int b = 0; b < nbs; b++) {
        __m512i t[EA512_PR];
#pragma GCC unroll 8
        for (int r = 0; r < R; r++)
            t[r] = f->kind == EA512_CORR ? _mm512_set1_epi32(ex[r][b]) : _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int c = 0; c < 8; c++) {
            const __m512i W = _mm512_load_si512(P->w[b][c]);
#pragma GCC unroll 8
            for (int r = 0; r < R; r++) {
                int32_t q4; /* 4 activation bytes, broadcast to the 16 row lanes */
                memcpy(&q4, aq[r] + (size_t)b * AB + 4 * c, 4);
                t[r] = _mm512_dpbusd_epi32(t[r], W, _mm512_set1_epi32(q4));
                EA512_CHAIN(t[r]);
            }
        }
        const __m512 dw = _mm512_load_ps(P->dw[b]);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t[r]), _mm512_mul_ps(dw, _mm512_set1_ps(da[r][b])), acc[r]);
            if (f->kind == EA512_MIN) {
                float sa;
                memcpy(&sa, &ex[r][b], 4);
                acc[r] = _mm512_fmadd_ps(_mm512_load_ps(P->mw[b]), _mm512_set1_ps(sa), acc[r]);
            }
        }
    }
}

#define EA512_PM 64 /* activation rows whose per-block side data is prepared at once */

/* The ea_gemm_fn contract for m >= EA512_PANEL_MIN_M. Loops: rows of a in groups of EA512_PM,
 * K segments, panels of 16 weight rows, micro-kernel passes of EA512_PR rows. Segment partial
 * sums are added to s in segment order (deterministic). */
static inline __attribute__((always_inline)) void ea512_panel_gemm(const ea512_fmt *f, int64_t k, int64_t m,
                                                                   int64_t n, float *s, int64_t lds, const void *w,
                                                                   size_t ws, const void *a, size_t as) {
    ea512_panel_t P;
    alignas(64) float da[EA512_PM][EA512_PSEG];
    alignas(64) int32_t ex[EA512_PM][EA512_PSEG];
    const int64_t nb = k / 32;
    for (int64_t i00 = 0; i00 < m; i00 += EA512_PM) {
        const int64_t mm = m - i00 < EA512_PM ? m - i00 : EA512_PM;
        for (int64_t b0 = 0; b0 < nb; b0 += EA512_PSEG) {
            const int nbs = nb - b0 < EA512_PSEG ? (int)(nb - b0) : EA512_PSEG;
            for (int64_t r = 0; r < mm; r++)
                ea512_act_side(f, (const uint8_t *)a + (size_t)(i00 + r) * as, b0, nbs, da[r], ex[r]);
            for (int64_t j0 = 0; j0 < n; j0 += 16) {
                const int nr = n - j0 < 16 ? (int)(n - j0) : 16;
                const __mmask16 keep = (__mmask16)((1u << nr) - 1u);
                ea512_pack(f, (const uint8_t *)w + (size_t)j0 * ws, ws, nr, b0, nbs, &P);
                for (int64_t i0 = 0; i0 < mm; i0 += EA512_PR) {
                    const int R = mm - i0 < EA512_PR ? (int)(mm - i0) : EA512_PR;
                    const uint8_t *aq[EA512_PR];
                    for (int r = 0; r < R; r++)
                        aq[r] = (const uint8_t *)a + (size_t)(i00 + i0 + r) * as + b0 * f->AB + f->aqoff;
                    __m512 acc[EA512_PR];
                    for (int r = 0; r < EA512_PR; r++) acc[r] = _mm512_setzero_ps();
                    const float (*dap)[EA512_PSEG] = (const float (*)[EA512_PSEG])da[i0];
                    const int32_t (*exp_)[EA512_PSEG] = (const int32_t (*)[EA512_PSEG])ex[i0];
                    switch (R) {
                    case 8: ea512_micro(f, 8, &P, nbs, aq, f->AB, dap, exp_, acc); break;
                    case 7: ea512_micro(f, 7, &P, nbs, aq, f->AB, dap, exp_, acc); break;
                    case 6: ea512_micro(f, 6, &P, nbs, aq, f->AB, dap, exp_, acc); break;
                    case 5: ea512_micro(f, 5, &P, nbs, aq, f->AB, dap, exp_, acc); break;
                    case 4: ea512_micro(f, 4, &P, nbs, aq, f->AB, dap, exp_, acc); break;
                    case 3: ea512_micro(f, 3, &P, nbs, aq, f->AB, dap, exp_, acc); break;
                    case 2: ea512_micro(f, 2, &P, nbs, aq, f->AB, dap, exp_, acc); break;
                    default: ea512_micro(f, 1, &P, nbs, aq, f->AB, dap, exp_, acc); break;
                    }
                    for (int r = 0; r < R; r++) {
                        float *y = s + (i00 + i0 + r) * lds + j0;
                        __m512 v = acc[r];
                        if (b0 > 0) v = _mm512_add_ps(_mm512_maskz_loadu_ps(keep, y), v);
                        _mm512_mask_storeu_ps(y, keep, v);
                    }
                }
            }
        }
    }
}

#endif /* EDGEAI_X86_AVX512_PANEL_H */
