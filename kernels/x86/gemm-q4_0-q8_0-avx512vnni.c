/* q4_0 weights x q8_0 activations, an m x n tile: the weight-stream engine (avx512-stream.h)
 * for 2-7 activation rows, the zmm GEMV (avx512-gemv-q4_0.h) for one (avx512-gemv.h's ymm one
 * past its K limit), the 16-row panel micro-kernel (avx512-panel.h) for many. */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512VNNI__)
#error "needs avx512f+bw+vl+vnni"
#endif
#include "avx512-panel.h"
#include "avx512-gemv.h"
#include "avx512-gemv-q4_0.h"

static const ea512_fmt k_fmt = {18, 2, 1, EA512_CORR, -8, 34, 2};
EA512_TABLES(k_fmt)

void ea_gemm_q4_0_q8_0__avx512vnni(int64_t k, int64_t m, int64_t n, float *s, int64_t lds, const void *w,
                              size_t ws, const void *a, size_t as) {
    if (m == 1 && k / 32 <= 16 * EA512_Q4G_MAXS)
        ea512_gemv_q4_0(k, n, s, w, ws, a);
    else if (m == 1)
        ea512_gemv(EA256_Q4_0, k, n, s, w, ws, a);
    else if (m >= EA512_PANEL_MIN_M)
        ea512_panel_gemm(&k_fmt, k, m, n, s, lds, w, ws, a, as);
    else
        ea512_stream_gemm(&k_fmt, tables(), k, m, n, s, lds, w, ws, a, as);
}
