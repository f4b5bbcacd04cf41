/* ea_silu_mul (model/act.h) eight lanes at a time, with the bits of the portable four-lane code:
 * see silu_mul-f32-avx512vnni.c (same operations, same order, no FMA). A row's last n % 8 lanes go
 * through zero-padded vectors, as in act.c. */
#if !defined(__AVX2__)
#error "needs avx2"
#endif
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "../model/act.h"
#include "../model/vexp.h" /* the constants */

static inline __m256 exp8(__m256 x) {
    const __m256 magic = _mm256_set1_ps(EA_VEXP_MAGIC);
    const __m256 t = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), magic);
    const __m256 n = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(0.693359375f)));
    r = _mm256_sub_ps(r, _mm256_mul_ps(n, _mm256_set1_ps(-2.12194440e-4f)));
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(5.0000001201e-1f));
    const __m256 er = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(p, _mm256_mul_ps(r, r)), r), _mm256_set1_ps(1.0f));
    const __m256i e = _mm256_slli_epi32(
        _mm256_add_epi32(_mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(EA_VEXP_MAGIC_BITS)),
                         _mm256_set1_epi32(127)),
        23);
    /* ordered compares: 0 for NaN, so a NaN goes through as in vexp.h */
    const __m256 low = _mm256_cmp_ps(x, _mm256_set1_ps(EA_VEXP_LO), _CMP_LT_OQ);
    const __m256 high = _mm256_cmp_ps(x, _mm256_set1_ps(EA_VEXP_HI), _CMP_GT_OQ);
    const __m256 y = _mm256_andnot_ps(_mm256_or_ps(low, high), _mm256_mul_ps(er, _mm256_castsi256_ps(e)));
    return _mm256_or_ps(y, _mm256_and_ps(high, _mm256_set1_ps(__builtin_inff())));
}

static inline __m256 silu_mul8(__m256 g, __m256 u) {
    const __m256 neg = _mm256_xor_ps(g, _mm256_set1_ps(-0.0f));
    return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), exp8(neg))), u);
}

void ea_silu_mul__avx2(float *g, const float *u, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(g + i, silu_mul8(_mm256_loadu_ps(g + i), _mm256_loadu_ps(u + i)));
    if (i < n) {
        float gb[8] = {0}, ub[8] = {0};
        memcpy(gb, g + i, (size_t)(n - i) * sizeof(float));
        memcpy(ub, u + i, (size_t)(n - i) * sizeof(float));
        _mm256_storeu_ps(gb, silu_mul8(_mm256_loadu_ps(gb), _mm256_loadu_ps(ub)));
        memcpy(g + i, gb, (size_t)(n - i) * sizeof(float));
    }
}
