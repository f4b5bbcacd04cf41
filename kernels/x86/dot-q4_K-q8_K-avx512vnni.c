/* q4_K weights . q8_K activations. Per 256-element super-block: the 128 quant bytes are two zmm;
 * their low / high nibbles are regrouped (vshufi64x2) into sub-block order so each vpdpbusd
 * covers 64 contiguous activations; int32 lanes (8 per 32-element sub-block) are scaled by
 * their sub-block's 6-bit scale (vpmulld) and summed in int32 over the super-block, then one
 * FMA with d_w * d_a. The mins term uses the activation block sums: dmin * d_a * sum(m_j * bsum_j).
 * ref: ggml-common.h block_q4_K */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512VNNI__)
#error "needs avx512f+bw+vl+vnni"
#endif
#include <immintrin.h>
#include "../blocks.h"
#include "kquant-scales.h"

void ea_dot_q4_K_q8_K__avx512vnni(int64_t k, float *s, const void *vw, const void *va) {
    const block_q4_K *w = (const block_q4_K *)vw;
    const block_q8_K *a = (const block_q8_K *)va;
    const __m512i m0f = _mm512_set1_epi8(0x0f);
    /* lane l of the scale vector of sub-block pair (2p, 2p+1): 2p + l / 8 */
    const __m512i ix0 = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i two = _mm512_set1_epi32(2);
    __m512 acc = _mm512_setzero_ps();
    float mins = 0.0f;
    for (int64_t b = 0; b < k / QK_K; b++) {
        uint8_t sc[8], mn[8];
        ea_k4_scales(w[b].scales, sc, mn);
        int32_t msum = 0;
        for (int j = 0; j < 8; j++) msum += (int32_t)mn[j] * (a[b].bsums[2 * j] + a[b].bsums[2 * j + 1]);
        const float da = a[b].d;
        mins += ea_fp16_to_f32(w[b].dmin) * da * (float)msum;
        const __m512i sc32 = _mm512_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)sc));
        __m512i isum = _mm512_setzero_si512();
        __m512i ix = ix0;
        for (int g = 0; g < 2; g++) {
            const __m512i v = _mm512_loadu_si512(w[b].qs + 64 * g);
            const __m512i lo = _mm512_and_si512(v, m0f), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m0f);
            const __m512i w0 = _mm512_shuffle_i64x2(lo, hi, 0x44); /* sub-blocks 4g, 4g+1 */
            const __m512i w1 = _mm512_shuffle_i64x2(lo, hi, 0xee); /* sub-blocks 4g+2, 4g+3 */
            const __m512i p0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w0, _mm512_loadu_si512(a[b].qs + 128 * g));
            const __m512i p1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w1, _mm512_loadu_si512(a[b].qs + 128 * g + 64));
            isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(p0, _mm512_permutexvar_epi32(ix, sc32)));
            ix = _mm512_add_epi32(ix, two);
            isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(p1, _mm512_permutexvar_epi32(ix, sc32)));
            ix = _mm512_add_epi32(ix, two);
        }
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(ea_fp16_to_f32(w[b].d) * da), acc);
    }
    *s = _mm512_reduce_add_ps(acc) - mins;
}
