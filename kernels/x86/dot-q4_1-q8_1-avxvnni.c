/* q4_1 weights . q8_1 activations: avx2-gemm.h compiled with -mavxvnni
 * (vpdpbusd block sums). */
#if !defined(__AVXVNNI__) || !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "needs avx-vnni+avx2+fma+f16c"
#endif
#include "avx2-gemm.h"

void ea_dot_q4_1_q8_1__avxvnni(int64_t k, float *s, const void *w, const void *a) {
    const uint8_t *ar[4] = {(const uint8_t *)a, (const uint8_t *)a, (const uint8_t *)a, (const uint8_t *)a};
    ea256_rows(EA256_Q4_1, 1, k / 32, (const uint8_t *)w, ar, s);
}
