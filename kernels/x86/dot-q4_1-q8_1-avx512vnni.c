/* q4_1 weights . q8_1 activations, one row pair: the weight-stream engine (avx512-stream.h) with m = n = 1. */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512VNNI__)
#error "needs avx512f+bw+vl+vnni"
#endif
#include "avx512-stream.h"

static const ea512_fmt k_fmt = {20, 4, 1, EA512_MIN, 0, 36, 4};
EA512_TABLES(k_fmt)

void ea_dot_q4_1_q8_1__avx512vnni(int64_t k, float *s, const void *w, const void *a) {
    ea512_stream_gemm(&k_fmt, tables(), k, 1, 1, s, 1, w, 0, a, 0);
}
