/* float32 -> Q8_1 activations (s = d * sum(qs), d before fp16 rounding), byte-identical to
 * ea_quantize_q8_1__ref. ref: ggml block_q8_1
 * Eight blocks at a time (ea256_q8_blocks8), the last k / 32 % 8 blocks one by one. */
#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "needs avx2+fma+f16c"
#endif
#include "avx2-blocks.h"

void ea_quantize_q8_1__avx2(const float *x, void *vy, int64_t k) {
    block_q8_1 *y = (block_q8_1 *)vy;
    const int64_t nb = k / QK8_1;
    int64_t b = 0;
    for (; b + 8 <= nb; b += 8) {
        __m256 d;
        __m256i sum;
        ea256_q8_blocks8(x + b * QK8_1, y[b].qs, sizeof(block_q8_1), &d, &sum);
        alignas(16) uint16_t h[8], hs[8];
        _mm_store_si128((__m128i *)h, _mm256_cvtps_ph(d, _MM_FROUND_TO_NEAREST_INT));
        /* (float)sum is exact (|sum| <= 32 * 127); one rounded multiply, as the reference */
        _mm_store_si128((__m128i *)hs, _mm256_cvtps_ph(_mm256_mul_ps(_mm256_cvtepi32_ps(sum), d), _MM_FROUND_TO_NEAREST_INT));
        for (int i = 0; i < 8; i++) {
            y[b + i].d = h[i];
            y[b + i].s = hs[i];
        }
    }
    for (; b < nb; b++) {
        int32_t sum;
        const float d = ea256_q8_block(x + b * QK8_1, y[b].qs, &sum);
        y[b].d = ea256_f2h(d);
        y[b].s = ea256_f2h((float)sum * d);
    }
}
