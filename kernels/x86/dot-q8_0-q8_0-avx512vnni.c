/* q8_0 weights . q8_0 activations, one row pair: the weight-stream engine (avx512-stream.h) with m = n = 1. */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512VNNI__)
#error "needs avx512f+bw+vl+vnni"
#endif
#include "avx512-stream.h"

static const ea512_fmt k_fmt = {34, 2, 0, EA512_CORR, -128, 34, 2};
EA512_TABLES(k_fmt)

void ea_dot_q8_0_q8_0__avx512vnni(int64_t k, float *s, const void *w, const void *a) {
    ea512_stream_gemm(&k_fmt, tables(), k, 1, 1, s, 1, w, 0, a, 0);
}
