/* q4_K weights x q8_K activations, an m x n tile: each weight super-block unpacked once per 4
 * activation rows (avx512-kquant.h). */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512VNNI__)
#error "needs avx512f+bw+vl+vnni"
#endif
#include "avx512-kquant.h"

void ea_gemm_q4_K_q8_K__avx512vnni(int64_t k, int64_t m, int64_t n, float *s, int64_t lds, const void *w,
                                 size_t ws, const void *a, size_t as) {
    EA512_KQ_GEMM(ea512_q4K_rows, block_q4_K, k, m, n, s, lds, w, ws, a, as);
}
