/* q4_K weights . q8_K activations: per 32-element sub-block one vpmaddubsw (nibbles x int8) and
 * one vpmaddwd against the sub-block's scale, int32 sums over the super-block, one FMA with
 * d_w * d_a; mins through the activation block sums. ref: ggml-common.h block_q4_K */
#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "needs avx2+fma+f16c"
#endif
#include <immintrin.h>
#include "../blocks.h"
#include "kquant-scales.h"

void ea_dot_q4_K_q8_K__avx2(int64_t k, float *s, const void *vw, const void *va) {
    const block_q4_K *w = (const block_q4_K *)vw;
    const block_q8_K *a = (const block_q8_K *)va;
    const __m256i m0f = _mm256_set1_epi8(0x0f);
    __m256 acc = _mm256_setzero_ps();
    float mins = 0.0f;
    for (int64_t b = 0; b < k / QK_K; b++) {
        uint8_t sc[8], mn[8];
        ea_k4_scales(w[b].scales, sc, mn);
        int32_t msum = 0;
        for (int j = 0; j < 8; j++) msum += (int32_t)mn[j] * (a[b].bsums[2 * j] + a[b].bsums[2 * j + 1]);
        const float da = a[b].d;
        mins += _cvtsh_ss(w[b].dmin) * da * (float)msum;
        __m256i isum = _mm256_setzero_si256();
        for (int g = 0; g < 4; g++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(w[b].qs + 32 * g));
            const __m256i lo = _mm256_and_si256(v, m0f), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m0f);
            const __m256i p0 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(a[b].qs + 64 * g)));
            const __m256i p1 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(a[b].qs + 64 * g + 32)));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p0, _mm256_set1_epi16(sc[2 * g])));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p1, _mm256_set1_epi16(sc[2 * g + 1])));
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(_cvtsh_ss(w[b].d) * da), acc);
    }
    __m128 r = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    *s = _mm_cvtss_f32(r) - mins;
}
