/* q6_K weights . q8_K activations: 6-bit quants rebuilt 32 at a time (0..63, unsigned), one
 * vpmaddubsw and one vpmaddwd against the two 16-element sub-block scales; the -32 offset once per
 * super-block through the activation block sums. ref: ggml-common.h block_q6_K */
#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "needs avx2+fma+f16c"
#endif
#include <immintrin.h>
#include "../blocks.h"

static inline __m256i scale_pair(const int8_t *sc, int j) {
    return _mm256_set_m128i(_mm_set1_epi16(sc[j + 1]), _mm_set1_epi16(sc[j]));
}

void ea_dot_q6_K_q8_K__avx2(int64_t k, float *s, const void *vw, const void *va) {
    const block_q6_K *w = (const block_q6_K *)vw;
    const block_q8_K *a = (const block_q8_K *)va;
    const __m256i m0f = _mm256_set1_epi8(0x0f), m03 = _mm256_set1_epi8(0x03);
    __m256 acc = _mm256_setzero_ps();
    float corr = 0.0f;
    for (int64_t b = 0; b < k / QK_K; b++) {
        const int8_t *sc = w[b].scales;
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
        const __m256i off8 = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)a[b].bsums));
        __m128i o4 = _mm_add_epi32(_mm256_castsi256_si128(off8), _mm256_extracti128_si256(off8, 1));
        o4 = _mm_hadd_epi32(o4, o4);
        o4 = _mm_hadd_epi32(o4, o4);
        const float d = _cvtsh_ss(w[b].d) * a[b].d;
        corr += d * (float)(32 * _mm_cvtsi128_si32(o4));
        __m256i isum = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const __m256i L0 = _mm256_loadu_si256((const __m256i *)(w[b].ql + 64 * h));
            const __m256i L1 = _mm256_loadu_si256((const __m256i *)(w[b].ql + 64 * h + 32));
            const __m256i H = _mm256_loadu_si256((const __m256i *)(w[b].qh + 32 * h));
            const int8_t *aq = a[b].qs + 128 * h;
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(L0, m0f), _mm256_slli_epi16(_mm256_and_si256(H, m03), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(L1, m0f),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(H, 2), m03), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(L0, 4), m0f),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(H, 4), m03), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(L1, 4), m0f),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(H, 6), m03), 4));
            for (int i = 0; i < 4; i++) {
                const __m256i p = _mm256_maddubs_epi16(q[i], _mm256_loadu_si256((const __m256i *)(aq + 32 * i)));
                isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, scale_pair(sc, 8 * h + 2 * i)));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(d), acc);
    }
    __m128 r = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    *s = _mm_cvtss_f32(r) - corr;
}
