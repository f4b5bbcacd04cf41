/* q4_K weights . q8_K activations: the C = 1 case of avx2-kquant.h's template, compiled with
 * AVX-512 VNNI + VL (see gemm-q4_K-q8_K-avx512vnni.c). */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512VNNI__)
#error "needs avx512f+bw+vl+vnni"
#endif
#include "avx2-kquant.h"

void ea_dot_q4_K_q8_K__avx512vnni(int64_t k, float *s, const void *w, const void *a) {
    const block_q8_K *ar[1] = {(const block_q8_K *)a};
    ea256_q4K_rows(1, k / QK_K, (const block_q4_K *)w, ar, s);
}
