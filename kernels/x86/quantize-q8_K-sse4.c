/* float32 -> Q8_K activations; same rule as quantize-q8_K-avx512vnni.c. ref: ggml block_q8_K */
#if !defined(__SSSE3__) || !defined(__SSE4_1__)
#error "needs ssse3+sse4.1"
#endif
#include <smmintrin.h>
#include <string.h>
#include "../blocks.h"

void ea_quantize_q8_K__sse4(const float *x, void *vy, int64_t k) {
    block_q8_K *y = (block_q8_K *)vy;
    const __m128 sign = _mm_set1_ps(-0.0f);
    for (int64_t b = 0; b < k / QK_K; b++) {
        const float *xb = x + b * QK_K;
        __m128 mx = _mm_setzero_ps();
        for (int i = 0; i < QK_K; i += 4) mx = _mm_max_ps(mx, _mm_andnot_ps(sign, _mm_loadu_ps(xb + i)));
        mx = _mm_max_ps(mx, _mm_movehl_ps(mx, mx));
        const float amax = _mm_cvtss_f32(_mm_max_ss(mx, _mm_movehdup_ps(mx)));
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof(y[b]));
            continue;
        }
        float max = 0.0f;
        for (int i = 0; i < QK_K; i++)
            if (xb[i] == amax || xb[i] == -amax) {
                max = xb[i];
                break;
            }
        const float iscale = -127.0f / max;
        const __m128 vs = _mm_set1_ps(iscale);
        const __m128i lim = _mm_set1_epi32(127);
        for (int i = 0; i < QK_K; i += 16) {
            __m128i q[4];
            __m128i s = _mm_setzero_si128();
            for (int j = 0; j < 4; j++) {
                q[j] = _mm_min_epi32(_mm_cvtps_epi32(_mm_mul_ps(_mm_loadu_ps(xb + i + 4 * j), vs)), lim);
                s = _mm_add_epi32(s, q[j]);
            }
            _mm_storeu_si128((__m128i *)(y[b].qs + i),
                             _mm_packs_epi16(_mm_packs_epi32(q[0], q[1]), _mm_packs_epi32(q[2], q[3])));
            s = _mm_hadd_epi32(s, s);
            s = _mm_hadd_epi32(s, s);
            y[b].bsums[i / 16] = (int16_t)_mm_cvtsi128_si32(s);
        }
        y[b].d = 1.0f / iscale;
    }
}
