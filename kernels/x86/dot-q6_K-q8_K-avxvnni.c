/* q6_K weights . q8_K activations: the C = 1 case of avx2-kquant.h compiled with -mavxvnni
 * (vpdpwssd applies the sub-block scales). */
#if !defined(__AVXVNNI__) || !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "needs avx-vnni+avx2+fma+f16c"
#endif
#include "avx2-kquant.h"

void ea_dot_q6_K_q8_K__avxvnni(int64_t k, float *s, const void *w, const void *a) {
    const block_q8_K *ar[1] = {(const block_q8_K *)a};
    ea256_q6K_rows(1, k / QK_K, (const block_q6_K *)w, ar, s);
}
