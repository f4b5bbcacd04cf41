/* f32 weights . f32 activations: 4 independent FMA accumulators of 16 lanes, masked tail.  */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512VNNI__)
#error "needs avx512f+bw+vl+vnni"
#endif
#include <immintrin.h>
#include "../blocks.h"

static inline __m512 ld(const void *w, int64_t i, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, (const float *)w + i);
}

void ea_dot_f32_f32__avx512vnni(int64_t k, float *s, const void *w, const void *va) {
    const float *a = (const float *)va;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 64 <= k; i += 64) {
        acc0 = _mm512_fmadd_ps(ld(w, i, 0xffff), _mm512_loadu_ps(a + i), acc0);
        acc1 = _mm512_fmadd_ps(ld(w, i + 16, 0xffff), _mm512_loadu_ps(a + i + 16), acc1);
        acc2 = _mm512_fmadd_ps(ld(w, i + 32, 0xffff), _mm512_loadu_ps(a + i + 32), acc2);
        acc3 = _mm512_fmadd_ps(ld(w, i + 48, 0xffff), _mm512_loadu_ps(a + i + 48), acc3);
    }
    for (; i < k; i += 16) {
        const __mmask16 m = k - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (k - i)) - 1u);
        acc0 = _mm512_fmadd_ps(ld(w, i, m), _mm512_maskz_loadu_ps(m, a + i), acc0);
    }
    *s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}
