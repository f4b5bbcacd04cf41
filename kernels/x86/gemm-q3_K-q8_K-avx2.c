/* q3_K weights x q8_K activations, an m x n tile: each weight super-block unpacked once per 4
 * activation rows (avx2-kquant.h). */
#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "needs avx2+fma+f16c"
#endif
#include "avx2-kquant.h"

void ea_gemm_q3_K_q8_K__avx2(int64_t k, int64_t m, int64_t n, float *s, int64_t lds, const void *w, size_t ws,
                           const void *a, size_t as) {
    EA256_KQ_GEMM(ea256_q3K_rows, block_q3_K, k, m, n, s, lds, w, ws, a, as);
}
