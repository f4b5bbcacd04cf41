/* q6_K weights x q8_K activations, an m x n tile. m >= 8 (prompt processing): the 16-row panel
 * micro-kernel of avx512-kpanel.h (C harness, Zen 4, 1 thread, 64 x 256 x 4096: 1.66-1.68 ->
 * 0.56 ms). Fewer rows: each weight super-block unpacked once per 4 activation rows
 * (avx512-kquant.h). */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512VNNI__)
#error "needs avx512f+bw+vl+vnni"
#endif
#include "avx512-kquant.h"
#include "avx512-kpanel.h"

void ea_gemm_q6_K_q8_K__avx512vnni(int64_t k, int64_t m, int64_t n, float *s, int64_t lds, const void *w,
                                 size_t ws, const void *a, size_t as) {
    if (m >= EA512_KPANEL_MIN_M)
        ea512_kpanel_gemm(EA512K_Q6K, k, m, n, s, lds, w, ws, a, as);
    else
        EA512_KQ_GEMM(ea512_q6K_rows, block_q6_K, k, m, n, s, lds, w, ws, a, as);
}
