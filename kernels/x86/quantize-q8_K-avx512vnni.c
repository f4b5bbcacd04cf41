/* float32 -> Q8_K activations (for the K-quants). ggml's rule: over a 256-element block find the
 * value of largest magnitude `max` (first one on ties), iscale = -127 / max, q = min(127,
 * round-half-even(iscale * x)), d = 1 / iscale, bsums = sums of 16 quants. All-zero block: d = 0.
 * ref: ggml block_q8_K */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512VNNI__)
#error "needs avx512f+bw+vl+vnni"
#endif
#include <immintrin.h>
#include <string.h>
#include "../blocks.h"

void ea_quantize_q8_K__avx512vnni(const float *x, void *vy, int64_t k) {
    block_q8_K *y = (block_q8_K *)vy;
    for (int64_t b = 0; b < k / QK_K; b++) {
        const float *xb = x + b * QK_K;
        __m512 mx = _mm512_setzero_ps();
        for (int i = 0; i < QK_K; i += 16) mx = _mm512_max_ps(mx, _mm512_abs_ps(_mm512_loadu_ps(xb + i)));
        const float amax = _mm512_reduce_max_ps(mx);
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof(y[b]));
            continue;
        }
        float max = 0.0f;
        for (int i = 0; i < QK_K; i++) /* the first element reaching amax, with its sign */
            if (xb[i] == amax || xb[i] == -amax) {
                max = xb[i];
                break;
            }
        const float iscale = -127.0f / max;
        const __m512 vs = _mm512_set1_ps(iscale);
        for (int i = 0; i < QK_K; i += 16) {
            /* cvtps rounds to nearest even under the default MXCSR, like ggml's nearest_int */
            __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(xb + i), vs));
            q = _mm512_min_epi32(q, _mm512_set1_epi32(127));
            _mm_storeu_si128((__m128i *)(y[b].qs + i), _mm512_cvtsepi32_epi8(q));
            y[b].bsums[i / 16] = (int16_t)_mm512_reduce_add_epi32(q);
        }
        y[b].d = 1.0f / iscale;
    }
}
