/* q5_1 weights x q8_1 activations, an m x n tile: avx2-gemm.h compiled with -mavxvnni
 * (vpdpbusd into int32, no 16-bit sums). */
#if !defined(__AVXVNNI__) || !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "needs avx-vnni+avx2+fma+f16c"
#endif
#include "avx2-gemm.h"

void ea_gemm_q5_1_q8_1__avxvnni(int64_t k, int64_t m, int64_t n, float *s, int64_t lds, const void *w, size_t ws,
                           const void *a, size_t as) {
    ea256_gemm(EA256_Q5_1, k, m, n, s, lds, w, ws, a, as);
}
