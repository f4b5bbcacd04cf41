/* bf16 weights . f32 activations: 4 independent FMA accumulators of 8 lanes, scalar tail. bf16 -> f32 is a 16-bit shift (exact). */
#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "needs avx2+fma+f16c"
#endif
#include <immintrin.h>
#include "../blocks.h"

static inline __m256 ld(const void *w, int64_t i) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const ea_bf16 *)w + i))), 16));
}

void ea_dot_bf16_f32__avx2(int64_t k, float *s, const void *w, const void *va) {
    const float *a = (const float *)va;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 32 <= k; i += 32) {
        acc0 = _mm256_fmadd_ps(ld(w, i), _mm256_loadu_ps(a + i), acc0);
        acc1 = _mm256_fmadd_ps(ld(w, i + 8), _mm256_loadu_ps(a + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(ld(w, i + 16), _mm256_loadu_ps(a + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(ld(w, i + 24), _mm256_loadu_ps(a + i + 24), acc3);
    }
    for (; i + 8 <= k; i += 8) acc0 = _mm256_fmadd_ps(ld(w, i), _mm256_loadu_ps(a + i), acc0);
    const __m256 acc = _mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3));
    __m128 r = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    float sum = _mm_cvtss_f32(r);
    for (; i < k; i++) sum += ea_bf16_to_f32(((const ea_bf16 *)w)[i]) * a[i];
    *s = sum;
}
