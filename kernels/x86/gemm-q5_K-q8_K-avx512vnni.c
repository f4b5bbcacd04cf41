/* q5_K weights x q8_K activations, an m x n tile: avx2-kquant.h's template compiled with AVX-512
 * VNNI + VL, as q4_K (see gemm-q4_K-q8_K-avx512vnni.c). */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512VNNI__)
#error "needs avx512f+bw+vl+vnni"
#endif
#include "avx2-kquant.h"

void ea_gemm_q5_K_q8_K__avx512vnni(int64_t k, int64_t m, int64_t n, float *s, int64_t lds, const void *w,
                                 size_t ws, const void *a, size_t as) {
    EA256_KQ_GEMM(ea256_q5K_rows, block_q5_K, k, m, n, s, lds, w, ws, a, as);
}
