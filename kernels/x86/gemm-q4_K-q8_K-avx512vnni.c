/* q4_K weights x q8_K activations, an m x n tile. m >= 8 (prompt processing): the 16-row panel
 * micro-kernel of avx512-kpanel.h. Fewer rows: avx2-kquant.h's template (each weight super-block
 * unpacked once per 4 activation rows, sub-block scales by vpmaddwd + vpdpwssd), compiled with
 * AVX-512 VNNI + VL so that vpdpwssd is the EVEX ymm form.
 * The template replaced a zmm kernel (dpbusd per 64 bytes, vpmulld by the sub-block scales,
 * cross-lane shuffles to regroup the nibbles) that measured slower on Zen 4 (C harness, 1 thread,
 * same process): q4_K 512 x 4096 GEMV from L2 15.0 -> 18.8 GB/s, 4096 x 4096 from memory 9.2 ->
 * 11.7, m = 4 5.9 -> 8.7, m = 64 x 256 x 4096 1.60 -> 1.08 ms; q5_K 1.0-1.05x at m = 1, 1.27x at
 * m = 4 and 64. The panel then took m = 64 x 256 x 4096 from 1.08-1.10 to 0.44-0.47 ms (~290
 * GFLOP/s). Not measured on an Intel AVX-512 CPU. */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512VNNI__)
#error "needs avx512f+bw+vl+vnni"
#endif
#include "avx2-kquant.h"
#include "avx512-kpanel.h"

void ea_gemm_q4_K_q8_K__avx512vnni(int64_t k, int64_t m, int64_t n, float *s, int64_t lds, const void *w,
                                 size_t ws, const void *a, size_t as) {
    if (m >= EA512_KPANEL_MIN_M)
        ea512_kpanel_gemm(EA512K_Q4K, k, m, n, s, lds, w, ws, a, as);
    else
        EA256_KQ_GEMM(ea256_q4K_rows, block_q4_K, k, m, n, s, lds, w, ws, a, as);
}
