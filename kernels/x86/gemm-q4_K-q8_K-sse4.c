/* q4_K weights x q8_K activations, an m x n tile: each weight super-block unpacked once per 4
 * activation rows (sse4-kquant.h). */
#if !defined(__SSSE3__) || !defined(__SSE4_1__)
#error "needs ssse3+sse4.1"
#endif
#include "sse4-kquant.h"

void ea_gemm_q4_K_q8_K__sse4(int64_t k, int64_t m, int64_t n, float *s, int64_t lds, const void *w, size_t ws,
                           const void *a, size_t as) {
    for (int64_t i0 = 0; i0 < m; i0 += 4) {
        const int C = m - i0 < 4 ? (int)(m - i0) : 4;
        const block_q8_K *ar[4];
        for (int r = 0; r < 4; r++) ar[r] = (const block_q8_K *)((const uint8_t *)a + (size_t)(i0 + (r < C ? r : 0)) * as);
        for (int64_t j = 0; j < n; j++) {
            const block_q4_K *wr = (const block_q4_K *)((const uint8_t *)w + (size_t)j * ws);
            float out[4];
            switch (C) {
            case 1: ea128_q4K_rows(1, k / QK_K, wr, ar, out); break;
            case 2: ea128_q4K_rows(2, k / QK_K, wr, ar, out); break;
            case 3: ea128_q4K_rows(3, k / QK_K, wr, ar, out); break;
            default: ea128_q4K_rows(4, k / QK_K, wr, ar, out); break;
            }
            for (int r = 0; r < C; r++) s[(i0 + r) * lds + j] = out[r];
        }
    }
}
