/* q5_1 weights x q8_1 activations, an m x n tile (sse4-blocks.h). */
#if !defined(__SSSE3__) || !defined(__SSE4_1__)
#error "needs ssse3+sse4.1"
#endif
#include "sse4-blocks.h"

void ea_gemm_q5_1_q8_1__sse4(int64_t k, int64_t m, int64_t n, float *s, int64_t lds, const void *w, size_t ws,
                        const void *a, size_t as) {
    ea128_gemm(EA128_Q5_1, k, m, n, s, lds, w, ws, a, as);
}
