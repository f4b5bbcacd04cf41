/* f16 x f32 tile GEMM (gemm-f16-f32.h), avx512vnni build. */
#include "gemm-f16-f32.h"

void ea_gemm_f16_f32__avx512vnni(int64_t k, int64_t m, int64_t n, float *s, int64_t lds, const void *w, size_t ws,
                           const void *a, size_t as) {
    ea_gemm_f16_f32_tiles(k, m, n, s, lds, w, ws, a, as);
}
