/* f16 weights . f32 activations (SSE: 4 independent mul + add accumulators of 4 lanes, scalar tail). f16 -> f32 by the exact scalar conversion (no F16C). */
#if !defined(__SSSE3__) || !defined(__SSE4_1__)
#error "needs ssse3+sse4.1"
#endif
#include <smmintrin.h>
#include "../blocks.h"

static inline __m128 ld(const void *w, int64_t i) {
    const ea_fp16 *h = (const ea_fp16 *)w + i; /* no F16C on these CPUs: exact scalar conversion */
    return _mm_setr_ps(ea_fp16_to_f32(h[0]), ea_fp16_to_f32(h[1]), ea_fp16_to_f32(h[2]), ea_fp16_to_f32(h[3]));
}

void ea_dot_f16_f32__sse4(int64_t k, float *s, const void *w, const void *va) {
    const float *a = (const float *)va;
    __m128 acc0 = _mm_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 16 <= k; i += 16) {
        acc0 = _mm_add_ps(acc0, _mm_mul_ps(ld(w, i), _mm_loadu_ps(a + i)));
        acc1 = _mm_add_ps(acc1, _mm_mul_ps(ld(w, i + 4), _mm_loadu_ps(a + i + 4)));
        acc2 = _mm_add_ps(acc2, _mm_mul_ps(ld(w, i + 8), _mm_loadu_ps(a + i + 8)));
        acc3 = _mm_add_ps(acc3, _mm_mul_ps(ld(w, i + 12), _mm_loadu_ps(a + i + 12)));
    }
    for (; i + 4 <= k; i += 4) acc0 = _mm_add_ps(acc0, _mm_mul_ps(ld(w, i), _mm_loadu_ps(a + i)));
    __m128 r = _mm_add_ps(_mm_add_ps(acc0, acc1), _mm_add_ps(acc2, acc3));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    float sum = _mm_cvtss_f32(r);
    for (; i < k; i++) sum += ea_fp16_to_f32(((const ea_fp16 *)w)[i]) * a[i];
    *s = sum;
}
