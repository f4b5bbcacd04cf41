/* AVX-512 VNNI "weight stream" matmul engine for the 32-element block formats (q4_0, q4_1, q8_0).
 *
 * Idea: a row of weight blocks is read as a plain byte stream, 64 bytes (one zmm) at a time, with
 * no shuffles. It works because in these formats every 32-bit lane of the stream holds quant bytes
 * of ONE block only: q4_0 blocks are 18 bytes (pairs = 36 = 9 lanes; the lane that straddles the
 * pair's middle holds 2 quant bytes of the first block and the fp16 d of the second), q8_0 blocks
 * are 34 bytes (pairs = 68 = 17 lanes, same pattern), q4_1 blocks are 20 bytes (5 whole lanes).
 * The activations are rearranged once per call into the same stream layout ("prep"): the byte under
 * each weight quant byte is the activation element it multiplies, and under the fp16 header bytes
 * it is 0, so vpdpbusd on (weight stream, activation stream) gives per-lane partial sums of a
 * single block each. The per-lane scale d_w * d_a is then applied in float: d_w words are moved
 * to their lanes with one vpermt2w over (previous chunk, this chunk), d_a comes from the prep.
 * No horizontal sums inside the K loop; one reduce per output.
 *
 * Per 64-byte chunk of q4_0 weights and per activation row: 2 vpdpbusd, 1 cvt, 1 mul, 1 fma; the
 * nibble split, d_w permute and convert are shared by up to EA512_C activation rows.
 *
 * unsigned x signed: vpdpbusd multiplies u8 (weights) by s8 (activations), so
 *   q4_0: sum((q - 8) a) = sum(q a) - 8 sum(a)         (q = nibble, 0..15)
 *   q8_0: sum(w a)       = sum((w ^ 0x80) a) - 128 sum(a)   (w ^ 0x80 = w + 128 as u8)
 *   q4_1: sum((d q + m) d_a a) = d d_a sum(q a) + m s   (s = d_a sum(a), stored in q8_1); the
 *         m s term rides on the block's d|m lane, which holds no quants (see ea512_prep)
 * The integer correction (-8 or -128 times sum(a)) is precomputed per block in the prep and starts
 * the accumulator of the block's first lane. Integer block sums are exact; only the float
 * summation order differs from the reference.
 *
 * Work is done in K segments of at most EA512_SEG chunks so the prep lives on the stack (no heap,
 * no failure path); partial sums of segments are added to the output in segment order. */
#ifndef EDGEAI_X86_AVX512_STREAM_H
#define EDGEAI_X86_AVX512_STREAM_H

#include <immintrin.h>
#include <pthread.h>
#include <stdalign.h>
#include <string.h>
#include "../blocks.h"

#define EA512_SEG 32   /* chunks (64 B of weights each) per K segment: 4 x 8 KiB of prep on the stack */
#define EA512_C 4      /* activation rows sharing one pass over a weight row */

enum { EA512_CORR = 0, EA512_MIN = 1 };

typedef struct {
    int B;       /* bytes per weight block */
    int qoff;    /* offset of the quants in the weight block */
    int nib;     /* 1: 4-bit quants (low nibble = element i, high = i + 16); 0: 8-bit */
    int kind;    /* EA512_CORR: integer correction corr * sum(a); EA512_MIN: m * s term */
    int corr;    /* -8 (q4_0) or -128 (q8_0) */
    int AB;      /* bytes per activation block (34: q8_0, 36: q8_1) */
    int aqoff;   /* offset of the quants in the activation block */
} ea512_fmt;

/* Word index (into the 64 words of [previous chunk, this chunk]) of the fp16 at byte dp, for chunk t. */
static inline uint16_t ea512_word(int64_t dp, int64_t t) {
    return dp < 64 * t ? (uint16_t)((dp - 64 * (t - 1)) / 2) : (uint16_t)(32 + (dp - 64 * t) / 2);
}

/* Permute indices of chunk t (32 words, the upper 16 unused): word of the d of each lane's block.
 * Lanes without quants point at a real fp16 of the row so their scale stays finite: for q4_1 the
 * lane holding the block's d and m points at m (that lane carries m * s, see ea512_prep), others
 * (header-only, past the row end) at a d (their integer sum is 0). */
static inline void ea512_chunk_idx(const ea512_fmt *f, int64_t nb, int64_t t, uint16_t *idx) {
    for (int l = 0; l < 32; l++) {
        int64_t L = 16 * t + (l & 15), owner = -1;
        for (int q = 0; q < 4 && owner < 0; q++) {
            int64_t p = 4 * L + q, b = p / f->B;
            if (b >= nb) break;
            if (p % f->B >= f->qoff) owner = b;
        }
        int dw = 0;
        if (owner < 0) {
            owner = (4 * L) / f->B;
            if (f->kind == EA512_MIN && owner < nb && 4 * L == owner * f->B) dw = 2; /* the d|m lane */
        }
        if (owner >= nb) owner = nb - 1;
        idx[l] = ea512_word(owner * f->B + dw, t);
    }
}

/* The chunk pattern repeats every P = lcm(64, B) / 64 chunks (a period starts on a block
 * boundary, so chunk 0 never reads the previous chunk). A period's tables are computed once per
 * format (tab, EA512_PMAX x 32 words); only the row's last chunk needs its own. */
#define EA512_PMAX 17
static inline int ea512_period(const ea512_fmt *f) {
    int p = 1;
    while ((64 * p) % f->B) p++;
    return p;
}

static inline void ea512_period_tables(const ea512_fmt *f, uint16_t *tab) {
    for (int t = 0; t < ea512_period(f); t++) ea512_chunk_idx(f, (int64_t)1 << 40, t, tab + 32 * t);
}

/* Prepped activations of one row for one K segment (chunks [t0, t0+ns)), in the weight-stream
 * layout: lo / hi: activation bytes under low nibbles (or bytes) / high nibbles, 0 under headers;
 * da: d_a per lane (f32); ex: int32 start of each lane's sum: the correction (CORR) on the block's
 * first quant lane, or (MIN) 1 on the block's d|m lane, whose da is s. */
typedef struct {
    alignas(64) int8_t lo[EA512_SEG * 64];
    alignas(64) int8_t hi[EA512_SEG * 64];
    alignas(64) float da[EA512_SEG * 16];
    alignas(64) int32_t ex[EA512_SEG * 16];
} ea512_prep_t;

static inline void ea512_prep(const ea512_fmt *f, const uint8_t *arow, int64_t nb, int64_t t0, int ns, ea512_prep_t *P) {
    const int64_t p0 = 64 * t0, p1 = p0 + 64 * (int64_t)ns;
    int64_t b0 = p0 / f->B, b1 = (p1 + f->B - 1) / f->B;
    if (b1 > nb) b1 = nb;
    const int nq = f->nib ? 16 : 32;
    memset(P->lo, 0, (size_t)ns * 64);
    if (f->nib) memset(P->hi, 0, (size_t)ns * 64);
    memset(P->da, 0, (size_t)ns * 64);
    memset(P->ex, 0, (size_t)ns * 64);
    for (int64_t b = b0; b < b1; b++) {
        const uint8_t *ab = arow + b * f->AB;
        const int8_t *qs = (const int8_t *)(ab + f->aqoff);
        ea_fp16 dh;
        memcpy(&dh, ab, 2);
        const float da = ea_fp16_to_f32(dh);
        const int64_t base = b * f->B + f->qoff;
        if (base >= p0 && base + nq <= p1) {
            /* whole block inside the segment (all but a few at segment edges) */
            memcpy(P->lo + (base - p0), qs, (size_t)nq);
            if (f->nib) memcpy(P->hi + (base - p0), qs + 16, 16);
        } else {
            for (int i = 0; i < nq; i++) {
                int64_t p = base + i;
                if (p < p0 || p >= p1) continue;
                P->lo[p - p0] = qs[i];
                if (f->nib) P->hi[p - p0] = qs[i + 16];
            }
        }
        for (int64_t L = base / 4; L <= (base + nq - 1) / 4; L++)
            if (4 * L >= p0 && 4 * L < p1) P->da[L - 16 * t0] = da;
        const int64_t Le = (f->kind == EA512_CORR ? base : b * f->B + 2) / 4; /* lane of the extra term */
        if (4 * Le >= p0 && 4 * Le < p1) {
            if (f->kind == EA512_CORR) {
                const __m256i q = _mm256_loadu_si256((const __m256i *)qs);
                /* sum of 32 int8: sad against 0 on q ^ 0x80 gives sum(q + 128) per 8 bytes */
                const __m256i sad = _mm256_sad_epu8(_mm256_xor_si256(q, _mm256_set1_epi8((char)0x80)), _mm256_setzero_si256());
                const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(sad), _mm256_extracti128_si256(sad, 1));
                const int32_t sum = (int32_t)(_mm_cvtsi128_si64(s2) + _mm_extract_epi64(s2, 1)) - 32 * 128;
                P->ex[Le - 16 * t0] = sum * f->corr;
            } else {
                /* q4_1: the d|m lane has no quants; an integer 1 there, times the lane's scale
                 * (permuted m) x (s in place of d_a), adds m * s with the same FMA */
                ea_fp16 sh;
                memcpy(&sh, ab + 2, 2);
                P->ex[Le - 16 * t0] = 1;
                P->da[Le - 16 * t0] = ea_fp16_to_f32(sh);
            }
        }
    }
}

/* One weight row against C (1..EA512_C) prepped activation rows, chunks [t0, t0+ns).
 * tab: period tables; last: the table of the row's last chunk. */
static inline __attribute__((always_inline)) void ea512_row(const ea512_fmt *f, const int C, const uint8_t *wr,
                                                            int64_t nch, __mmask64 tail, int64_t t0, int ns,
                                                            const uint16_t *tab, const uint16_t *last,
                                                            const ea512_prep_t *P, float *out) {
    const __m512i m0f = _mm512_set1_epi8(0x0f), m80 = _mm512_set1_epi8((char)0x80);
    const int per = ea512_period(f);
    __m512 acc[EA512_C];
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) acc[r] = _mm512_setzero_ps();
    __m512i prev = t0 > 0 ? _mm512_loadu_si512(wr + 64 * (t0 - 1)) : _mm512_setzero_si512();
    int ph = (int)(t0 % per);
    for (int c = 0; c < ns; c++) {
        const int64_t t = t0 + c;
        const int is_last = t == nch - 1;
        const __m512i v = (is_last && tail) ? _mm512_maskz_loadu_epi8(tail, wr + 64 * t) : _mm512_loadu_si512(wr + 64 * t);
        /* software prefetch 4 KiB ahead (cold 4096x4096 GEMV: 58% -> ~70% of the read bandwidth vs
         * 1 KiB); rows of a tile are contiguous, so it runs on into the next rows */
        _mm_prefetch((const char *)(wr + 64 * t + 4096), _MM_HINT_T0);
        const uint16_t *ix = is_last ? last : tab + 32 * ph;
        const __m512 dw = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutex2var_epi16(prev, _mm512_loadu_si512(ix), v)));
        __m512i lo, hi = _mm512_setzero_si512();
        if (f->nib) {
            lo = _mm512_and_si512(v, m0f);
            hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m0f);
        } else {
            lo = _mm512_xor_si512(v, m80);
        }
#pragma GCC unroll 4
        for (int r = 0; r < C; r++) {
            __m512i s = _mm512_load_si512(P[r].ex + 16 * c);
            s = _mm512_dpbusd_epi32(s, lo, _mm512_load_si512(P[r].lo + 64 * c));
            if (f->nib) s = _mm512_dpbusd_epi32(s, hi, _mm512_load_si512(P[r].hi + 64 * c));
            const __m512 sc = _mm512_mul_ps(dw, _mm512_load_ps(P[r].da + 16 * c));
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), sc, acc[r]);
        }
        prev = v;
        if (++ph == per) ph = 0;
    }
#pragma GCC unroll 4
    for (int r = 0; r < C; r++) out[r] = _mm512_reduce_add_ps(acc[r]);
}

/* The ea_gemm_fn contract: s[i*lds + j] = dot(w row j, a row i), i < m, j < n.
 * tab: the format's period tables (ea512_period_tables). */
static inline __attribute__((always_inline)) void ea512_stream_gemm(const ea512_fmt *f, const uint16_t *tab,
                                                                    int64_t k, int64_t m, int64_t n, float *s,
                                                                    int64_t lds, const void *w, size_t ws,
                                                                    const void *a, size_t as) {
    ea512_prep_t P[EA512_C];
    alignas(64) uint16_t last[32];
    const int64_t nb = k / 32, rowbytes = nb * f->B, nch = (rowbytes + 63) / 64;
    const __mmask64 tail = (rowbytes & 63) ? (((__mmask64)1 << (rowbytes & 63)) - 1) : 0;
    ea512_chunk_idx(f, nb, nch - 1, last);
    for (int64_t i0 = 0; i0 < m; i0 += EA512_C) {
        const int C = m - i0 < EA512_C ? (int)(m - i0) : EA512_C;
        for (int64_t t0 = 0; t0 < nch; t0 += EA512_SEG) {
            const int ns = nch - t0 < EA512_SEG ? (int)(nch - t0) : EA512_SEG;
            for (int r = 0; r < C; r++) ea512_prep(f, (const uint8_t *)a + (size_t)(i0 + r) * as, nb, t0, ns, &P[r]);
            for (int64_t j = 0; j < n; j++) {
                const uint8_t *wr = (const uint8_t *)w + (size_t)j * ws;
                float out[EA512_C];
                switch (C) {
                case 1: ea512_row(f, 1, wr, nch, tail, t0, ns, tab, last, P, out); break;
                case 2: ea512_row(f, 2, wr, nch, tail, t0, ns, tab, last, P, out); break;
                case 3: ea512_row(f, 3, wr, nch, tail, t0, ns, tab, last, P, out); break;
                default: ea512_row(f, 4, wr, nch, tail, t0, ns, tab, last, P, out); break;
                }
                for (int r = 0; r < C; r++) {
                    float *y = &s[(i0 + r) * lds + j];
                    *y = t0 == 0 ? out[r] : *y + out[r];
                }
            }
        }
    }
}

/* Defines, in a variant file, the format's period tables built once (thread-safe) and a getter. */
#define EA512_TABLES(fmt)                                                              \
    static uint16_t k_tab[EA512_PMAX * 32];                                            \
    static pthread_once_t k_tab_once = PTHREAD_ONCE_INIT;                              \
    static void k_tab_init(void) { ea512_period_tables(&(fmt), k_tab); }               \
    static const uint16_t *tables(void) {                                              \
        pthread_once(&k_tab_once, k_tab_init);                                         \
        return k_tab;                                                                  \
    }

#endif /* EDGEAI_X86_AVX512_STREAM_H */
