/* q4_K weights . q8_K activations: the C = 1 case of sse4-kquant.h. */
#if !defined(__SSSE3__) || !defined(__SSE4_1__)
#error "needs ssse3+sse4.1"
#endif
#include "sse4-kquant.h"

void ea_dot_q4_K_q8_K__sse4(int64_t k, float *s, const void *w, const void *a) {
    const block_q8_K *ar[1] = {(const block_q8_K *)a};
    ea128_q4K_rows(1, k / QK_K, (const block_q4_K *)w, ar, s);
}
