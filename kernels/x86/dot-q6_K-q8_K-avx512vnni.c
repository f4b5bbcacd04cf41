/* q6_K weights . q8_K activations. Per half super-block (128 elements): 64 bytes of low nibbles
 * and 32 bytes of 2-bit highs make two zmm of 6-bit quants (0..63, unsigned) in element order, so
 * each vpdpbusd covers 64 contiguous activations; int32 lanes (4 per 16-element sub-block) are
 * scaled by the sub-block's int8 scale (vpmulld). The -32 offset is applied once per super-block
 * through the activation block sums: 32 * sum(scale_j * bsum_j). ref: ggml-common.h block_q6_K */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512VNNI__)
#error "needs avx512f+bw+vl+vnni"
#endif
#include <immintrin.h>
#include "../blocks.h"

void ea_dot_q6_K_q8_K__avx512vnni(int64_t k, float *s, const void *vw, const void *va) {
    const block_q6_K *w = (const block_q6_K *)vw;
    const block_q8_K *a = (const block_q8_K *)va;
    const __m512i m0f = _mm512_set1_epi8(0x0f), m03 = _mm512_set1_epi8(0x03);
    /* lane l of the scale vector of 64 elements starting at sub-block 4q: 4q + l / 4 */
    const __m512i ix0 = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    const __m512i four = _mm512_set1_epi32(4);
    __m512 acc = _mm512_setzero_ps();
    float corr = 0.0f;
    for (int64_t b = 0; b < k / QK_K; b++) {
        const __m512i sc32 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)w[b].scales));
        const __m512i bs32 = _mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)a[b].bsums));
        const int32_t off = _mm512_reduce_add_epi32(_mm512_mullo_epi32(sc32, bs32));
        const float d = ea_fp16_to_f32(w[b].d) * a[b].d;
        corr += d * (float)(32 * off);
        __m512i isum = _mm512_setzero_si512();
        __m512i ix = ix0;
        for (int h = 0; h < 2; h++) {
            const __m512i L = _mm512_loadu_si512(w[b].ql + 64 * h);
            const __m256i H = _mm256_loadu_si256((const __m256i *)(w[b].qh + 32 * h));
            /* bytes 0..31: qh (bits for elements 0..31), 32..63: qh >> 2 (elements 32..63) */
            const __m512i hz = _mm512_inserti64x4(_mm512_castsi256_si512(H), _mm256_srli_epi16(H, 2), 1);
            const __m512i q0 = _mm512_or_si512(_mm512_and_si512(L, m0f), _mm512_slli_epi16(_mm512_and_si512(hz, m03), 4));
            const __m512i q1 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(L, 4), m0f),
                                               _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(hz, 4), m03), 4));
            const __m512i p0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q0, _mm512_loadu_si512(a[b].qs + 128 * h));
            const __m512i p1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q1, _mm512_loadu_si512(a[b].qs + 128 * h + 64));
            isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(p0, _mm512_permutexvar_epi32(ix, sc32)));
            ix = _mm512_add_epi32(ix, four);
            isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(p1, _mm512_permutexvar_epi32(ix, sc32)));
            ix = _mm512_add_epi32(ix, four);
        }
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(d), acc);
    }
    *s = _mm512_reduce_add_ps(acc) - corr;
}
