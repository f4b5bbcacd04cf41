/* q5_0 weights . q8_0 activations, one row pair (sse4-blocks.h). */
#if !defined(__SSSE3__) || !defined(__SSE4_1__)
#error "needs ssse3+sse4.1"
#endif
#include "sse4-blocks.h"

void ea_dot_q5_0_q8_0__sse4(int64_t k, float *s, const void *w, const void *a) {
    const uint8_t *ar[4] = {(const uint8_t *)a, (const uint8_t *)a, (const uint8_t *)a, (const uint8_t *)a};
    ea128_rows(EA128_Q5_0, 1, k / 32, (const uint8_t *)w, ar, s);
}
