/* q2_K weights x q8_K activations, an m x n tile: avx2-kquant.h compiled with -mavxvnni
 * (vpdpwssd applies the sub-block scales). */
#if !defined(__AVXVNNI__) || !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "needs avx-vnni+avx2+fma+f16c"
#endif
#include "avx2-kquant.h"

void ea_gemm_q2_K_q8_K__avxvnni(int64_t k, int64_t m, int64_t n, float *s, int64_t lds, const void *w, size_t ws,
                           const void *a, size_t as) {
    EA256_KQ_GEMM(ea256_q2K_rows, block_q2_K, k, m, n, s, lds, w, ws, a, as);
}
