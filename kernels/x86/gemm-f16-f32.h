/* f16 weights x f32 activations, an m x n tile: s[i*lds + j] = dot(w row j, a row i). Included by
 * gemm-f16-f32-avx2.c and gemm-f16-f32-avx512vnni.c, the same ymm code: ea_matmul takes a gemm only
 * if it is of the best dot's ISA, so on an AVX-512 host, with the avx2 build alone, f16 linear
 * layers ran on the avx512vnni dot. Zen 4, 1 thread, (m x 2048) @ (2048 x 2048)^T, tile vs that
 * dot: m = 64 5.3 vs 9.7 ms, m = 8 0.65 vs 1.19, m = 3 0.25 vs 0.45 (the two builds of the tile run
 * alike). Attention took the tile on every x86 host already (llama-forward.c).
 *
 * Built for attention over an f16 KV cache (kernels/model/llama-forward.c), where the activation rows
 * are the m = 1..4 query heads of one GQA group and the weight rows are either K rows (scores:
 * k = head_dim, n = positions) or V^T rows (weighted sum: k = positions, n = head_dim, row stride
 * n_ctx * 2 bytes), and for f16-weight linear layers (m = 1 decode, m = many prefill).
 *
 * Each 8-element chunk of a weight row is converted once (vcvtph2ps, exact) and multiply-added into
 * the accumulators of all R activation rows of the tile; C weight rows are in flight. Tiles
 * (R x C accumulators, <= 12 of the 16 ymm registers): 1 x 8, 2 x 6, 3 x 4, 4 x 3; the last
 * columns of a row group take a narrower tile of the same R.
 *
 * Precision and determinism: every output has exactly one float32 accumulator (8 lanes, chunk t in
 * lane t % 8); the k % 8 tail is one more chunk, zero-padded copies of both rows, so no row is read
 * past its k elements. The 8 lanes are reduced by the same tree for every output
 * ((l0+l1)+(l2+l3)) + ((l4+l5)+(l6+l7)), done for 4 outputs at once by the transposed horizontal add. So a result depends only on its two rows and k, never on m, n, the
 * tile it falls in or the thread count. */
#ifndef EDGEAI_X86_GEMM_F16_F32_H
#define EDGEAI_X86_GEMM_F16_F32_H
#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "needs avx2+fma+f16c"
#endif
#include <immintrin.h>
#include <string.h>
#include "../blocks.h"

#define EA_FORCE_INLINE static inline __attribute__((always_inline))
/* the row / column loops of a tile must unroll completely, or the accumulators live on the stack */
#define EA_UNROLL _Pragma("GCC unroll 8")

/* The 4 lane sums of v0..v3 in one vector: [sum v0, sum v1, sum v2, sum v3]. */
EA_FORCE_INLINE __m128 hsum4(__m256 v0, __m256 v1, __m256 v2, __m256 v3) {
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(v0, v1), _mm256_hadd_ps(v2, v3));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

/* Rows a[0..R) against weight rows w[0..C) over k; writes s[r*lds + c]. R, C are constants at every
 * call site, so each (R, C) compiles to its own fully unrolled register tile. */
EA_FORCE_INLINE void tile(const int R, const int C, int64_t k, float *s, int64_t lds, const char *wb, size_t ws,
                          const char *ab, size_t as) {
    const ea_fp16 *w[8];
    const float *a[4];
    EA_UNROLL
    for (int c = 0; c < C; c++) w[c] = (const ea_fp16 *)(wb + (size_t)c * ws);
    EA_UNROLL
    for (int r = 0; r < R; r++) a[r] = (const float *)(ab + (size_t)r * as);
    __m256 acc[4][8];
    EA_UNROLL
    for (int r = 0; r < R; r++)
        EA_UNROLL
        for (int c = 0; c < C; c++) acc[r][c] = _mm256_setzero_ps();
    const int64_t k8 = k & ~(int64_t)7;
    int64_t t = 0;
    for (; t < k8; t += 8) {
        __m256 av[4];
        EA_UNROLL
        for (int r = 0; r < R; r++) av[r] = _mm256_loadu_ps(a[r] + t);
        EA_UNROLL
        for (int c = 0; c < C; c++) {
            const __m256 wv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w[c] + t)));
            EA_UNROLL
            for (int r = 0; r < R; r++) acc[r][c] = _mm256_fmadd_ps(wv, av[r], acc[r][c]);
        }
    }
    if (k8 < k) {
        /* the last k % 8 elements, copied into zero-padded chunks: exact, and nothing past k is read.
         * (Not vmaskmovps: qemu-user 7.2 faults on its masked-off lanes past a row at a page end.) */
        const int rem = (int)(k - k8);
        __m256 av[4];
        EA_UNROLL
        for (int r = 0; r < R; r++) {
            float abuf[8] = {0};
            memcpy(abuf, a[r] + k8, (size_t)rem * sizeof(float));
            av[r] = _mm256_loadu_ps(abuf);
        }
        EA_UNROLL
        for (int c = 0; c < C; c++) {
            ea_fp16 buf[8] = {0};
            memcpy(buf, w[c] + k8, (size_t)rem * sizeof(ea_fp16));
            const __m256 wv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)buf));
            EA_UNROLL
            for (int r = 0; r < R; r++) acc[r][c] = _mm256_fmadd_ps(wv, av[r], acc[r][c]);
        }
    }
    const __m256 z = _mm256_setzero_ps();
    EA_UNROLL
    for (int r = 0; r < R; r++) {
        float *o = s + r * lds;
        EA_UNROLL
        for (int c0 = 0; c0 < C; c0 += 4) {
            const __m128 v = hsum4(acc[r][c0], c0 + 1 < C ? acc[r][c0 + 1] : z, c0 + 2 < C ? acc[r][c0 + 2] : z,
                                   c0 + 3 < C ? acc[r][c0 + 3] : z);
            if (c0 + 4 <= C) {
                _mm_storeu_ps(o + c0, v);
            } else {
                float tmp[4];
                _mm_storeu_ps(tmp, v);
                EA_UNROLL
                for (int c = c0; c < C; c++) o[c] = tmp[c - c0];
            }
        }
    }
}

/* Columns [0, n) for one group of R rows: whole tiles of CW columns, then one narrower tile. */
#define EA_ROW_GROUP(R, CW)                                                                           \
    do {                                                                                              \
        int64_t j = 0;                                                                                \
        for (; j + (CW) <= n; j += (CW)) tile(R, CW, k, si + j, lds, wb + (size_t)j * ws, ws, ab, as); \
        switch (n - j) {                                                                              \
        case 7: tile(R, 7, k, si + j, lds, wb + (size_t)j * ws, ws, ab, as); break;                    \
        case 6: tile(R, 6, k, si + j, lds, wb + (size_t)j * ws, ws, ab, as); break;                    \
        case 5: tile(R, 5, k, si + j, lds, wb + (size_t)j * ws, ws, ab, as); break;                    \
        case 4: tile(R, 4, k, si + j, lds, wb + (size_t)j * ws, ws, ab, as); break;                    \
        case 3: tile(R, 3, k, si + j, lds, wb + (size_t)j * ws, ws, ab, as); break;                    \
        case 2: tile(R, 2, k, si + j, lds, wb + (size_t)j * ws, ws, ab, as); break;                    \
        case 1: tile(R, 1, k, si + j, lds, wb + (size_t)j * ws, ws, ab, as); break;                    \
        default: break;                                                                               \
        }                                                                                             \
    } while (0)

/* The kernel body (ea_gemm_fn contract); each ISA file defines its named function with it. */
static inline __attribute__((always_inline)) void ea_gemm_f16_f32_tiles(int64_t k, int64_t m, int64_t n, float *s,
                                                                        int64_t lds, const void *w, size_t ws,
                                                                        const void *a, size_t as) {
    const char *wb = (const char *)w;
    if (k <= 0) { /* empty sums (the API asks for k > 0; be safe anyway) */
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) s[i * lds + j] = 0.0f;
        return;
    }
    for (int64_t i = 0; i < m;) {
        const char *ab = (const char *)a + (size_t)i * as;
        float *si = s + i * lds;
        const int64_t left = m - i;
        /* 5 rows go 3 + 2 rather than 4 + 1: the 1-row tile converts each weight for one row only */
        if (left >= 4 && left != 5) {
            EA_ROW_GROUP(4, 3);
            i += 4;
        } else if (left >= 3) {
            EA_ROW_GROUP(3, 4);
            i += 3;
        } else if (left == 2) {
            EA_ROW_GROUP(2, 6);
            i += 2;
        } else {
            EA_ROW_GROUP(1, 8);
            i += 1;
        }
    }
}

#endif /* EDGEAI_X86_GEMM_F16_F32_H */
